"""Editing a pending invitation in a real Chromium (issue 18): inline on the Invitations
panel with JavaScript, and through its own page without."""
import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.invitations.models import Invitation
from invites.orgs.models import Role
from tests.support import new_page

pytestmark = pytest.mark.browser


def reload_invitation(invitation_id):
    db.session.expire_all()
    return db.session.get(Invitation, invitation_id)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_owner_changes_an_invitations_role(
    browser, browser_context_args, live_server, team, make_invitation, browser_login, assert_accessible,
    javascript,
):
    invitation, token = make_invitation(team.org, team.owner, "ann@example.com")
    context, page = new_page(browser, {**browser_context_args, "java_script_enabled": javascript})
    try:
        browser_login(page, team.owner)
        panel = f"{live_server}/o/{team.org.slug}/manage/invitations"
        page.goto(panel)
        if javascript:
            page.evaluate("window.__sameDocument = true")  # lost if the page reloads
        row = page.locator(f"#invitation-{invitation.id}")
        row.get_by_role("button", name="Edit the invitation of ann@example.com").click()
        if javascript:
            # The row turns into the form, in place; focus starts on the role.
            expect(row).to_have_class("editing")
            expect(row.get_by_label("Role")).to_be_focused()
            assert_accessible(page)
        else:
            expect(page.get_by_role("heading", name="Edit the invitation of ann@example.com")).to_be_visible()
        page.get_by_label("Role").select_option(label="Manager")
        page.get_by_role("button", name="Save the invitation of ann@example.com").click()
        expect(page.locator("#flashes")).to_contain_text("role Member → Manager")
        if javascript:
            assert page.evaluate("window.__sameDocument") is True
        else:
            assert page.url == panel
        expect(row).not_to_have_class("editing")
        expect(row.locator("td[data-label='Role']")).to_have_text("Manager")
        assert reload_invitation(invitation.id).role == Role.MANAGER

    finally:
        context.close()
    # The link already mailed shows the new role, to the invitee in a browser of their own.
    context, invitee = new_page(browser, {**browser_context_args, "java_script_enabled": javascript})
    try:
        invitee.goto(f"{live_server}/i/{token}")
        expect(invitee.locator("main")).to_contain_text("invited ann@example.com to join Acme Training as Manager")
    finally:
        context.close()


def test_keeping_an_inline_edit_as_it_was_brings_the_row_back(page, live_server, team, make_invitation, browser_login):
    invitation, _ = make_invitation(team.org, team.owner, "bob@example.com")
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/invitations")
    row = page.locator(f"#invitation-{invitation.id}")
    row.get_by_role("button", name="Edit the invitation of bob@example.com").click()
    expect(row).to_have_class("editing")
    row.get_by_role("button", name="Keep as it was").click()
    expect(row).not_to_have_class("editing")
    expect(row.get_by_role("button", name="Edit the invitation of bob@example.com")).to_be_visible()
    assert reload_invitation(invitation.id).role == Role.MEMBER
