"""Forgot your password? in Chromium on a 390 px phone: from the login page, the link
mailed through a real SMTP server, a new password, logging in with it, and a new name and
username on the Account page."""
import pytest
from playwright.sync_api import expect

from tests.support import new_page, wider_than_screen

pytestmark = pytest.mark.browser

NEW = "a brand new password"


def test_a_person_who_forgot_their_password_sets_a_new_one_from_the_mailed_link(
    browser, browser_context_args, live_server, make_user, smtp, assert_accessible,
):
    person = make_user(name="Pat Forgetful", email="pat@example.com")
    context, page = new_page(browser, {**browser_context_args, "viewport": {"width": 390, "height": 844}})
    try:
        page.goto(f"{live_server}/login")
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        assert_accessible(page)
        page.get_by_label("Email").fill("pat@example.com")
        page.get_by_role("button", name="Email me a link").click()
        expect(page.locator("main")).to_contain_text("If an account uses pat@example.com, we emailed it a link")

        [message] = [m for m in smtp.arrived("pat@example.com") if m["Subject"] == "Choose a new password"]
        [link] = [u for u in smtp.links(message) if "/password/reset/" in u]
        page.goto(link)
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        expect(page.locator("main")).to_contain_text("For the account of pat@example.com")
        assert_accessible(page)
        assert wider_than_screen(page) == []
        page.get_by_label("New password", exact=True).fill(NEW)
        page.get_by_label("Repeat new password").fill(NEW)
        page.get_by_role("button", name="Save the new password").click()
        expect(page.locator("main")).to_contain_text("Your password is changed")

        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password", exact=True).fill(NEW)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("body > header")).to_contain_text("Pat Forgetful")  # logged in

        # The account may have been opened by someone else with this address: its name and
        # username are the owner's to change now.
        page.goto(f"{live_server}/account")
        assert_accessible(page)
        assert wider_than_screen(page) == []
        page.get_by_label("Full name").fill("Pat Remembered")
        page.get_by_role("textbox", name="Username").fill("pat-r")
        page.get_by_role("button", name="Save name and username").click()
        expect(page.locator("main")).to_contain_text("Saved: you are Pat Remembered (@pat-r).")
        expect(page.locator("body > header")).to_contain_text("Pat Remembered")
    finally:
        context.close()
