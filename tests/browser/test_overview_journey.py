"""The Overview in Chromium (issue 16 point 3, issue 22 point 3): with JavaScript off an
owner reads the counts, accepts a waiting join request through the confirm page and
follows the "Add people" entry to each of its three ways; with JavaScript on, Resend
works in place; axe-core finds nothing at 390 and 1280 px, and nothing is wider than a
390 px screen."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from invites.clock import now
from invites.extensions import db
from invites.join_requests import service as join_requests
from invites.join_requests.models import Notify
from invites.orgs.models import Role
from tests.support import role_in, wider_than_screen

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_org(app, team, make_user, make_invitation, make_link):
    """Acme with one join request waiting, one invitation expiring tomorrow, one link."""
    asker = make_user(name="Ada Asker")
    with app.test_request_context():
        link, _ = join_requests.create_join_link(team.org, team.owner, "Volunteers", Role.MEMBER, [], Notify.NOBODY, [])
        join_requests.request_to_join(link, asker, "I would like to help.")
        db.session.commit()
    invitation, _ = make_invitation(team.org, team.owner, "soon@example.com")
    invitation.expires_at = now() + timedelta(days=1)
    db.session.commit()
    make_link(team.org, team.owner)
    team.asker, team.invitation = asker, invitation
    return team


def counts_on(page):
    return [" ".join(text.split()) for text in page.locator(".overview-counts li").all_text_contents()]


def test_an_owner_works_from_the_overview_without_javascript(browser, live_server, busy_org, browser_login):
    team = busy_org
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    browser_login(page, team.owner)
    overview = f"{live_server}/o/{team.org.slug}"
    page.goto(overview)
    assert counts_on(page) == ["4 members", "1 pending invitation", "1 join request waiting", "1 active invite link"]
    waiting = page.get_by_role("region", name="Join requests waiting")
    expect(waiting).to_contain_text("Ada Asker")
    expect(page.get_by_role("region", name="Invitations expiring soon")).to_contain_text("soon@example.com")

    # Accept, through the server's confirm page.
    waiting.get_by_role("button", name="Accept Ada Asker").click()
    expect(page.get_by_role("heading", name="Accept Ada Asker's request?")).to_be_visible()
    assert role_in(team.org, team.asker) is None  # only asked
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#flashes")).to_contain_text("Ada Asker is now a member of Acme Training.")
    assert role_in(team.org, team.asker) == Role.MEMBER
    page.goto(overview)
    assert counts_on(page)[:3] == ["5 members", "1 pending invitation", "0 join requests waiting"]
    expect(page.get_by_role("region", name="Recent joins").locator("li").first).to_contain_text("Ada Asker")
    expect(page.get_by_role("region", name="Recent joins").locator("li").first).to_contain_text("Join request")
    # The counts lead to their panels.
    page.get_by_role("link", name="1 pending invitation").click()
    expect(page.get_by_role("heading", name="Invitations", exact=True)).to_be_visible()

    # "Add people" reaches its three ways, on the Overview and from the Members panel's menu.
    for way, heading in (("Invite Member", "Invite Member"), ("Import Learners", "Import Learners"),
                         ("Join Web Page", "Join Web Page")):
        page.goto(overview)
        entry = page.get_by_role("region", name="Add people")
        if way != "Invite Member":
            expect(entry.locator("li", has_text=way)).to_contain_text("Premium plan")
        entry.get_by_role("link", name=way).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        if way != "Invite Member":
            expect(page.locator(".notice")).to_contain_text("premium plan")
    page.goto(f"{live_server}/o/{team.org.slug}/manage/members")
    expect(page.get_by_role("button", name="Invite Member", exact=True)).to_be_visible()
    page.locator("summary", has_text="Add people").click()
    page.locator(".add-people-menu").get_by_role("link", name="Import Learners").click()
    expect(page.get_by_role("heading", name="Import Learners", exact=True)).to_be_visible()
    context.close()


def test_resend_works_in_place_with_javascript(page, live_server, busy_org, browser_login):
    team = busy_org
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}")
    expiring = page.get_by_role("region", name="Invitations expiring soon")
    expiring.get_by_role("button", name="Resend to soon@example.com").click()
    expect(page.locator("#flashes")).to_contain_text("Invitation sent again to soon@example.com.")
    expect(expiring.locator("li", has_text="soon@example.com")).to_have_count(0)
    db.session.refresh(team.invitation)
    assert team.invitation.expires_at > now() + timedelta(days=5)


@pytest.mark.parametrize("width", [390, 1280])
def test_the_overview_is_accessible_and_fits(page, live_server, busy_org, browser_login, assert_accessible, width):
    team = busy_org
    page.set_viewport_size({"width": width, "height": 900})
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}")
    expect(page.locator("svg.chart")).to_have_count(3)
    assert_accessible(page)
    assert wider_than_screen(page) == []
    for who in (team.member, team.collaborator):
        page.context.clear_cookies()
        browser_login(page, who)
        page.goto(f"{live_server}/o/{team.org.slug}")
        expect(page.get_by_role("heading", name="Your groups")).to_be_visible()
        assert_accessible(page)
        assert wider_than_screen(page) == []
    page.context.clear_cookies()
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/members")
    page.locator("summary", has_text="Add people").click()
    assert_accessible(page)
    assert wider_than_screen(page) == []
