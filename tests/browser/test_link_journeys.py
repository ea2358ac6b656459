"""Invite links (F11) in a real Chromium against the live app (Playwright): a manager
makes a link from a group's page and copies it, a new person registers through it and
joins; the owner deletes a link inline from the panel and its URL then says so; "Anyone
with the link" is not offered to a manager who may not add new people; and axe-core on
every invite link page, including each refusal."""
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from invites import clock
from invites.accounts.service import find_user_by_email
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.links import service
from invites.links.models import Access, InviteLink
from invites.orgs.models import Membership, Role
from tests.support import new_page, on_live_server

pytestmark = pytest.mark.browser

LINK_PAGE = re.compile(r"/o/[^/]+/links/(\d+)$")


def reload_link(link_id):
    db.session.expire_all()
    return db.session.get(InviteLink, link_id)


def setting(page, name):
    """The value (<dd>) of one of the link page's settings."""
    return page.locator("dl.settings dt", has_text=re.compile(f"^{name}$")).locator("xpath=following-sibling::dd[1]")


def link_id_of(page):
    return int(LINK_PAGE.search(urlsplit(page.url).path).group(1))


def test_manager_makes_a_link_from_a_group_and_a_new_person_registers_and_joins(
    page, browser, browser_context_args, live_server, team, browser_login,
):
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    slug = team.org.slug
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)

    # The manager: the group's page, "Invite with a link", the form, Create.
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{slug}/groups/{group.id}")
    page.get_by_role("button", name="Invite with a link").click()
    expect(page.get_by_role("heading", name="New Invite")).to_be_visible()
    page.get_by_role("radio", name="1 day").check()
    page.get_by_role("radio", name="Anyone with the link").check()
    expect(page.get_by_role("checkbox", name="New Hires")).to_be_checked()
    before = clock.now()
    page.get_by_role("button", name="Create").click()

    # The link's page: the URL, Copy link, the settings.
    expect(page).to_have_url(LINK_PAGE)
    expect(page.locator("#flashes")).to_contain_text("Invite link created.")
    field = page.locator("#link-url")
    expect(field).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/l/[A-Za-z0-9_-]{20,}$"))
    expect(field).to_have_attribute("readonly", "")
    url = field.input_value()
    copy = page.locator("button[data-copy='#link-url']")  # its name changes once clicked
    expect(copy).to_have_accessible_name("Copy link")
    copy.click()
    expect(copy).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    expect(page.get_by_role("status").filter(has_text="Copied to the clipboard.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url

    link = reload_link(link_id_of(page))
    assert link.access == Access.ANYONE and [g.id for g in link.groups] == [group.id]
    assert timedelta(hours=23, minutes=59) <= link.expires_at - before <= timedelta(days=1, minutes=1)
    expect(setting(page, "Organization")).to_have_text("Acme Training")
    expect(setting(page, "Who may use it")).to_have_text("Anyone with the link")
    expect(setting(page, "Role")).to_have_text("Member")
    expect(setting(page, "Groups")).to_have_text("New Hires")
    expect(setting(page, "Expires").locator("time")).to_have_attribute(
        "datetime", f"{link.expires_at:%Y-%m-%dT%H:%M:%S}Z")
    expect(setting(page, "Uses so far")).to_have_text("0")
    expect(setting(page, "Created by")).to_have_text("Max Manager")
    expect(setting(page, "Created at").locator("time")).to_have_attribute(
        "datetime", f"{link.created_at:%Y-%m-%dT%H:%M:%S}Z")

    # A new person, in a browser of their own, follows the link and registers.
    context, newcomer = new_page(browser, browser_context_args)
    try:
        newcomer.goto(on_live_server(url, live_server))
        expect(newcomer.get_by_role("heading", name="Join Acme Training")).to_be_visible()
        expect(newcomer.locator("main")).to_contain_text("Max Manager shared this invite link.")
        expect(newcomer.locator("main")).to_contain_text("New Hires")
        expect(newcomer.get_by_role("button", name="Join Acme Training")).to_have_count(0)
        newcomer.get_by_role("button", name="Create an account").click()
        expect(newcomer.get_by_role("heading", name="Create an account")).to_be_visible()
        newcomer.get_by_label("Full name").fill("Nina Newbie")
        newcomer.get_by_label("Username").fill("nina")
        newcomer.get_by_label("Email").fill("nina@example.com")
        newcomer.get_by_label("Password", exact=True).fill("a long new password")
        newcomer.get_by_label("Repeat password").fill("a long new password")
        newcomer.get_by_role("button", name="Create account").click()

        # Back on the link's page, logged in: Join.
        expect(newcomer).to_have_url(on_live_server(url, live_server))
        expect(newcomer.locator("#flashes")).to_contain_text("Welcome, Nina Newbie! Your account is ready.")
        expect(newcomer.locator("main")).to_contain_text("You will join as Member.")
        newcomer.get_by_role("button", name="Join Acme Training").click()
        expect(newcomer).to_have_url(f"{live_server}/o/{slug}/groups/{group.id}")
        expect(newcomer.get_by_role("heading", name="New Hires")).to_be_visible()
        expect(newcomer.locator("#flashes")).to_contain_text(
            "You joined Acme Training as Member, and the group New Hires.")
    finally:
        context.close()

    db.session.expire_all()
    nina = find_user_by_email("nina@example.com")
    assert nina is not None and nina.name == "Nina Newbie"
    assert db.session.scalar(
        db.select(Membership.role).filter_by(org_id=team.org.id, user_id=nina.id)
    ) == Role.MEMBER
    assert db.session.get(GroupMember, (group.id, nina.id)) is not None
    assert reload_link(link.id).uses == 1
    # The manager's page shows the use once reloaded.
    page.reload()
    expect(setting(page, "Uses so far")).to_have_text("1")


def test_owner_deletes_a_link_inline_from_the_panel_and_its_url_then_says_so(
    page, browser, browser_context_args, live_server, team, browser_login,
):
    slug = team.org.slug
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{slug}/manage/links")
    expect(page.get_by_role("heading", name="Invite Links")).to_be_visible()
    page.get_by_role("button", name="New Invite").click()
    expect(page.get_by_role("heading", name="New Invite")).to_be_visible()
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(LINK_PAGE)
    link_id = link_id_of(page)
    url = on_live_server(page.locator("#link-url").input_value(), live_server)

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Invite Links").click()
    # htmx binds the row's Delete once the page has loaded; a click before that posts the
    # form without JavaScript (the confirmation page, no dialog): seen on a loaded machine.
    page.wait_for_url(f"{live_server}/o/{slug}/manage/links")  # and its "load" event
    row = page.locator(f"#link-{link_id}")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Olivia Owner")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads

    dialogs = []
    row.get_by_role("button", name=f"Delete link #{link_id}").click()
    dialog = page.get_by_role("dialog")  # the in-page confirmation (static/app.js)
    dialogs.append(dialog.inner_text())
    dialog.get_by_role("button", name="Delete link").click()
    expect(row).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("Invite link deleted.")
    assert f"Delete link #{link_id}?" in dialogs[0]
    assert "Nobody will be able to join with it any more." in dialogs[0]
    assert page.evaluate("window.__sameDocument") is True
    assert reload_link(link_id).deleted_at is not None

    # The link's URL, opened by someone else, says it was deleted.
    context, other = new_page(browser, browser_context_args)
    try:
        response = other.goto(url)
        assert response.status == 410
        expect(other.get_by_role("heading", level=1)).to_have_text("This invite link was deleted.")
        expect(other.get_by_role("button", name="Create an account")).to_have_count(0)
    finally:
        context.close()


def test_a_manager_who_may_not_add_people_is_offered_members_only_links(
    page, live_server, team, browser_login,
):
    team.org.managers_may_add_people = False
    db.session.commit()
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{team.org.slug}/links/new")
    access = page.get_by_role("group", name="Who may use it")
    expect(access.get_by_role("radio")).to_have_count(1)
    expect(access.get_by_role("radio", name="Existing members only")).to_be_checked()
    expect(page.get_by_role("radio", name="Anyone with the link")).to_have_count(0)
    expect(access).to_contain_text("Only people who may add new people can make links for anyone.")
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(LINK_PAGE)
    expect(setting(page, "Who may use it")).to_have_text("Existing members only")


# ---- accessibility ---------------------------------------------------------------------

@pytest.fixture
def links(app, team, make_user):
    """Links in every state, for the accessibility checks: active (anyone, into a group),
    active (members only), expired, used up, deleted. The clock is then moved on two
    hours, which expires the one-hour link (the live server shares this process's
    clock). Returns a namespace with the tokens and a non-member with an account."""

    class Made:
        pass

    made = Made()
    made.group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    made.stranger = make_user(name="Sam Stranger")
    used = make_user(name="Uma User")

    def create(creator, **settings):
        settings = {"expiration": "7d", "access": Access.ANYONE, "role": Role.MEMBER,
                    "groups": [], **settings}
        with app.test_request_context():
            link, token = service.create_link(team.org, creator, **settings)
            db.session.commit()
        return link, token

    _, made.active_token = create(team.owner, groups=[made.group])
    _, made.members_token = create(team.manager, access=Access.MEMBERS)
    _, made.expired_token = create(team.owner, expiration="1h")
    used_up, made.used_up_token = create(team.owner, max_uses=1)
    service.use_link(used_up, used)
    db.session.commit()
    deleted, made.deleted_token = create(team.owner)
    service.delete_link(team.org, team.owner, deleted)
    db.session.commit()
    clock.freeze(clock.now() + timedelta(hours=2))
    yield made
    clock.unfreeze()


def test_the_link_managers_pages_are_accessible(
    page, live_server, team, links, browser_login, assert_accessible,
):
    slug = team.org.slug
    browser_login(page, team.owner)
    # The panel with links in several states (the deleted one is not listed).
    page.goto(f"{live_server}/o/{slug}/manage/links")
    statuses = page.locator("#links-table .status")
    expect(statuses).to_have_count(4)
    assert sorted(statuses.all_inner_texts()) == ["Active", "Active", "Expired", "Used up"]
    assert_accessible(page)

    # The New Invite form, fresh and then with a validation error.
    page.get_by_role("button", name="New Invite").click()
    expect(page.get_by_role("heading", name="New Invite")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("radio", name="Custom date").check()
    page.get_by_role("button", name="Create").click()
    error = page.locator("#custom_date-error")
    expect(error).to_have_text("Pick the date the link stops working.")
    expect(page.locator("#custom_date")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    # The created link's page, with its URL, Copy link (once used) and the Share form.
    page.get_by_role("radio", name="7 days").check()
    page.get_by_role("button", name="Create").click()
    expect(page).to_have_url(LINK_PAGE)
    expect(page.locator("#link-url")).to_have_value(re.compile(r"/l/"))
    expect(page.get_by_role("heading", name="Share")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Share").click()  # no addresses: an error
    expect(page.locator("#addresses-error")).to_have_text("Enter at least one email address.")
    assert_accessible(page)


def test_the_followed_link_pages_are_accessible(
    page, live_server, links, browser_login, assert_accessible,
):
    # Logged out: the link, and every refusal.
    for path, heading, status in (
        (f"/l/{links.active_token}", "Join Acme Training", 200),
        ("/l/no-such-token", "This invite link is not valid.", 404),
        (f"/l/{links.expired_token}", "This invite link has expired.", 410),
        (f"/l/{links.deleted_token}", "This invite link was deleted.", 410),
        (f"/l/{links.used_up_token}", "This invite link has been used up.", 410),
    ):
        response = page.goto(f"{live_server}{path}")
        assert response.status == status, path
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
    page.goto(f"{live_server}/l/{links.active_token}")
    expect(page.get_by_role("button", name="Create an account")).to_be_visible()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()

    # Logged in as someone in no organization: the link, and a members-only link.
    browser_login(page, links.stranger)
    page.goto(f"{live_server}/l/{links.active_token}")
    expect(page.get_by_role("button", name="Join Acme Training")).to_be_visible()
    assert_accessible(page)
    response = page.goto(f"{live_server}/l/{links.members_token}")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This invite link is for existing members only.")
    assert_accessible(page)
