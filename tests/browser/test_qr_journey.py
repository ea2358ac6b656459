"""Issue 19, part 4, in Chromium: a manager makes an invite link and sees its QR code
beside it on a phone's 390 px (loaded under the app's real CSP), downloads the PNG, and
opens the print sheet, which prints on one A4 and one Letter page without the navigation.
The owner's Join Web Page panel shows the page's code the same way."""
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError, expect

from invites.extensions import db
from invites.join_page.service import page_of
from invites.orgs.models import Plan
from tests.support import new_page, wider_than_screen

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LINK_PAGE = re.compile(r"/o/[^/]+/links/(\d+)$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def loaded(image, timeout=5_000):
    """Whether the <img> loaded and drew (a broken or refused image has no natural width),
    waiting for it up to ``timeout`` ms: the page's load event may come before the image's
    answer (seen in CI on the print sheet)."""
    try:
        image.page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=timeout)
    except PlaywrightTimeoutError:
        return False
    return True


def test_a_manager_makes_a_link_sees_its_code_downloads_it_and_prints_the_sheet(
    browser, browser_context_args, live_server, team, browser_login, tmp_path,
):
    # The app's own CSP is enforced here (the shared contexts bypass it for axe-core):
    # the code must load under it, and nothing may be refused.
    context, page = new_page(browser, {**browser_context_args, "bypass_csp": False, "viewport": PHONE,
                                       "accept_downloads": True})
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        browser_login(page, team.manager)
        page.goto(f"{live_server}/o/{team.org.slug}/links/new")
        page.get_by_role("button", name="Create").click()
        expect(page).to_have_url(LINK_PAGE)
        address = page.locator("#link-url").input_value()
        assert address.startswith(f"{live_server}/l/")

        code = page.get_by_role("img", name="QR code for the invite link")
        expect(code).to_be_visible()
        assert loaded(code) and not wider_than_screen(page)
        box = code.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        for name in ("Download SVG", "Download PNG", "Print"):
            expect(page.get_by_role("link", name=name)).to_be_visible()

        with page.expect_download() as download:
            page.get_by_role("link", name="Download PNG").click()
        assert re.fullmatch(r"invite-link-\d+-qr\.png", download.value.suggested_filename)
        saved = tmp_path / "code.png"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(PNG_SIGNATURE)

        page.get_by_role("link", name="Print").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme Training")
        expect(page.locator(".qr-sheet-address")).to_have_text(address)
        sheet_code = page.get_by_role("img", name="QR code for the invite link")
        assert loaded(sheet_code) and not wider_than_screen(page)
        assert refused == []
    finally:
        context.close()


def test_the_sheet_prints_alone_on_one_page_and_passes_axe(
    page, live_server, team, make_link, browser_login, assert_accessible,
):
    link, token = make_link(team.org, team.owner)
    browser_login(page, team.owner)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/o/{team.org.slug}/links/{link.id}")
    assert not wider_than_screen(page)
    assert_accessible(page)
    page.goto(f"{live_server}/o/{team.org.slug}/links/{link.id}/qr/print")
    assert not wider_than_screen(page)
    assert_accessible(page)
    page.emulate_media(media="print")
    expect(page.locator("body > header")).to_be_hidden()
    expect(page.locator("body > footer")).to_be_hidden()
    expect(page.get_by_role("link", name=f"Invite link #{link.id}")).to_be_hidden()
    expect(page.locator(".qr-sheet-address")).to_have_text(f"{live_server}/l/{token}")
    for paper in ("A4", "Letter"):
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", page.pdf(format=paper)))
        assert pages == 1, f"{paper}: {pages} pages"


def test_the_owner_sees_the_join_pages_code_while_it_is_on(
    page, live_server, team, browser_login, assert_accessible,
):
    team.org.plan = Plan.PREMIUM
    join_page = page_of(team.org)
    join_page.enabled = True
    db.session.commit()
    browser_login(page, team.owner)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/join-page")
    code = page.get_by_role("img", name="QR code for the Join Web Page")
    expect(code).to_be_visible()
    assert loaded(code) and not wider_than_screen(page)
    assert_accessible(page)
    page.get_by_role("link", name="Print").click()
    expect(page.locator(".qr-sheet-address")).to_have_text(f"{live_server}/join/{join_page.slug}")
    assert loaded(page.get_by_role("img", name="QR code for the Join Web Page"))
