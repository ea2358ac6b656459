"""Renew in a real Chromium (issue 18): "Resend" on an expired invitation makes it pending
again with a new link, inline with JavaScript and through the plain form without; the old
link stays dead and the new one opens the invitation."""
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from invites import clock
from invites.extensions import db
from invites.invitations.models import Invitation
from tests.support import new_page, on_live_server

pytestmark = pytest.mark.browser

START = datetime(2026, 3, 2, 9, 0)


@pytest.mark.parametrize("javascript", [True, False])
def test_resend_renews_an_expired_invitation(
    browser, browser_context_args, live_server, team, smtp, make_invitation, browser_login, javascript
):
    clock.freeze(START)
    invitation, old_token = make_invitation(team.org, team.owner, "lapsed@example.com")
    clock.freeze(START + timedelta(days=20))  # 6 days past its expiry
    context, page = new_page(browser, {**browser_context_args, "java_script_enabled": javascript})
    try:
        browser_login(page, team.owner)
        page.goto(f"{live_server}/o/{team.org.slug}/manage/invitations")
        row = page.locator(f"#invitation-{invitation.id}")
        expect(row).to_contain_text("Expired")
        expect(page.get_by_text("an expired invitation becomes pending again")).to_be_visible()
        row.get_by_role("button", name="Resend to lapsed@example.com").click()
        row = page.locator(f"#invitation-{invitation.id}")
        expect(row).to_contain_text("Pending")
        expect(row).to_contain_text("Expires in 2 weeks")
        expect(page.get_by_text("Invitation sent again to lapsed@example.com.")).to_be_visible()

        db.session.expire_all()
        assert db.session.get(Invitation, invitation.id).shown_status == "pending"
    finally:
        context.close()
    renewed = smtp.to("lapsed@example.com")[-1]
    [link] = [url for url in smtp.links(renewed) if "/i/" in url]
    context, page = new_page(browser, {**browser_context_args, "java_script_enabled": javascript})
    try:  # the invitee, logged out
        assert page.goto(f"{live_server}/i/{old_token}").status == 404
        assert page.goto(on_live_server(link, live_server)).status == 200
        expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Training")
    finally:
        context.close()
