"""The pages an invitee opens from mail, on a phone (390 px wide) in a real Chromium: the
invitation page and its outcomes, login and registration, the join page, an invite link
and a join request link. Each fits the screen (no sideways scroll), shows its main action
without scrolling, with tap targets at least 44 px tall, and axe-core finds nothing.

With INVITES_SCREENSHOTS=<dir> set, each page is also saved there as a PNG; INVITES_WIDTH
changes the width (768, 1280) to look at the others."""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.groups.service import create_group
from invites.invitations import sending
from invites.join_page import service as join_page
from invites.join_requests import service as join_requests
from invites.links import service as links
from invites.orgs.models import Role
from tests.support import new_page, wider_than_screen

pytestmark = pytest.mark.browser

PHONE = {"width": int(os.environ.get("INVITES_WIDTH", 390)), "height": 844}
SCREENSHOTS = os.environ.get("INVITES_SCREENSHOTS")
LONG_ADDRESS = "averyveryverylongfirstnameandlastname.withoutbreaks@subdomain.exampleorganization.org"


@pytest.fixture
def phone(browser, browser_context_args):
    context, page = new_page(browser, {**browser_context_args, "viewport": PHONE})
    yield page
    context.close()


def check_on_phone(page, name, action, assert_accessible):
    """No sideways scroll; ``action`` (a locator) visible in the first screen and big
    enough to tap; axe-core clean. Saves a screenshot when asked to."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
    assert wider_than_screen(page) == [], f"{name}: wider than {PHONE['width']} px"
    expect(action).to_be_visible()
    box = action.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], f"{name}: the main action is below the fold"
    assert box["height"] >= 44 and box["width"] >= 44, f"{name}: a small tap target {box}"
    assert_accessible(page)


@pytest.fixture
def invitee_world(app, team, make_invitation, make_user):
    team.org.plan = "premium"
    team.org.description = ("Training for the volunteers of the spring fair, the autumn market "
                            "and the winter concerts.")
    group = create_group(team.org, team.owner, "Spring Fair Volunteers")
    db.session.commit()
    invitation, token = make_invitation(team.org, team.manager, LONG_ADDRESS, groups=[group],
                                        message="Welcome aboard! We meet on Thursdays.")
    existing = make_user(name="Erin Existing", email="erin@example.com")
    _, existing_token = make_invitation(team.org, team.manager, "erin@example.com")
    page = join_page.page_of(team.org)
    join_page.update_page(team.org, team.owner, page, enabled=True, slug=page.slug,
                          groups=[group], allowed_domains="example.com")
    with app.test_request_context():
        link, link_token = links.create_link(
            team.org, team.manager, expiration="7d", custom_date=None, access="anyone",
            role=Role.MEMBER, groups=[group], max_uses=None,
        )
        join_link, join_token = join_requests.create_join_link(
            team.org, team.manager, "Volunteers for the spring fair", Role.MEMBER, [group], "all",
        )
    db.session.commit()

    class World:
        pass

    world = World()
    world.team, world.invitation, world.token = team, invitation, token
    world.existing, world.existing_token = existing, existing_token
    world.join_slug, world.link_token, world.join_token = page.slug, link_token, join_token
    return world


GO_ON = ("link", re.compile("^Go to"))  # the next step on a page that ends the journey


def visit_all(phone, live_server, pages, assert_accessible):
    """``pages``: (name, path or None to stay, (role, name) or a label of the main action,
    a button to press first or None)."""
    for name, path, action, press in pages:
        if path:
            phone.goto(f"{live_server}{path}")
        if press:
            # Measure the page the button leads to, not the one it leaves.
            with phone.expect_navigation():
                phone.get_by_role("button", name=press).click()
        locator = (phone.get_by_label(action) if isinstance(action, str)
                   else phone.get_by_role(action[0], name=action[1], exact=True))
        check_on_phone(phone, name, locator, assert_accessible)


def test_the_invitation_pages_fit_a_phone(phone, live_server, invitee_world, assert_accessible,
                                          browser_login):
    w = invitee_world
    visit_all(phone, live_server, [
        ("invitation-new-person", f"/i/{w.token}", ("button", "Create an account"), None),
        ("invitation-existing-account", f"/i/{w.existing_token}", ("button", "Log in to accept"), None),
        ("login-from-invitation", None, ("button", "Log in"), "Log in to accept"),
        ("register-from-invitation", f"/i/{w.token}/register", "Full name", None),
        ("login", "/login", ("button", "Log in"), None),
        ("register", "/register", "Full name", None),
    ], assert_accessible)
    browser_login(phone, w.existing)
    visit_all(phone, live_server, [
        ("invitation-logged-in", f"/i/{w.existing_token}", ("button", "Accept"), None),
        ("invitation-wrong-account", f"/i/{w.token}", ("button", "Log out and use another account"), None),
        ("invitation-declined", f"/i/{w.existing_token}", GO_ON, "Decline"),
        ("invitation-unavailable", f"/i/{w.existing_token}", GO_ON, None),
    ], assert_accessible)


def test_the_join_page_and_the_links_fit_a_phone(phone, live_server, invitee_world, assert_accessible,
                                                 browser_login):
    w = invitee_world
    visit_all(phone, live_server, [
        ("join-page", f"/join/{w.join_slug}", ("button", "Create an account"), None),
        ("invite-link", f"/l/{w.link_token}", ("button", "Create an account"), None),
        ("invite-link-unavailable", "/l/not-a-token", GO_ON, None),
        ("join-request-link", f"/r/{w.join_token}", ("button", "Create an account"), None),
    ], assert_accessible)
    browser_login(phone, w.existing)
    visit_all(phone, live_server, [
        ("join-page-logged-in", f"/join/{w.join_slug}", ("button", "Join"), None),
        ("invite-link-logged-in", f"/l/{w.link_token}", ("button", re.compile("^Join")), None),
        ("join-request-logged-in", f"/r/{w.join_token}", ("button", "Request to join"), None),
        ("join-request-sent", None, GO_ON, "Request to join"),
        ("join-request-refused", f"/r/{w.join_token}", GO_ON, None),
    ], assert_accessible)
