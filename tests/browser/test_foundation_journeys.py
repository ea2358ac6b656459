"""Journeys in a real Chromium against the live app (Playwright)."""
import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.groups.service import add_to_group, create_group
from tests.support import role_in

pytestmark = pytest.mark.browser


def test_owner_logs_in_and_changes_a_role_inline_with_htmx(page, live_server, team, browser_login):
    browser_login(page, team.owner)
    page.locator("summary", has_text=team.owner.name).click()  # the profile menu
    page.get_by_role("link", name="My Organizations").click()
    page.get_by_role("link", name="Acme Training").click()
    page.get_by_role("link", name="Manage").click()
    page.get_by_role("navigation", name="Organization Settings").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()

    page.evaluate("window.__sameDocument = true")  # lost if the page reloads
    row = page.locator(f"#member-{team.memberships['member'].id}")
    row.get_by_label("Role of Mia Member").select_option("manager")
    expect(page.locator("#flashes")).to_contain_text("Mia Member is now Manager.")
    expect(row.get_by_label("Role of Mia Member")).to_have_value("manager")
    assert page.evaluate("window.__sameDocument") is True
    assert role_in(team.org, team.member) == "manager"

    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("cell", name="changed Mia Member's role from Member to Manager")).to_be_visible()


def test_remove_asks_for_confirmation_and_takes_the_row_away(page, live_server, team, browser_login):
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/members")
    row = page.locator(f"#member-{team.memberships['collaborator'].id}")
    messages = []
    dialog = page.get_by_role("dialog")  # the in-page confirmation (static/app.js)

    row.get_by_role("button", name="Remove Cole Collaborator").click()
    messages.append(dialog.get_by_role("heading").inner_text())
    dialog.get_by_role("button", name="Keep").click()
    expect(row).to_be_visible()
    assert role_in(team.org, team.collaborator) == "collaborator"
    row.get_by_role("button", name="Remove Cole Collaborator").click()
    messages.append(dialog.get_by_role("heading").inner_text())
    dialog.get_by_role("button", name="Remove", exact=True).click()
    expect(row).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("Cole Collaborator was removed")
    assert messages == ["Remove Cole Collaborator from Acme Training?"] * 2
    assert role_in(team.org, team.collaborator) is None


def test_removing_from_a_group_asks_with_and_without_javascript(browser, live_server, team, browser_login):
    from invites.groups.models import GroupMember

    group = create_group(team.org, team.owner, "New Hires")
    add_to_group(team.org, team.owner, group, team.member)
    add_to_group(team.org, team.owner, group, team.collaborator)
    db.session.commit()

    def in_group(user):
        db.session.expire_all()
        return db.session.get(GroupMember, (group.id, user.id)) is not None

    for javascript, user in ((True, team.member), (False, team.collaborator)):
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        browser_login(page, team.owner)
        page.goto(f"{live_server}/o/{team.org.slug}/groups/{group.id}")
        row = page.locator(f"#group-member-{user.id}")
        if javascript:
            row.get_by_role("button", name=f"Remove {user.name}").click()
            dialog = page.get_by_role("dialog", name=f"Remove {user.name} from New Hires?")
            dialog.get_by_role("button", name="Remove from group").click()
            expect(row).to_have_count(0)
        else:
            row.get_by_role("button", name=f"Remove {user.name}").click()
            expect(page.get_by_role("heading", name=f"Remove {user.name} from New Hires?")).to_be_visible()
            assert in_group(user)  # only asked
            page.get_by_role("button", name="Remove from group").click()
        expect(page.locator("#flashes")).to_contain_text(f"{user.name} removed from New Hires.")
        assert not in_group(user) and role_in(team.org, user) is not None
        context.close()


def test_the_last_owner_rule_shows_in_the_browser(page, live_server, team, browser_login):
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/members")
    select = page.get_by_label("Role of Olivia Owner")
    select.select_option("member")
    expect(page.locator("#flashes")).to_contain_text("at least one owner")
    expect(select).to_have_value("owner")
    assert role_in(team.org, team.owner) == "owner"


def test_works_without_javascript(browser, live_server, team, browser_login):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/members")
    row = page.locator(f"#member-{team.memberships['member'].id}")
    row.get_by_label("Role of Mia Member").select_option("collaborator")
    row.get_by_role("button", name="Change").click()
    expect(page.locator("#flashes")).to_contain_text("Mia Member is now Collaborator.")
    assert role_in(team.org, team.member) == "collaborator"
    row.get_by_role("button", name="Remove Mia Member").click()
    expect(page.get_by_role("heading", name="Remove Mia Member?")).to_be_visible()
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#flashes")).to_contain_text("Mia Member was removed")
    assert role_in(team.org, team.member) is None
    context.close()


def test_pages_have_no_accessibility_violations(page, live_server, team, browser_login, assert_accessible):
    group = create_group(team.org, team.owner, "New Hires")
    add_to_group(team.org, team.owner, group, team.member, is_manager=True)
    db.session.commit()
    for path in ("/", "/login", "/register"):
        page.goto(f"{live_server}{path}")
        assert_accessible(page)
    browser_login(page, team.owner)
    slug = team.org.slug
    for path in (
        "/", "/orgs", "/orgs/new", f"/o/{slug}", f"/o/{slug}/manage",
        f"/o/{slug}/manage/members", f"/o/{slug}/groups", f"/o/{slug}/groups/{group.id}",
        f"/o/{slug}/manage/permissions", f"/o/{slug}/manage/activity", "/no-such-page",
    ):
        page.goto(f"{live_server}{path}")
        assert_accessible(page)
    # With the profile menu open, and with a form showing errors.
    page.goto(f"{live_server}/orgs")
    page.locator("summary", has_text=team.owner.name).click()
    assert_accessible(page)
    page.goto(f"{live_server}/orgs/new")
    page.get_by_role("button", name="Create organization").click()
    expect(page.locator(".field-error")).to_be_visible()
    assert_accessible(page)


def test_the_accessibility_check_does_fire(page, live_server):
    """A deliberately broken page must fail, or a green axe run proves nothing."""
    page.set_content("<html><body><img src='x.png'><input type='text'></body></html>")
    from tests.support import axe_violations

    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label", "html-has-lang"} <= ids
