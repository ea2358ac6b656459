"""Webhooks (issue 21) in Chromium at a phone's 390 px: the owner adds an endpoint for a
real receiver, copies the signing secret from the page, sends a test event and finds it
in the delivery log; the receiver's request verifies with the secret copied. axe-core on
the panel and the endpoint's page, and nothing wider than the screen."""
import re

import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.webhooks.models import WebhookEndpoint
from tests.support import new_page, wider_than_screen
from tests.webhooks.conftest import receiver  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_an_owner_on_a_phone_adds_an_endpoint_and_sends_a_test_event(
    browser, browser_context_args, live_server, team, browser_login, assert_accessible, receiver,  # noqa: F811
):
    long_url = receiver.url + "/a-rather-long-path-for-the-customer-relationship-management-sync?tenant=acme-training"
    context, page = new_page(browser, {**browser_context_args, "viewport": PHONE})
    try:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
        browser_login(page, team.owner)
        page.goto(f"{live_server}/o/{team.org.slug}/manage/webhooks")
        expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
        assert_accessible(page)
        assert wider_than_screen(page) == []

        page.get_by_label("Receiver URL").fill(long_url)
        page.get_by_label("Description (optional)").fill("CRM sync")
        page.locator("button[type=submit]", has_text="Add endpoint").click()

        # The secret, shown once, copied with its button.
        expect(page.get_by_role("heading", name=re.compile("Signing secret of"))).to_be_visible()
        field = page.get_by_role("textbox", name="Signing secret")
        expect(field).to_have_value(re.compile(r"^whsec_[A-Za-z0-9+/=]{40,}$"))
        copy = page.locator("button[data-copy='#new-secret']")
        expect(copy).to_have_accessible_name("Copy secret")
        copy.click()
        expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
        secret = page.evaluate("navigator.clipboard.readText()")
        assert secret == field.input_value() and secret.startswith("whsec_")
        assert_accessible(page)
        assert wider_than_screen(page) == []

        # The endpoint's page: Send test event; the flash and the log show it.
        page.get_by_role("link", name=long_url).click()
        expect(page.get_by_role("heading", name=long_url)).to_be_visible()
        expect(page.get_by_text("Nothing sent yet.")).to_be_visible()
        assert_accessible(page)
        assert wider_than_screen(page) == []
        page.get_by_role("button", name="Send test event").click()
        expect(page.locator("#flashes")).to_contain_text(
            re.compile(r"Test event delivered: the receiver answered 200 in \d+ ms\."))
        log = page.locator("#webhook-log")
        expect(log).to_contain_text("webhook.test")
        expect(log).to_contain_text("Delivered")
        expect(log).to_contain_text(re.compile(r"HTTP 200, \d+ ms"))
        log.get_by_text("Payload").click()
        expect(log.locator("pre.payload")).to_contain_text('"type":"webhook.test"')
        assert_accessible(page)
        assert wider_than_screen(page) == []

        # The receiver got it, signed with the secret copied from the page.
        [received] = receiver.delivered
        body = received.verify(secret)
        assert body["type"] == "webhook.test" and body["organization"]["slug"] == team.org.slug
        assert received.path.startswith("/hooks/invites/a-rather-long-path")
        expect(log).to_contain_text(received.id)
        db.session.expire_all()
        [endpoint] = db.session.scalars(db.select(WebhookEndpoint)).all()
        assert endpoint.url == long_url and secret not in endpoint.secret_ciphertext

        # Back on the panel, the secret is not shown again.
        page.get_by_role("link", name="← Webhooks").click()
        expect(page.get_by_text("CRM sync")).to_be_visible()
        expect(page.get_by_role("textbox", name="Signing secret")).to_have_count(0)
        assert "whsec_" not in page.content()
        assert wider_than_screen(page) == []
    finally:
        context.close()


def test_deleting_an_endpoint_asks_in_the_page_then_shows_the_panel(
    browser, browser_context_args, live_server, team, browser_login, receiver,  # noqa: F811
):
    from invites.webhooks.service import add_endpoint

    endpoint, _ = add_endpoint(team.org, team.owner, receiver.url + "/going", [])
    db.session.commit()
    endpoint_id = endpoint.id
    context, page = new_page(browser, {**browser_context_args, "viewport": PHONE})
    try:
        browser_login(page, team.owner)
        page.goto(f"{live_server}/o/{team.org.slug}/manage/webhooks/{endpoint_id}")
        page.get_by_role("button", name="Delete", exact=True).click()
        dialog = page.locator("#confirm-dialog")
        expect(dialog.get_by_role("heading", name="Delete this endpoint?")).to_be_visible()
        dialog.get_by_role("button", name="Delete endpoint").click()
        # The whole panel, at its own address, with the endpoint gone.
        expect(page).to_have_url(re.compile(rf"/o/{team.org.slug}/manage/webhooks$"))
        expect(page.get_by_text("The endpoint was deleted.")).to_be_visible()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
        db.session.remove()
        assert db.session.get(WebhookEndpoint, endpoint_id) is None
    finally:
        context.close()
