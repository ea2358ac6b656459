"""Issue 18, part 4 in Chromium: on an expired invitation's page a visitor logs in, comes
back to the page and presses "Ask for a new invitation", with JavaScript on and off; the
owners and managers get a join request in the bell."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from invites import clock
from invites.extensions import db
from invites.join_requests.models import JoinRequest
from invites.notifications.models import Notification
from tests.conftest import PASSWORD
from tests.support import new_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_asking_for_a_new_invitation_from_an_expired_one(
    browser, browser_context_args, live_server, team, make_invitation, assert_accessible, javascript,
):
    invitation, token = make_invitation(team.org, team.owner, team.outsider.email)
    clock.freeze(invitation.expires_at + timedelta(days=1))
    context, page = new_page(browser, {**browser_context_args, "java_script_enabled": javascript})
    try:
        page.goto(f"{live_server}/i/{token}")
        expect(page.get_by_role("heading", name="This invitation has expired.")).to_be_visible()
        if javascript:
            assert_accessible(page)
        page.get_by_role("button", name="Log in to ask for a new invitation").click()
        page.get_by_label("Email").fill(team.outsider.email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server}/i/{token}")

        page.get_by_role("button", name="Ask for a new invitation").click()
        page.wait_for_url(f"{live_server}/")
        expect(page.locator("#flashes")).to_contain_text("You asked to join Acme Training.")
        if javascript:
            assert_accessible(page)
    finally:
        context.close()

    db.session.expire_all()
    [made] = db.session.scalars(db.select(JoinRequest)).all()
    assert (made.user_id, made.link_id) == (team.outsider.id, None)
    rung = db.session.scalars(db.select(Notification.user_id).filter_by(kind="join_request")).all()
    assert set(rung) == {team.owner.id, team.manager.id}
