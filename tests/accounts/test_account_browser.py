"""The account page in a real Chromium: reached from the profile menu, accessible, and
"Log out of all devices" ends the other browser's session too."""
import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.support import new_page

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new password"


def test_the_account_page_changes_the_password_and_logs_out_everywhere(
    page, browser, browser_context_args, live_server, make_user, browser_login, assert_accessible,
):
    person = make_user(name="Ann Lee", email="ann@example.com", verified=False)
    other_context, other = new_page(browser, browser_context_args)
    browser_login(other, person)
    browser_login(page, person)

    page.locator("summary", has_text="Ann Lee").click()  # the profile menu
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("Not confirmed")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("This is not your current password.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#flashes")).to_contain_text("Your password is changed.")
    other.goto(f"{live_server}/account")  # the other browser was logged out
    expect(other).to_have_url(f"{live_server}/login?next=%2Faccount")

    browser_login(other, person, password=NEW_PASSWORD)
    page.get_by_role("button", name="Log out of all devices").click()
    expect(page.get_by_role("heading", name="Log out of all devices?")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Log out everywhere").click()
    expect(page.locator("#flashes")).to_contain_text("You are logged out on every device.")
    other.goto(f"{live_server}/account")
    expect(other).to_have_url(f"{live_server}/login?next=%2Faccount")
    other_context.close()
