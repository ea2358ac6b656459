"""Layout faults a QA sweep found at 390 and 1280 px, each checked where it was seen: the
Overview's week-by-week table, long names in the header, the card tables' labels, the
API reference, the mail preview, copy rows, breadcrumbs and the compact settings menu."""
import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.orgs.models import JoinedVia, Membership, Role
from tests.support import wider_than_screen

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def test_the_weekly_numbers_scroll_by_keyboard_and_keep_their_caption_on_a_phone(
        page, live_server, team, make_user, browser_login, assert_accessible):
    # One person in by each way, so the table has a column for each: wider than a phone.
    for way in JoinedVia.ALL:
        db.session.add(Membership(org_id=team.org.id, user_id=make_user().id, role=Role.MEMBER, joined_via=way))
    db.session.commit()
    page.set_viewport_size(PHONE)
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}")
    page.locator("summary", has_text="The numbers, week by week").click()
    table = page.get_by_role("table", name="People who joined each week")
    expect(table).to_be_visible()
    scroller = page.get_by_role("region", name="People who joined each week")
    expect(scroller).to_have_attribute("tabindex", "0")
    caption = page.get_by_text("People who joined each week (weeks start on Monday, UTC)")
    expect(caption).to_be_visible()
    # The caption is read whole: it wraps within the screen, not cut by the scrolling box.
    box = caption.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("e => e.scrollWidth <= e.clientWidth", caption.element_handle())
    assert_accessible(page)
    assert wider_than_screen(page) == []

