"""Issue 22 in a real Chromium: a group's manager cancels an invitation from the group's
page, with JavaScript (in the page) and without (the confirm page); a new organization
lets only its owners add new people until an owner allows managers (seed 001)."""
import re
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Organization, Role
from tests.support import new_page

pytestmark = pytest.mark.browser


def reload_status(invitation_id):
    db.session.expire_all()
    return db.session.get(Invitation, invitation_id).status


@pytest.fixture
def trainers(team, make_user, add_member, make_invitation):
    """Trainers, managed by Gina (a member), with a pending invitation into it, and one
    into Trainers and Coaches, which stays with the staff."""
    group = create_group(team.org, team.owner, "Trainers")
    coaches = create_group(team.org, team.owner, "Coaches")
    gina = make_user(name="Gina Groupmanager")
    add_member(team.org, gina, Role.MEMBER)
    db.session.add(GroupMember(group_id=group.id, user_id=gina.id, is_manager=True))
    db.session.commit()
    mine, _ = make_invitation(team.org, team.owner, "trainee@example.com", groups=[group])
    shared, _ = make_invitation(team.org, team.owner, "shared@example.com", groups=[group, coaches])
    return SimpleNamespace(group=group, gina=gina, mine=mine, shared=shared)


def test_a_group_manager_cancels_an_invitation_in_the_page(
    page, live_server, team, trainers, browser_login, assert_accessible,
):
    browser_login(page, trainers.gina)
    page.goto(f"{live_server}/o/{team.org.slug}/groups/{trainers.group.id}")
    section = page.get_by_role("region", name="Invitations")
    expect(section).to_be_visible()
    assert_accessible(page)
    shared_row = section.locator(f"#invitation-{trainers.shared.id}")
    expect(shared_row).to_contain_text("Pending")
    expect(shared_row.get_by_role("button")).to_have_count(0)  # names another group: staff only
    row = section.locator(f"#invitation-{trainers.mine.id}")
    expect(row).to_contain_text("Pending")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads

    # The in-page confirmation asks first; its button says what it does.
    row.get_by_role("button", name="Cancel the invitation of trainee@example.com").click()
    dialog = page.get_by_role("dialog", name="Cancel the invitation of trainee@example.com?")
    expect(dialog).to_be_visible()
    assert reload_status(trainers.mine.id) == Status.PENDING
    dialog.get_by_role("button", name="Cancel invitation").click()
    expect(row).to_contain_text("Cancelled")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("The invitation of trainee@example.com is cancelled.")
    assert page.evaluate("window.__sameDocument") is True
    assert reload_status(trainers.mine.id) == Status.CANCELLED
    assert reload_status(trainers.shared.id) == Status.PENDING


def test_without_javascript_a_group_manager_confirms_on_a_page_and_comes_back(
    browser, live_server, team, trainers, browser_login,
):
    context = browser.new_context(java_script_enabled=False, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        browser_login(page, trainers.gina)
        group_page = f"{live_server}/o/{team.org.slug}/groups/{trainers.group.id}"
        page.goto(group_page)
        row = page.locator(f"#invitation-{trainers.mine.id}")
        row.get_by_role("button", name="Cancel the invitation of trainee@example.com").click()

        # The confirm page: nothing is cancelled yet, and "No" would go back to the group.
        expect(page.get_by_role("heading", name="Cancel the invitation of trainee@example.com?")).to_be_visible()
        assert reload_status(trainers.mine.id) == Status.PENDING
        page.get_by_role("button", name="Cancel invitation").click()

        expect(page).to_have_url(f"{group_page}#group-invitations")
        expect(page.locator("#flashes")).to_contain_text("The invitation of trainee@example.com is cancelled.")
        expect(page.locator(f"#invitation-{trainers.mine.id}")).to_contain_text("Cancelled")
        assert reload_status(trainers.mine.id) == Status.CANCELLED
    finally:
        context.close()


def test_a_new_organization_refuses_anyone_links_from_a_manager_until_the_owner_allows_it(
    page, browser, browser_context_args, live_server, make_user, add_member, browser_login,
):
    owner = make_user(name="Olga Owner")
    manager = make_user(name="Manny Manager")

    # The owner creates an organization; managers may not add new people yet.
    browser_login(page, owner)
    page.goto(f"{live_server}/orgs/new")
    page.get_by_label("Organization name").fill("Fresh Start")
    page.get_by_role("button", name="Create organization").click()
    org = db.session.scalar(db.select(Organization).filter_by(name="Fresh Start"))
    assert org is not None and org.managers_may_add_people is False
    add_member(org, manager, Role.MANAGER)
    page.goto(f"{live_server}/o/{org.slug}/manage/permissions")
    expect(page.get_by_role("switch", name="Managers")).not_to_be_checked()

    context, manager_page = new_page(browser, browser_context_args)
    try:
        browser_login(manager_page, manager)
        # No "Anyone with the link" for the manager...
        manager_page.goto(f"{live_server}/o/{org.slug}/links/new")
        expect(manager_page.get_by_role("radio", name="Existing members only")).to_be_checked()
        expect(manager_page.get_by_role("radio", name="Anyone with the link")).to_have_count(0)
        # ...and an invitation to a new person is not sent.
        manager_page.goto(f"{live_server}/o/{org.slug}/invitations/new")
        manager_page.get_by_label("Email addresses or members").fill("newcomer@example.com")
        manager_page.get_by_role("button", name="Send invitations").click()
        outcomes = manager_page.get_by_role("region", name="What happened")
        expect(outcomes).to_contain_text("Not allowed")
        assert db.session.scalar(db.select(Invitation.id).filter_by(org_id=org.id)) is None

        # The owner allows managers under Permissions.
        page.get_by_role("switch", name="Managers").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("switch", name="Managers")).to_be_checked()
        db.session.expire_all()
        assert db.session.get(Organization, org.id).managers_may_add_people is True

        # Now the manager may make a link for anyone, and invite the new person.
        manager_page.goto(f"{live_server}/o/{org.slug}/links/new")
        manager_page.get_by_role("radio", name="Anyone with the link").check()
        manager_page.get_by_role("button", name="Create").click()
        expect(manager_page).to_have_url(re.compile(r"/o/[^/]+/links/\d+$"))
        expect(manager_page.locator("main")).to_contain_text("Anyone with the link")
        manager_page.goto(f"{live_server}/o/{org.slug}/invitations/new")
        manager_page.get_by_label("Email addresses or members").fill("newcomer@example.com")
        manager_page.get_by_role("button", name="Send invitations").click()
        outcomes = manager_page.get_by_role("region", name="What happened")
        expect(outcomes).to_contain_text("Invitation sent.")
        assert reload_status(db.session.scalar(
            db.select(Invitation.id).filter_by(org_id=org.id, email="newcomer@example.com"))) == Status.PENDING
    finally:
        context.close()
