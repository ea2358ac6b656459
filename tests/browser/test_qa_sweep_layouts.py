"""Layout faults a QA sweep found at 390 and 1280 px, each checked where it was seen: the
Overview's week-by-week table, long names in the header, the card tables' labels, the
API reference, the mail preview, copy rows, breadcrumbs and the compact settings menu."""
import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.groups.service import create_group
from invites.join_page import service as join_page
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



@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_a_long_name_is_cut_to_one_line_in_the_header(page, live_server, make_user, browser_login, viewport):
    name = ("Maximiliana Konstantinopoulou-Vanderbilt " * 3)[:120]
    user = make_user(name=name)
    page.set_viewport_size(viewport)
    browser_login(page, user)
    page.goto(f"{live_server}/")
    menu = page.locator(".profile-menu > summary")
    expect(menu).to_have_attribute("title", name)
    expect(menu).to_have_accessible_name(name)
    brand, button = page.locator(".brand").bounding_box(), menu.bounding_box()
    # One line: the button is as tall as one line of the nav and level with the brand ...
    assert button["height"] < 50, button
    assert abs((brand["y"] + brand["height"] / 2) - (button["y"] + button["height"] / 2)) < 5, (brand, button)
    # ... at most half the screen (400 px on a wide one), cut with an ellipsis, inside the screen.
    assert button["width"] <= min(viewport["width"] / 2, 400), button
    assert button["x"] + button["width"] <= viewport["width"], button
    assert menu.evaluate("s => getComputedStyle(s.firstElementChild).textOverflow") == "ellipsis"
    assert wider_than_screen(page) == []
    menu.click()
    expect(page.get_by_role("link", name="Account")).to_be_visible()


def labels_spilling(page):
    """The card tables' cells whose label (``td[data-label]::before``) is taller than the
    cell, so that it runs into the next one: "Who may use it" over "Role"."""
    page.wait_for_load_state("load")
    return page.evaluate("""() => [...document.querySelectorAll('td[data-label]')]
        .filter(td => td.offsetParent !== null)
        .map(td => [td.dataset.label, parseFloat(getComputedStyle(td, '::before').height), td.clientHeight])
        .filter(([label, labelHeight, cellHeight]) => labelHeight > cellHeight + .5)""")


def test_card_labels_that_wrap_push_the_next_row_down_on_a_phone(
        page, live_server, team, browser_login, make_link, make_invitation):
    make_link(team.org, team.owner)
    make_invitation(team.org, team.owner, "someone@example.com")
    page.set_viewport_size(PHONE)
    browser_login(page, team.owner)
    for panel in ("links", "members", "invitations"):
        page.goto(f"{live_server}/o/{team.org.slug}/manage/{panel}")
        expect(page.locator("td[data-label]").first).to_be_visible()
        assert labels_spilling(page) == [], panel
    # The label that wrapped, and the one under it, each wholly inside its own cell.
    page.goto(f"{live_server}/o/{team.org.slug}/manage/links")
    who, role = (page.locator(f'td[data-label="{label}"]').bounding_box() for label in ("Who may use it", "Role"))
    assert who["y"] + who["height"] <= role["y"] + .5, (who, role)


def test_the_api_reference_shows_code_not_backticks_and_keeps_bullets_on_the_first_line(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/api/v1/docs")
    main = page.locator("main")
    expect(main.locator("code", has_text="Authorization: Bearer <token>")).to_be_visible()
    for name in ("url", "status", "search"):
        expect(main.locator("code", has_text=name).first).to_be_attached()
    assert "`" not in main.inner_text()
    # Each operation's bullet sits on its first line, also when its endpoint wraps: an
    # empty probe at the start of the item stands where the list marker is drawn.
    misplaced = page.evaluate("""() => [...document.querySelectorAll('[aria-label="Operations"] li')].map(li => {
        const probe = document.createElement('span');
        li.prepend(probe);
        const marker = probe.getBoundingClientRect(), first = li.querySelector('code').getClientRects()[0];
        probe.remove();
        return [li.querySelector('code').textContent, marker.bottom - first.top];
    }).filter(([endpoint, below]) => below > 30)""")
    assert misplaced == []
    assert wider_than_screen(page) == []


def test_the_mail_preview_fits_its_frame_on_a_phone(page, live_server, team, browser_login):
    page.set_viewport_size(PHONE)
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{team.org.slug}/invitations/new")
    page.get_by_label("Email addresses or members").fill("newbie@example.com")
    page.get_by_label("Personal message (optional)").fill("See you soon.")
    page.get_by_role("button", name="Preview email").click()
    frame = page.frame_locator("iframe[title='HTML version of the invitation email']")
    expect(frame.get_by_role("link", name="View invitation")).to_be_visible()
    mail = page.frame(name="invite-preview-frame")
    # Nothing wider than the frame: the card, its text, the button and the long address.
    assert mail.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        mail.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert mail.evaluate("window.innerWidth") < 340
    assert wider_than_screen(page) == []


def test_a_sent_invitation_fits_a_phone(page, team, smtp, make_invitation):
    """The mail itself, its personal link (long, unbroken) and all, on a 390 px screen."""
    make_invitation(team.org, team.owner, "newbie@example.com", message="See you soon.")
    [message] = smtp.arrived("newbie@example.com")
    page.set_viewport_size(PHONE)
    page.set_content(smtp.html(message))
    expect(page.get_by_role("link", name="View invitation")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card = page.locator("table table").bounding_box()
    assert card["width"] <= PHONE["width"] - 16, card


def test_copy_buttons_go_under_the_address_on_a_phone(page, live_server, team, browser_login, make_link):
    team.org.plan = "premium"
    db.session.commit()
    page_row = join_page.page_of(team.org)
    join_page.update_page(team.org, team.owner, page_row, enabled=True, slug=page_row.slug, groups=[], allowed_domains="")
    db.session.commit()
    link, _ = make_link(team.org, team.owner)
    page.set_viewport_size(PHONE)
    browser_login(page, team.owner)
    for url, button in ((f"/o/{team.org.slug}/manage/join-page", "Copy to Clipboard"),
                        (f"/o/{team.org.slug}/links/{link.id}", "Copy link")):
        page.goto(live_server + url)
        address = page.locator(".copy-row input")
        copy = page.get_by_role("button", name=button)
        expect(copy).to_be_visible()
        field, under = address.bounding_box(), copy.bounding_box()
        row = page.locator(".copy-row").bounding_box()
        assert field["width"] >= row["width"] - 1, (url, field, row)
        assert under["y"] >= field["y"] + field["height"], (url, field, under)
        assert under["width"] >= row["width"] - 1, (url, under, row)
        assert wider_than_screen(page) == []
    # On a wide screen the button stays beside the field.
    page.set_viewport_size(DESKTOP)
    field, beside = address.bounding_box(), copy.bounding_box()
    assert beside["x"] >= field["x"] + field["width"] and abs(beside["y"] - field["y"]) < 5, (field, beside)


def test_breadcrumbs_show_pico_separators(page, live_server, team, browser_login, make_link):
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    link, _ = make_link(team.org, team.owner)
    page.set_viewport_size(PHONE)
    browser_login(page, team.owner)
    slug = team.org.slug
    for url in (f"/o/{slug}/groups/{group.id}", f"/o/{slug}/links/{link.id}", f"/o/{slug}/join-links/new",
                f"/o/{slug}/manage/invitations/email"):
        page.goto(live_server + url)
        first = page.get_by_role("navigation", name="breadcrumb").locator("li").first
        expect(first).to_be_visible()
        separator = first.evaluate("li => getComputedStyle(li, '::after').content")
        assert separator not in ("none", "normal", '""'), (url, separator)


@pytest.mark.parametrize("width", [390, 1000])
def test_the_compact_settings_menu_has_room_below_it(page, live_server, team, browser_login, width):
    page.set_viewport_size({"width": width, "height": 844})
    browser_login(page, team.owner)
    for panel in ("links", "members", "invitations"):
        page.goto(f"{live_server}/o/{team.org.slug}/manage/{panel}")
        menu = page.locator(".settings-compact details.dropdown > summary")
        expect(menu).to_be_visible()
        bottom = menu.bounding_box()["y"] + menu.bounding_box()["height"]
        # The panel's first content (its heading, "New Invite", a card) about 1rem below.
        top = page.evaluate("""() => Math.min(...[...document.querySelectorAll('.panel *')]
            .map(e => e.getBoundingClientRect()).filter(r => r.height > 0).map(r => r.top))""")
        assert top - bottom >= 14, (panel, top - bottom)


def test_pages_name_their_icon_so_browsers_stop_asking_for_favicon_ico(page, live_server):
    missing = []
    page.on("response", lambda response: response.status == 404 and missing.append(response.url))
    page.goto(f"{live_server}/login")
    page.wait_for_load_state("load")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    response = page.request.get(live_server + icon.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    assert missing == []


def test_the_members_search_shows_its_whole_placeholder_on_a_phone(page, live_server, team, browser_login):
    page.set_viewport_size(PHONE)
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/members")
    search = page.get_by_label("Search members")
    room, needed = search.evaluate("""input => {
        const style = getComputedStyle(input), context = document.createElement('canvas').getContext('2d');
        context.font = `${style.fontSize} ${style.fontFamily}`;
        return [input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
                context.measureText(input.placeholder).width];
    }""")
    assert needed <= room, (needed, room)
    # Under its label, not beside it: its corners whole on both sides.
    assert search.evaluate("e => getComputedStyle(e).borderTopLeftRadius === getComputedStyle(e).borderTopRightRadius")
