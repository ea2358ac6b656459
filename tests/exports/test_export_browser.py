"""The "Export CSV" links in Chromium: on a phone's 390 px each fits and downloads its file
without JavaScript; with it, the Invitations panel's link follows the filters htmx applies."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from invites.clock import now
from invites.exports.writing import BOM
from invites.extensions import db
from invites.invitations.models import Status
from tests.support import new_page

pytestmark = pytest.mark.browser

PANELS = {"members": "members", "invitations": "invitations", "join-requests": "join-requests",
          "activity": "activity"}  # panel path -> the export's name in its file name


def download(page, link):
    with page.expect_download() as info:
        link.click()
    return info.value


def test_every_export_link_fits_a_phone_and_downloads_without_javascript(
        browser, browser_context_args, live_server, team, browser_login):
    context, page = new_page(browser, {**browser_context_args, "java_script_enabled": False,
                                       "viewport": {"width": 390, "height": 844}, "accept_downloads": True})
    try:
        browser_login(page, team.owner)
        for panel, name in PANELS.items():
            page.goto(f"{live_server}/o/{team.org.slug}/manage/{panel}")
            link = page.get_by_role("button", name=re.compile("^Export CSV"))
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (panel, box)
            scroll_width, width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll_width <= width, (panel, scroll_width)
            file = download(page, link)
            assert file.suggested_filename == f"acme-training-{name}-{now():%Y-%m-%d}.csv"
            with open(file.path(), "rb") as data:
                assert data.read(3) == b"\xef\xbb\xbf", panel
    finally:
        context.close()


def test_the_invitations_link_follows_the_filters_htmx_applies(
        browser, browser_context_args, live_server, team, browser_login, make_invitation, assert_accessible):
    make_invitation(team.org, team.owner, "kept@example.com")
    cancelled, _ = make_invitation(team.org, team.owner, "gone@example.com")
    cancelled.status = Status.CANCELLED
    db.session.commit()
    context, page = new_page(browser, {**browser_context_args, "viewport": {"width": 390, "height": 844},
                                       "accept_downloads": True})
    try:
        browser_login(page, team.owner)
        page.goto(f"{live_server}/o/{team.org.slug}/manage/invitations")
        page.get_by_label("Status").select_option(Status.CANCELLED)
        expect(page.locator("#invitations-table")).not_to_contain_text("kept@example.com")
        assert_accessible(page)  # axe-core needs JavaScript: checked here, at 390 px
        file = download(page, page.get_by_role("button", name=re.compile("^Export CSV")))
        with open(file.path(), encoding="utf-8", newline="") as data:
            table = list(csv.reader(io.StringIO(data.read().removeprefix(BOM), newline="")))
        assert [row[0] for row in table[1:]] == ["gone@example.com"]
    finally:
        context.close()
