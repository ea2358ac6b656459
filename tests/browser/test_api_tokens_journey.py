"""Issue 20 in Chromium, on a phone: an owner opens Organization Settings → API Tokens,
makes a token, copies it from the page, and a program uses it (from Python, over HTTP to
the live server) to invite someone; the panel then says when it was last used; the owner
revokes it through the in-page confirmation and the API refuses it from then on. The
panel and the API reference pass axe-core and fit the 390 px screen."""
import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from invites.api.models import ApiToken
from invites.extensions import db
from invites.invitations.models import Invitation
from tests.browser.test_phone_widths import PHONE, overflow, too_wide

pytestmark = pytest.mark.browser


def call_api(base, method, path, token, body=None):
    """(status, JSON body) of a request to the live server, as another program sends it."""
    request = urllib.request.Request(
        f"{base}/api/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def assert_fits(page):
    width, inner = overflow(page)
    assert inner == PHONE
    assert width <= inner, too_wide(page, page.url, PHONE, width)


def test_an_owner_makes_uses_and_revokes_a_token_on_a_phone(
    browser, browser_context_args, live_server, team, browser_login, assert_accessible,
):
    context = browser.new_context(**browser_context_args, viewport={"width": PHONE, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, team.owner)
        page.goto(f"{live_server}/o/{team.org.slug}")
        page.get_by_role("navigation", name="Organization").get_by_role("link", name="Manage").click()
        # Manage lands on the Overview, whose Organization Settings list has the panel.
        page.get_by_role("navigation", name="Organization Settings").get_by_role("link", name="API Tokens").click()
        expect(page.get_by_role("heading", name="API Tokens")).to_be_visible()
        expect(page).to_have_url(f"{live_server}/o/{team.org.slug}/manage/api-tokens")
        expect(page.locator("#api-tokens-table")).to_contain_text("No tokens yet")
        assert_accessible(page)
        assert_fits(page)

        # "New token" is open while there is none.
        page.get_by_label("Name").fill("HR sync")
        page.get_by_role("radio", name="Read and write").check()
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("heading", name="Your new token")).to_be_visible()
        token = page.locator("#new-token").input_value()
        assert token.startswith("inv_") and len(token) > 40
        expect(page.get_by_role("button", name="Copy token")).to_be_visible()
        row = page.locator("#api-tokens-table tbody tr").filter(has_text="HR sync")
        expect(row).to_contain_text("Read and write")
        expect(row.locator('[data-label="Last used"]')).to_have_text("Never")
        assert_accessible(page)
        assert_fits(page)

        # Another system invites someone with it.
        status, body = call_api(live_server, "POST", "/invitations", token,
                                {"emails": ["api.invitee@example.com"], "role": "member"})
        assert status == 200, body
        assert body["results"][0]["outcome"] == "sent"
        db.session.expire_all()
        invitation = db.session.scalar(db.select(Invitation).filter_by(email="api.invitee@example.com"))
        assert invitation is not None and invitation.org_id == team.org.id

        # Opened again, the panel says when it was last used, and no longer shows the token.
        # (A GET: reloading the page that made the token would post the form once more.)
        page.goto(f"{live_server}/o/{team.org.slug}/manage/api-tokens")
        expect(page.locator("#api-tokens-table tbody tr")).to_have_count(1)
        expect(row.locator('[data-label="Last used"] time')).to_be_visible()
        expect(row.locator('[data-label="Last used"]')).not_to_have_text("Never")
        expect(page.get_by_role("heading", name="Your new token")).to_have_count(0)
        assert token not in page.content()

        # Revoked through the in-page confirmation.
        native = []
        page.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
        row.get_by_role("button", name="Revoke HR sync").click()
        dialog = page.get_by_role("dialog", name="Revoke the token “HR sync”?")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Every program using it is refused from its next request.")
        assert_accessible(page)
        dialog.get_by_role("button", name="Revoke token").click()
        expect(dialog).to_be_hidden()
        expect(row.locator(".status")).to_have_text("Revoked")
        expect(row.get_by_role("button", name="Revoke HR sync")).to_have_count(0)
        assert native == []
        db.session.expire_all()
        assert db.session.scalar(db.select(ApiToken).filter_by(name="HR sync")).revoked_at is not None
        assert_fits(page)

        status, body = call_api(live_server, "GET", "/members", token)
        assert status == 401
        assert body["error"]["code"] == "unauthorized"

        # The API reference, linked from the panel.
        page.get_by_role("button", name="API reference").click()  # a link styled as a button
        expect(page).to_have_url(f"{live_server}/api/v1/docs")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        expect(page.get_by_role("navigation", name="Operations").get_by_role("link")).to_have_count(18)
        assert_accessible(page)
        assert_fits(page)
    finally:
        context.close()
