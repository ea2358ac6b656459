"""Email invitations in a real Chromium against the live app (Playwright): invite with a
preview, follow the emailed link in a second browser, register and accept while the
inviter's panel updates itself; inline resend and cancel; the bell; the member finder;
and axe-core on every invitation page."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from invites import clock
from invites.accounts.service import find_user_by_email
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.invitations import answering, sending
from invites.invitations.models import Invitation, Status
from tests.support import new_page, on_live_server, role_in

pytestmark = pytest.mark.browser


def reload_invitation(invitation_id):
    db.session.expire_all()
    return db.session.get(Invitation, invitation_id)


def invitation_link(smtp, address, live_server):
    [message] = smtp.to(address)
    [link] = [url for url in smtp.links(message) if "/i/" in url]
    return on_live_server(link, live_server)


def test_manager_invites_with_preview_and_the_invitee_registers_and_accepts(
    page, browser, browser_context_args, live_server, team, smtp, browser_login,
):
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    slug = team.org.slug

    # The manager: the form, the preview (htmx), then send.
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{slug}/invitations/new?group={group.id}")
    page.get_by_label("Email addresses or members").fill("newbie@example.com")
    expect(page.get_by_role("checkbox", name="New Hires")).to_be_checked()
    preview = page.locator("#invite-preview")
    expect(preview).not_to_have_attribute("open", "")
    page.get_by_role("button", name="Preview email").click()
    expect(preview).to_have_attribute("open", "")
    expect(preview).to_contain_text("Max Manager invited you to join Acme Training")
    expect(preview.locator("dd").first).to_have_text("newbie@example.com")
    text_version = preview.locator("pre.mail-text")
    for expected in ("Max Manager invited you to join Acme Training as Member",
                     "the group:\n- New Hires", "your-personal-link", "expires on"):
        expect(text_version).to_contain_text(expected)
    html_version = preview.frame_locator("iframe[title='HTML version of the invitation email']")
    expect(html_version.locator("body")).to_contain_text("Max Manager invited you to join Acme Training")
    expect(html_version.locator("body")).to_contain_text("New Hires")
    assert smtp.messages == []  # a preview sends nothing
    page.get_by_role("button", name="Send invitations").click()
    outcomes = page.get_by_role("region", name="What happened")
    expect(outcomes).to_contain_text("newbie@example.com")
    expect(outcomes).to_contain_text("Invitation sent.")

    # The Invitations panel shows it pending; the page is then left open.
    page.goto(f"{live_server}/o/{slug}/manage/invitations")
    row = page.locator("#invitations-table tbody tr", has_text="newbie@example.com")
    expect(row).to_contain_text("Pending")
    expect(row).to_contain_text("New Hires")
    page.evaluate("window.__sameDocument = true")  # lost if the page reloads

    # The invitee, in a browser of their own, follows the emailed link.
    [message] = smtp.to("newbie@example.com")
    assert message["Subject"] == "Max Manager invited you to join Acme Training"
    link = invitation_link(smtp, "newbie@example.com", live_server)
    context, invitee = new_page(browser, browser_context_args)
    try:
        invitee.goto(link)
        expect(invitee.get_by_role("heading", name="Join Acme Training")).to_be_visible()
        expect(invitee.locator("main")).to_contain_text("New Hires")
        invitee.get_by_role("button", name="Create an account").click()
        expect(invitee.get_by_role("heading", name="Create an account")).to_be_visible()
        email = invitee.get_by_label("Email")
        expect(email).to_have_value("newbie@example.com")
        expect(email).to_have_attribute("readonly", "")
        expect(email).not_to_be_editable()
        invitee.get_by_label("Full name").fill("Nina Newbie")
        invitee.get_by_label("Username").fill("nina")
        invitee.get_by_label("Password", exact=True).fill("a long new password")
        invitee.get_by_label("Repeat password").fill("a long new password")
        invitee.get_by_role("button", name="Create account").click()
        expect(invitee.locator("#flashes")).to_contain_text("Your account is ready, Nina Newbie.")
        invitee.get_by_role("button", name="Accept", exact=True).click()
        expect(invitee).to_have_url(f"{live_server}/o/{slug}")
        expect(invitee.locator("#flashes")).to_contain_text(
            "You joined Acme Training as Member, and the group New Hires.")
    finally:
        context.close()

    # The manager's panel turns the row to Accepted by itself (it polls), without a reload.
    expect(row).to_contain_text("Accepted", timeout=15_000)
    expect(row).to_contain_text("Nina Newbie (@nina)")
    assert page.evaluate("window.__sameDocument") is True

    db.session.expire_all()
    newbie = find_user_by_email("newbie@example.com")
    assert newbie is not None and newbie.is_verified and newbie.name == "Nina Newbie"
    assert role_in(team.org, newbie) == "member"
    assert db.session.get(GroupMember, (group.id, newbie.id)) is not None


def test_resend_and_cancel_inline_on_the_panel(page, live_server, team, smtp, make_invitation, browser_login):
    first, _ = make_invitation(team.org, team.owner, "first@example.com")
    second, _ = make_invitation(team.org, team.owner, "second@example.com")
    old_hash = first.token_hash
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/invitations")
    page.evaluate("window.__sameDocument = true")

    first_row = page.locator(f"#invitation-{first.id}")
    first_row.get_by_role("button", name="Resend to first@example.com").click()
    expect(page.locator("#flashes")).to_contain_text("Invitation sent again to first@example.com.")
    expect(first_row).to_contain_text("Pending")
    assert len(smtp.to("first@example.com")) == 2
    assert reload_invitation(first.id).token_hash != old_hash  # a new link

    second_row = page.locator(f"#invitation-{second.id}")
    dialogs = []
    table = page.locator("#invitations-table")
    drawn_for = table.get_attribute("hx-get")  # its poll URL names the version it shows
    second_row.get_by_role("button", name="Cancel the invitation of second@example.com").click()
    dialog = page.get_by_role("dialog")  # the in-page confirmation (static/app.js)
    dialogs.append(dialog.inner_text())
    dialog.get_by_role("button", name="Cancel invitation").click()
    expect(second_row).to_contain_text("Cancelled")
    expect(second_row.get_by_role("button")).to_have_count(0)  # nothing left to do on it
    expect(page.locator("#flashes")).to_contain_text("The invitation of second@example.com is cancelled.")
    # The panel's poll then redraws the table (the version changed); the message stays.
    expect(table).not_to_have_attribute("hx-get", drawn_for, timeout=15_000)
    expect(second_row).to_contain_text("Cancelled")
    expect(page.locator("#flashes")).to_contain_text("The invitation of second@example.com is cancelled.")
    assert "Cancel the invitation of second@example.com?" in dialogs[0]
    assert "Its link will stop working." in dialogs[0]
    assert page.evaluate("window.__sameDocument") is True
    assert reload_invitation(second.id).status == Status.CANCELLED
    assert reload_invitation(first.id).status == Status.PENDING


def test_an_existing_user_answers_from_the_dashboard_and_the_bell_updates(
    page, live_server, team, make_user, make_invitation, browser_login,
):
    ivy = make_user(name="Ivy Invitee")
    invitation, _ = make_invitation(team.org, team.owner, ivy.email)
    browser_login(page, ivy)
    page.goto(f"{live_server}/")
    bell = page.locator("#bell")
    expect(bell.locator(".bell-count")).to_have_text("1 unread")
    expect(page.get_by_role("link", name="Notifications 1 unread")).to_be_visible()

    section = page.get_by_role("region", name="Invitations for you")
    prompt = section.locator(f"#invitation-prompt-{invitation.id}")
    expect(prompt).to_contain_text("Olivia Owner invited you to join Acme Training as Member.")
    expect(prompt.get_by_role("button", name="Decline the invitation to Acme Training")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    prompt.get_by_role("button", name="Accept the invitation to Acme Training").click()

    expect(prompt).to_contain_text("Accepted.")
    expect(prompt.get_by_role("link", name="Go to Acme Training")).to_be_visible()
    expect(prompt.get_by_role("button")).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("Welcome to Acme Training!")
    expect(bell.locator(".bell-count")).to_have_count(0)  # swapped out of band
    expect(bell).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    assert role_in(team.org, ivy) == "member"
    assert reload_invitation(invitation.id).status == Status.ACCEPTED


def test_find_a_member_appends_their_username_to_the_addresses(page, live_server, team, browser_login):
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{team.org.slug}/invitations/new")
    addresses = page.get_by_label("Email addresses or members")
    addresses.fill("someone@example.com")
    search = page.get_by_label("Find a member")
    results = page.locator("#people-results")

    # Someone outside the organization is not offered.
    search.fill(team.outsider.username)
    expect(results).to_contain_text(f"No member matches “{team.outsider.username}”.")

    fragment = team.member.username[:-2]  # "userN-xxxx": a prefix only Mia's username has
    search.fill(fragment)
    buttons = results.get_by_role("button")
    expect(buttons).to_have_count(1)
    expect(buttons).to_contain_text("Mia Member")
    expect(buttons).to_contain_text(f"@{team.member.username}")
    buttons.click()
    expect(addresses).to_have_value(f"someone@example.com, @{team.member.username}")
    expect(results.get_by_role("button")).to_have_count(0)
    expect(search).to_have_value("")
    expect(addresses).to_be_focused()

    # By name as well, and picking the same person twice adds them once.
    search.fill("mia")
    results.get_by_role("button", name=re.compile("Mia Member")).click()
    expect(addresses).to_have_value(f"someone@example.com, @{team.member.username}")


@pytest.fixture
def invitations(team, make_user, make_invitation):
    """Invitations in every state, for the accessibility checks: Ivy (an account) and a
    new address pending, and one each accepted, declined, cancelled, not delivered and
    expired. Returns a namespace with the tokens and the people."""

    class Made:
        pass

    made = Made()
    made.group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    made.ivy = make_user(name="Ivy Invitee")
    made.for_ivy, made.ivy_token = make_invitation(
        team.org, team.owner, made.ivy.email, groups=[made.group], message="Welcome aboard!"
    )
    _, made.new_token = make_invitation(team.org, team.manager, "newbie@example.com")
    accepted, _ = make_invitation(team.org, team.owner, team.outsider.email)
    answering.accept_invitation(accepted, team.outsider, by_link=True)
    declined, _ = make_invitation(team.org, team.owner, "declined@example.com")
    answering.decline_invitation(declined, by_link=True)
    cancelled, _ = make_invitation(team.org, team.owner, "cancelled@example.com")
    sending.cancel_invitation(team.org, team.owner, cancelled)
    failed, _ = make_invitation(team.org, team.owner, "failed@example.com")
    failed.delivery_error = "550 mailbox unavailable"
    expired, made.expired_token = make_invitation(team.org, team.owner, "expired@example.com")
    expired.expires_at = clock.now() - timedelta(days=1)
    db.session.commit()
    return made


def test_the_emailed_link_pages_are_accessible_logged_out(page, live_server, invitations, assert_accessible):
    # The link of a new address, of someone with an account, the register form with the
    # address locked, an unknown link and an expired one.
    for path, heading in (
        (f"/i/{invitations.new_token}", "Join Acme Training"),
        (f"/i/{invitations.ivy_token}", "Join Acme Training"),
        (f"/i/{invitations.new_token}/register", "Create an account"),
        ("/i/no-such-token", "This invitation link is not valid."),
        (f"/i/{invitations.expired_token}", "This invitation has expired."),
    ):
        page.goto(f"{live_server}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)


def test_the_inviters_invitation_pages_are_accessible(
    page, live_server, team, invitations, browser_login, assert_accessible,
):
    slug = team.org.slug
    browser_login(page, team.owner)
    # The panel with rows in every state.
    page.goto(f"{live_server}/o/{slug}/manage/invitations")
    statuses = page.locator("#invitations-table .status")
    expect(statuses).to_have_count(7)
    assert sorted(statuses.all_inner_texts()) == sorted(
        ["Pending", "Pending", "Accepted", "Declined", "Cancelled", "Not delivered", "Expired"]
    )
    assert_accessible(page)
    # The form with the preview open, and the owners' invitation email settings.
    page.goto(f"{live_server}/o/{slug}/invitations/new?group={invitations.group.id}")
    page.get_by_label("Email addresses or members").fill("newbie2@example.com")
    page.get_by_label("Personal message (optional)").fill("See you soon.")
    page.get_by_role("button", name="Preview email").click()
    expect(page.locator("#invite-preview")).to_have_attribute("open", "")
    expect(page.locator("#invite-preview pre")).to_contain_text("See you soon.")
    assert_accessible(page)
    page.goto(f"{live_server}/o/{slug}/manage/invitations/email")
    expect(page.locator("#invite-preview")).to_have_attribute("open", "")
    assert_accessible(page)
    # Ivy's link opened while logged in with another account.
    page.goto(f"{live_server}/i/{invitations.ivy_token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This invitation was sent to another email address."
    )
    expect(page.get_by_role("button", name="Log out and use another account")).to_be_visible()
    assert_accessible(page)


def test_the_invitees_invitation_pages_are_accessible(
    page, live_server, invitations, browser_login, assert_accessible,
):
    browser_login(page, invitations.ivy)
    # The link, the notifications page and the dashboard, each with Accept and Decline.
    page.goto(f"{live_server}/i/{invitations.ivy_token}")
    expect(page.get_by_role("button", name="Accept", exact=True)).to_be_visible()
    assert_accessible(page)
    page.goto(f"{live_server}/notifications")
    expect(page.locator(f"#invitation-prompt-{invitations.for_ivy.id}")).to_contain_text("Welcome aboard!")
    assert_accessible(page)
    page.goto(f"{live_server}/")
    section = page.get_by_role("region", name="Invitations for you")
    prompt = section.locator(f"#invitation-prompt-{invitations.for_ivy.id}")
    expect(prompt.get_by_role("button", name="Accept the invitation to Acme Training")).to_be_visible()
    assert_accessible(page)
