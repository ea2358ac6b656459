"""Every page at a phone's 390 px (and 768 and 1280 px), as each role (issue 16, point 1).

The page list is built from ``app.url_map`` as the authorization matrix builds its own,
in the matrix's world (``build_world``: one object of each kind, real tokens for the
invitation, invite link, join request link and confirmation pages), made harder to fit:
long addresses, names and messages, a finished import with a report. A page is visited by
each role the matrix expects to get 200 for it. On each: nothing is wider than the
screen (``document.documentElement.scrollWidth <= window.innerWidth``) at 390, 768 and
1280 px, and axe-core finds nothing at 390 and 1280 px. Then every row action of the list
panels is visible, inside the screen and clickable at 390 px.

Run with ``-s`` to print the table of widths at 390 px.
"""
import pytest

from invites.extensions import db
from invites.accounts.models import User
from invites.groups.models import Group, GroupMember
from invites.imports.service import preview_import, run_import
from invites.join_requests.models import JoinLink, Notify
from invites.join_requests.service import create_join_link, request_to_join
from invites.orgs.models import Organization, Role
from tests.conftest import PASSWORD
from tests.support import axe_violations, describe_violations
from tests.test_authorization_matrix import TABLE, build_url, build_world, rows_of  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

ROLES = ("anonymous", "nobody", "collaborator", "member", "manager", "owner")
PHONE, TABLET, SMALL_DESKTOP, DESKTOP = 390, 768, 1024, 1280

# GET routes that are not pages: files, downloads and an htmx fragment.
NOT_PAGES = {
    "/static/<path:filename>": "a static file",
    "/o/<slug>/imports/template.<any(csv, xlsx):kind>": "a download",
    "/o/<slug>/invitations/people": "an htmx fragment (the member search's results)",
    "/dev/outbox/<int:message_id>/html": "an email's HTML, shown in a frame of /dev/outbox",
    "/o/<slug>/manage/members/export.csv": "a download (CSV export)",
    "/o/<slug>/manage/invitations/export.csv": "a download (CSV export)",
    "/o/<slug>/manage/join-requests/export.csv": "a download (CSV export)",
    "/o/<slug>/manage/activity/export.csv": "a download (CSV export)",
    "/o/<slug>/links/<int:link_id>/qr.svg": "an image (a QR code) and its download",
    "/o/<slug>/links/<int:link_id>/qr.png": "an image (a QR code) and its download",
    "/o/<slug>/manage/join-page/qr.svg": "an image (a QR code) and its download",
    "/o/<slug>/manage/join-page/qr.png": "an image (a QR code) and its download",
    # The JSON API (issue 20): its description and its operations answer JSON, not pages.
    # Its reference, /api/v1/docs, is a page (and in the list).
    "/api/v1/openapi.json": "JSON (the OpenAPI document)",
    "/api/v1/invitations": "JSON (API)",
    "/api/v1/invitations/<int:invitation_id>": "JSON (API)",
    "/api/v1/invite-links": "JSON (API)",
    "/api/v1/invite-links/<int:link_id>": "JSON (API)",
    "/api/v1/join-requests": "JSON (API)",
    "/api/v1/members": "JSON (API)",
    "/api/v1/members/<int:membership_id>": "JSON (API)",
    "/api/v1/groups": "JSON (API)",
}

# More states of some pages: (rule, query or world attribute, label).
VARIANTS = {
    "/o/<slug>/manage/invitations": ["?q=example", "?status=pending"],
    "/o/<slug>/manage/join-requests": ["?status=all"],
    "/o/<slug>/manage/members": ["?q=a"],
}

LONG_ADDRESS = "requester1778520.quarterly-planning@subdomain.example.org"
LONG_NAME = "Maximiliana Konstantinopoulou-Vanderbilt"
LEARNERS = (
    "email,groups,first name,last name\n"
    f"learner.with.a.very-long-address1778520@training.example.org,Trainers,{LONG_NAME},Learner\n"
    "not-an-address,,Broken,Row\n"
).encode()

WIDTHS = {}  # (actor, url) -> scrollWidth at 390 px, for the printed table


@pytest.fixture
def phone_world(app, build_world, make_user, add_member, make_invitation):
    """The matrix's world, with what makes lists wide: long addresses and names, a long
    message, several invitations, a finished import."""
    world = build_world()
    org = db.session.scalar(db.select(Organization).filter_by(slug=world.slug))
    owner = db.session.get(User, world.actors["owner"].id)
    group = db.session.get(Group, world.group_id)
    long_one = make_user(name=LONG_NAME, email=LONG_ADDRESS)
    add_member(org, long_one, Role.MEMBER)
    db.session.add(GroupMember(group_id=world.group_id, user_id=long_one.id))
    db.session.commit()
    for address in ("someone.with.an.extraordinarily.long.address@subdomain.example.org",
                    "second.invitee-with-a-hyphenated-name@example.com"):
        make_invitation(org, owner, address, groups=[group])
    requester = make_user(name=LONG_NAME + " Junior", email="junior." + LONG_ADDRESS)
    join_link = db.session.get(JoinLink, world.join_link_id)
    request_to_join(join_link, requester, "I would really like to help with the spring fair. " * 5)
    create_join_link(org, owner, "Volunteers for the spring fair, the autumn fair and the winter market",
                     Role.MEMBER, [], Notify.NOBODY, [])
    db.session.commit()
    with app.test_request_context():
        imp = preview_import(org, owner, "learners-with-a-rather-long-file-name.csv", LEARNERS)
        db.session.commit()
        run_import(org, owner, imp, commit=db.session.commit)
        db.session.commit()
    world.done_import_id = imp.id
    db.session.remove()
    return world


def pages_for(app, world, actor):
    """The URLs of every GET page that ``actor`` may see (200 in the matrix's TABLE)."""
    urls = []
    for rule, method in rows_of(app):
        if method != "GET" or rule.rule in NOT_PAGES:
            continue
        row = TABLE[(rule.rule, method)]
        if row.codes[actor] != 200:
            continue
        url = build_url(app, rule, method, world, row.query)
        urls.append(url)
        urls.extend(url + query for query in VARIANTS.get(rule.rule, []))
        if rule.endpoint == "imports.show":
            urls.append(url.replace(f"/{world.import_id}", f"/{world.done_import_id}"))
    return urls


def log_in(page, base, actor, world):
    if actor == "anonymous":
        return
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(world.actors[actor].email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def overflow(page):
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


# The innermost elements that reach past the right edge, to say what to fix.
STICKING_OUT = """() => {
  const out = [...document.body.querySelectorAll('*')].filter(
    e => e.getBoundingClientRect().right > window.innerWidth + 0.5);
  return out.filter(e => !out.some(o => o !== e && e.contains(o))).slice(0, 3).map(
    e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined
      ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


def too_wide(page, url, size, width):
    return f"{url} at {size} px: {width} px wide ({', '.join(page.evaluate(STICKING_OUT))})"


@pytest.mark.parametrize("actor", ROLES)
def test_every_page_fits_a_phone_and_passes_axe(app, phone_world, live_server, browser, browser_context_args, actor):
    world = phone_world
    urls = pages_for(app, world, actor)
    assert len(urls) >= {"anonymous": 6, "nobody": 7}.get(actor, 10), urls
    context = browser.new_context(**browser_context_args, viewport={"width": PHONE, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = []
    try:
        log_in(page, live_server, actor, world)
        for url in urls:
            page.set_viewport_size({"width": PHONE, "height": 844})
            response = page.goto(live_server + url)
            if response.status != 200:
                problems.append(f"{url}: {response.status}")
                continue
            width, inner = overflow(page)
            WIDTHS[(actor, url)] = width
            if width > inner:
                problems.append(too_wide(page, url, PHONE, width))
            violations = axe_violations(page)
            if violations:
                problems.append(f"{url} at {PHONE} px, axe:\n{describe_violations(violations)}")
            for size in (TABLET, SMALL_DESKTOP, DESKTOP):
                page.set_viewport_size({"width": size, "height": 900})
                width, inner = overflow(page)
                if width > inner:
                    problems.append(too_wide(page, url, size, width))
            violations = axe_violations(page)
            if violations:
                problems.append(f"{url} at {DESKTOP} px, axe:\n{describe_violations(violations)}")
    finally:
        context.close()
    assert not problems, f"as {actor}:\n" + "\n".join(problems)


# The list panels and the row actions each must show: (path, row selector, actions).
def list_panels(world):
    slug = world.slug
    return [
        (f"/o/{slug}/manage/invitations", "#invitations-table tbody tr", ["Resend", "Cancel"]),
        (f"/o/{slug}/manage/join-requests", "#requests-table tbody tr", ["Accept", "Reject", "Dismiss"]),
        (f"/o/{slug}/manage/links", "#links-table tbody tr", ["Delete"]),
        (f"/o/{slug}/manage/join-links", "tbody tr[id^=join-link-]", ["Edit"]),
        (f"/o/{slug}/manage/members", "#members-table tbody tr", ["Remove"]),
        (f"/o/{slug}/groups/{world.group_id}", "#group-members tbody tr", ["Make manager", "Remove"]),
        (f"/o/{slug}/manage/api-tokens", "#api-tokens-table tbody tr", ["Revoke"]),
    ]


def test_every_row_action_is_visible_and_clickable_on_a_phone(
    app, phone_world, live_server, browser, browser_context_args,
):
    world = phone_world
    context = browser.new_context(**browser_context_args, viewport={"width": PHONE, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems, checked = [], 0
    try:
        log_in(page, live_server, "owner", world)
        for path, rows, labels in list_panels(world):
            page.goto(live_server + path)
            row_count = page.locator(rows).count()
            assert row_count >= 1, f"{path}: no rows"
            for label in labels:
                actions = page.locator(rows).get_by_role("button").filter(has_text=label)
                if label == "Remove":  # not "Remove as manager"
                    actions = actions.filter(has_not_text="as manager")
                count = actions.count()
                if count == 0:
                    problems.append(f"{path}: no {label!r} in any row")
                for i in range(count):
                    action = actions.nth(i)
                    name = f"{path}: {label!r} #{i + 1}"
                    action.scroll_into_view_if_needed()
                    if not action.is_visible():
                        problems.append(f"{name} is hidden")
                        continue
                    box = action.bounding_box()
                    if box is None or box["x"] < 0 or box["x"] + box["width"] > PHONE or box["width"] < 24:
                        problems.append(f"{name} is outside the screen or too small: {box}")
                    action.click(trial=True)  # fails if something covers it or it is disabled
                    checked += 1
            role_selects = page.locator(rows).locator("select")
            for i in range(role_selects.count()):
                box = role_selects.nth(i).bounding_box()
                if box is None or box["x"] + box["width"] > PHONE:
                    problems.append(f"{path}: role select #{i + 1} is outside the screen: {box}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert checked >= 12


def test_every_json_route_is_left_out_and_every_page_is_in(app):
    """The API's GET routes are in NOT_PAGES but its reference page; the API Tokens
    panel and the reference are visited (200 in the matrix's TABLE)."""
    api_gets = {rule.rule for rule, method in rows_of(app) if method == "GET" and rule.rule.startswith("/api/")}
    assert api_gets - set(NOT_PAGES) == {"/api/v1/docs"}
    assert TABLE[("/api/v1/docs", "GET")].codes == dict.fromkeys(TABLE[("/api/v1/docs", "GET")].codes, 200)
    assert TABLE[("/o/<slug>/manage/api-tokens", "GET")].codes["owner"] == 200


def test_print_the_widths(request):
    """Last: the table of widths at 390 px (with ``-s``)."""
    if not WIDTHS:
        pytest.skip("no page was measured in this run")
    lines = [f"{'width':>6}  {'as':<12}  page"]
    for (actor, url), width in sorted(WIDTHS.items(), key=lambda item: (item[0][1], item[0][0])):
        lines.append(f"{width:>6}  {actor:<12}  {url}")
    print("\nscrollWidth at 390 px\n" + "\n".join(lines))
    assert all(width > 0 for width in WIDTHS.values())
