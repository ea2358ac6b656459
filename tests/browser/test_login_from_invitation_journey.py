"""From an invitation's page to its answer on a phone, in a real Chromium: "Log in to
accept" opens the login with the invited address filled in and comes back to the
invitation; "Create an account" registers with it, in the browser's time zone. The same
with JavaScript off, where the account's zone stays UTC and every date still renders."""
import pytest
from playwright.sync_api import expect

from invites.accounts.service import find_user_by_email
from invites.extensions import db
from tests.conftest import PASSWORD
from tests.support import new_page, role_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def invitee(request, browser, browser_context_args):
    """A phone in Kolkata, with JavaScript on or off."""
    context, page = new_page(browser, {
        **browser_context_args, "viewport": PHONE, "timezone_id": "Asia/Kolkata",
        "java_script_enabled": request.param,
    })
    page.javascript = request.param
    yield page
    context.close()


def test_log_in_to_accept_then_back_to_the_invitation(invitee, live_server, team, make_user,
                                                     make_invitation, assert_accessible):
    erin = make_user(name="Erin Existing", email="erin@example.com")
    _, token = make_invitation(team.org, team.manager, "erin@example.com")
    invitee.goto(f"{live_server}/i/{token}")
    expires = invitee.locator("article time")
    expect(expires).to_have_text("in 2 weeks")
    assert expires.get_attribute("title").endswith("Coordinated Universal Time")  # logged out: UTC
    invitee.get_by_role("button", name="Log in to accept").click()

    expect(invitee.get_by_text("Log in to answer the invitation to join Acme Training.")).to_be_visible()
    expect(invitee.get_by_label("Email")).to_have_value("erin@example.com")
    if invitee.javascript:  # axe-core runs as a script
        expect(invitee.get_by_label("Password", exact=True)).to_be_focused()
        assert_accessible(invitee)
    invitee.get_by_label("Password", exact=True).fill(PASSWORD)
    invitee.get_by_role("button", name="Log in").click()

    expect(invitee).to_have_url(f"{live_server}/i/{token}")
    invitee.get_by_role("button", name="Accept").click()
    expect(invitee.get_by_text("You joined Acme Training")).to_be_visible()
    assert role_in(team.org, erin) == "member"


def test_create_an_account_from_the_invitation_in_the_browsers_zone(invitee, live_server, team,
                                                                   make_invitation):
    _, token = make_invitation(team.org, team.manager, "newbie@example.com")
    invitee.goto(f"{live_server}/i/{token}")
    invitee.get_by_role("button", name="Create an account").click()
    expect(invitee.get_by_label("Email")).to_have_value("newbie@example.com")
    invitee.get_by_label("Full name").fill("New Bie")
    invitee.get_by_label("Username").fill("newbie")
    invitee.get_by_label("Password", exact=True).fill("long enough password")
    invitee.get_by_label("Repeat password").fill("long enough password")
    invitee.get_by_role("button", name="Create account").click()

    expect(invitee).to_have_url(f"{live_server}/i/{token}")
    db.session.expire_all()
    user = find_user_by_email("newbie@example.com")
    # Chromium reports the older name of the same zone.
    assert user.time_zone in (("Asia/Kolkata", "Asia/Calcutta") if invitee.javascript else ("UTC",))
    expires = invitee.locator("article time")
    expect(expires).to_have_text("in 2 weeks")
    zone_name = "India Standard Time" if invitee.javascript else "Coordinated Universal Time"
    assert invitee.get_attribute("article time", "title").endswith(zone_name)
    invitee.get_by_role("button", name="Accept").click()
    expect(invitee.get_by_text("You joined Acme Training")).to_be_visible()
    assert role_in(team.org, user) == "member"
