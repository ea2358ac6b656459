"""Join request links and join requests (F12) in a real Chromium against the live app
(Playwright): a manager makes a link through the form, a new person registers through it
and asks to join, the manager accepts inline and the requester hears of it in the bell,
on the notifications page and by email; inline reject and dismiss; and axe-core on every
join request page, including each refusal."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from invites.accounts.service import find_user_by_email
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.join_requests import service
from invites.join_requests.models import JoinLink, JoinRequest, Notify, RequestStatus
from invites.orgs.models import Role
from tests.support import new_page, on_live_server, role_in

pytestmark = pytest.mark.browser

EDIT_PAGE = re.compile(r"/o/[^/]+/join-links/(\d+)$")


def reload_request(request_id):
    db.session.expire_all()
    return db.session.scalar(db.select(JoinRequest).filter_by(id=request_id))


def subjects_to(smtp, address):
    return [m["Subject"] for m in smtp.to(address)]


@pytest.fixture
def make_join_link(app):
    """Create a join request link through the service; returns (link, token)."""

    def make(org, creator, description="Volunteers for the spring fair", role=Role.MEMBER,
             groups=(), notify=Notify.ALL, recipients=()):
        with app.test_request_context():
            link, token = service.create_join_link(
                org, creator, description, role, list(groups), notify, list(recipients),
            )
            db.session.commit()
        return link, token

    return make


@pytest.fixture
def ask(app):
    """``user`` asks to join through ``link`` (as the POST to /r/<token> does, without mail)."""

    def make(link, user, message=""):
        with app.test_request_context():
            join_request = service.request_to_join(link, user, message)
            db.session.commit()
        return join_request

    return make


def test_manager_makes_a_link_and_a_new_person_asks_and_is_accepted(
    page, browser, browser_context_args, live_server, team, smtp, browser_login, assert_accessible,
):
    group = create_group(team.org, team.owner, "Volunteers")
    db.session.commit()
    slug = team.org.slug

    # The manager: the Join Request Links panel, "Create Link", the form.
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{slug}/manage/join-links")
    expect(page.get_by_role("heading", name="Join Request Links")).to_be_visible()
    page.get_by_role("button", name="Create Link").click()  # a link styled as a button
    expect(page).to_have_url(f"{live_server}/o/{slug}/join-links/new")
    page.get_by_label("Description").fill("Helpers for the spring fair")
    page.get_by_role("radio", name="Member").check()
    page.get_by_label("Add accepted people to").select_option(label="Volunteers")
    page.get_by_role("button", name="Add", exact=True).click()
    # The form comes back with the group chosen and what was typed kept.
    chosen = page.locator("ul.chosen-groups")
    expect(chosen).to_contain_text("Volunteers")
    expect(chosen.get_by_role("button", name="Remove Volunteers")).to_be_visible()
    expect(page.get_by_label("Description")).to_have_value("Helpers for the spring fair")
    expect(page.get_by_label("Add accepted people to")).to_have_count(0)  # no group left to add
    page.get_by_role("radio", name="All Owners and Managers").check()
    page.get_by_role("button", name="Create Link").click()

    # The edit page shows the link, once, to this browser.
    expect(page).to_have_url(EDIT_PAGE)
    expect(page.locator("#flashes")).to_contain_text("Join request link created.")
    field = page.locator("#link-url")
    expect(field).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_-]{20,}$"))
    expect(field).to_have_attribute("readonly", "")
    expect(page.get_by_role("switch", name="Active")).to_be_checked()
    url = on_live_server(field.input_value(), live_server)
    link = db.session.get(JoinLink, int(EDIT_PAGE.search(urlsplit(page.url).path).group(1)))
    assert (link.description, link.role, link.notify) == ("Helpers for the spring fair", Role.MEMBER, Notify.ALL)
    assert [g.name for g in link.groups] == ["Volunteers"]

    # The visitor, in a browser of their own, registers through the link and asks.
    context, visitor = new_page(browser, browser_context_args)
    try:
        visitor.goto(url)
        expect(visitor.get_by_role("heading", name="Ask to join Acme Training")).to_be_visible()
        expect(visitor.locator("main")).to_contain_text("Helpers for the spring fair")
        expect(visitor.get_by_role("button", name="Request to join")).to_have_count(0)
        visitor.get_by_role("button", name="Create an account").click()
        expect(visitor.get_by_role("heading", name="Create an account")).to_be_visible()
        visitor.get_by_label("Full name").fill("Rita Requester")
        visitor.get_by_label("Username").fill("rita")
        visitor.get_by_label("Email").fill("rita@example.com")
        visitor.get_by_label("Password", exact=True).fill("a long new password")
        visitor.get_by_label("Repeat password").fill("a long new password")
        visitor.get_by_role("button", name="Create account").click()
        expect(visitor).to_have_url(url)  # back on the link's page, logged in
        expect(visitor.locator("#flashes")).to_contain_text("Welcome, Rita Requester!")
        visitor.get_by_label("Message (optional)").fill("I ran the cake stall last year.")
        visitor.get_by_role("button", name="Request to join").click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Request sent")
        expect(visitor.locator("main")).to_contain_text("Your request to join Acme Training is waiting")
        expect(visitor.locator("main")).to_contain_text("can accept your request only once it is confirmed")
        expect(visitor.locator("#bell .bell-count")).to_have_count(0)

        # The manager's Join Requests panel: the row, marked while Rita's address is not
        # confirmed (anyone may register with an address: security review F6), so no Accept.
        page.goto(f"{live_server}/o/{slug}/manage/join-requests")
        row = page.locator("#requests-table tbody tr", has_text="Rita Requester")
        expect(row).to_contain_text("rita@example.com")
        expect(row).to_contain_text("Address not confirmed")
        expect(row.get_by_role("button", name="Accept Rita Requester")).to_have_count(0)
        expect(row.get_by_role("button", name="Reject Rita Requester")).to_be_visible()
        assert_accessible(page)

        # Rita confirms her address with the link mailed when she registered.
        [confirmation] = [m for m in smtp.to("rita@example.com") if m["Subject"] == "Confirm your email address"]
        [verify_url] = [u for u in smtp.links(confirmation) if "/verify/" in u]
        visitor.goto(on_live_server(verify_url, live_server))
        visitor.get_by_role("button", name="Confirm my email").click()
        expect(visitor).not_to_have_url(re.compile("/verify/"))

        # Now the row has no mark: Accept with its confirmation.
        page.reload()
        expect(row).not_to_contain_text("Address not confirmed")
        expect(row).to_contain_text("Helpers for the spring fair")
        expect(row).to_contain_text("I ran the cake stall last year.")
        expect(row).to_contain_text("Pending")
        page.evaluate("window.__marker = true")  # lost if the page reloads
        dialogs = []
        row.get_by_role("button", name="Accept Rita Requester").click()
        dialogs.append(page.get_by_role("dialog").get_by_role("heading").inner_text())
        page.get_by_role("dialog").get_by_role("button", name="Accept", exact=True).click()
        expect(row).to_contain_text("Accepted")
        expect(row).to_contain_text("by Max Manager")
        expect(row.get_by_role("button")).to_have_count(0)
        expect(page.locator("#flashes")).to_contain_text("Rita Requester is now a member of Acme Training.")
        assert dialogs == ["Accept Rita Requester's request to join Acme Training?"]
        assert page.evaluate("window.__marker") is True

        # The requester: the bell, then the notifications page.
        visitor.reload()
        bell = visitor.locator("#bell")
        expect(bell.locator(".bell-count")).to_have_text("1 unread")
        bell.click()
        expect(visitor).to_have_url(f"{live_server}/notifications")
        expect(visitor.locator("main")).to_contain_text("Your request to join Acme Training was accepted.")
        expect(visitor.get_by_role("link", name="Go to Acme Training")).to_be_visible()
    finally:
        context.close()

    db.session.expire_all()
    rita = find_user_by_email("rita@example.com")
    assert rita is not None and rita.name == "Rita Requester"
    assert role_in(team.org, rita) == Role.MEMBER
    assert db.session.get(GroupMember, (group.id, rita.id)) is not None
    [join_request] = db.session.scalars(db.select(JoinRequest).filter_by(user_id=rita.id)).all()
    assert join_request.status == RequestStatus.ACCEPTED
    assert join_request.decided_by_id == team.manager.id

    # Mail: the owner and the manager heard of the request; Rita of the answer.
    for person in (team.owner, team.manager):
        assert subjects_to(smtp, person.email) == ["Rita Requester asked to join Acme Training (address not confirmed)"]
        [message] = smtp.to(person.email)
        assert "I ran the cake stall last year." in smtp.text(message)
        assert any(u.endswith(f"/o/{slug}/manage/join-requests") for u in smtp.links(message))
    for person in (team.member, team.collaborator):
        assert smtp.to(person.email) == []
    assert "Your request to join Acme Training was accepted" in subjects_to(smtp, "rita@example.com")


def test_reject_and_dismiss_inline_on_the_panel(
    page, live_server, team, make_user, make_join_link, ask, smtp, browser_login,
):
    link, _ = make_join_link(team.org, team.owner)
    rob = make_user(name="Rob Rejected")
    dina = make_user(name="Dina Dismissed")
    to_reject = ask(link, rob, "Let me in.")
    to_dismiss = ask(link, dina, "Me too.")
    to_reject, to_dismiss = to_reject.id, to_dismiss.id  # the row objects go stale
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/join-requests")
    rob_row = page.locator(f"#join-request-{to_reject}")
    dina_row = page.locator(f"#join-request-{to_dismiss}")
    expect(rob_row).to_contain_text("Pending")
    expect(dina_row).to_contain_text("Pending")
    page.evaluate("window.__marker = true")
    dialogs = []

    def accept(label):  # the in-page confirmation (static/app.js)
        dialogs.append(page.get_by_role("dialog").get_by_role("heading").inner_text())
        page.get_by_role("dialog").get_by_role("button", name=label, exact=True).click()

    rob_row.get_by_role("button", name="Reject Rob Rejected").click()
    accept("Reject")
    expect(rob_row).to_contain_text("Rejected")
    expect(rob_row).to_contain_text("by Olivia Owner")
    # Rejected: only Dismiss is left (it would let Rob ask again).
    expect(rob_row.get_by_role("button")).to_have_count(1)
    expect(rob_row.get_by_role("button", name="Dismiss Rob Rejected")).to_be_visible()
    expect(page.locator("#flashes")).to_contain_text("Rob Rejected's request was rejected.")

    dina_row.get_by_role("button", name="Dismiss Dina Dismissed").click()
    accept("Dismiss")
    expect(dina_row).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("Dina Dismissed's request was dismissed.")
    expect(rob_row).to_contain_text("Rejected")  # the other row is untouched

    assert dialogs == [
        "Reject Rob Rejected's request to join Acme Training?",
        "Dismiss Dina Dismissed's request to join Acme Training?",
    ]
    assert page.evaluate("window.__marker") is True
    assert reload_request(to_reject).status == RequestStatus.REJECTED
    assert reload_request(to_dismiss) is None
    assert role_in(team.org, rob) is None and role_in(team.org, dina) is None
    assert subjects_to(smtp, rob.email) == ["Your request to join Acme Training was not accepted"]
    assert smtp.to(dina.email) == []  # dismissing answers nothing


@pytest.fixture
def requests_made(team, make_user, make_join_link, ask):
    """A link with a group, an inactive link, and requests pending, accepted and rejected,
    for the accessibility checks. Returns a namespace with the tokens and the people."""

    class Made:
        pass

    made = Made()
    made.group = create_group(team.org, team.owner, "Volunteers")
    db.session.commit()
    made.link, made.token = make_join_link(team.org, team.owner, groups=[made.group])
    inactive, made.inactive_token = make_join_link(team.org, team.manager, description="Last year's fair")
    service.update_join_link(team.org, team.owner, inactive, inactive.description, inactive.role, [],
                             inactive.notify, [], active=False)
    db.session.commit()
    made.pending = make_user(name="Pat Pending")
    made.accepted = make_user(name="Abe Accepted")
    made.rejected = make_user(name="Rae Rejected")
    ask(made.link, made.pending, "Could I help with the stalls?")
    accepted = ask(made.link, made.accepted)
    service.accept_request(team.org, team.owner, accepted)
    rejected = ask(made.link, made.rejected, "Please?")
    service.reject_request(team.org, team.manager, rejected)
    db.session.commit()
    return made


def test_the_join_request_panels_are_accessible(
    page, live_server, team, requests_made, browser_login, assert_accessible,
):
    slug = team.org.slug
    browser_login(page, team.owner)
    # The Join Request Links panel, an active link and an inactive one.
    page.goto(f"{live_server}/o/{slug}/manage/join-links")
    statuses = page.locator("tbody .status")
    expect(statuses).to_have_count(2)
    assert sorted(statuses.all_inner_texts()) == ["Active", "Inactive"]
    assert_accessible(page)

    # The Join Requests panel, pending only, then "All" through the filter (htmx).
    page.goto(f"{live_server}/o/{slug}/manage/join-requests")
    expect(page.locator("#requests-table .status")).to_have_text(["Pending"])
    assert_accessible(page)
    page.evaluate("window.__marker = true")
    page.get_by_label("Show").select_option(label="All")
    expect(page).to_have_url(f"{live_server}/o/{slug}/manage/join-requests?status=all")
    statuses = page.locator("#requests-table .status")
    expect(statuses).to_have_count(3)
    assert sorted(statuses.all_inner_texts()) == ["Accepted", "Pending", "Rejected"]
    assert page.evaluate("window.__marker") is True  # swapped in, not reloaded
    assert_accessible(page)


def test_the_create_and_edit_link_forms_are_accessible(
    page, live_server, team, requests_made, browser_login, assert_accessible,
):
    browser_login(page, team.manager)
    # Create Link: the form, refused without a description, then the edit page with the link.
    page.goto(f"{live_server}/o/{team.org.slug}/join-links/new")
    expect(page.get_by_role("heading", name="Create Link")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Add accepted people to").select_option(label="Volunteers")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("ul.chosen-groups")).to_contain_text("Volunteers")
    page.get_by_role("radio", name="Collaborator").check()
    page.get_by_role("radio", name="Specific Owners and/or Managers").check()
    page.get_by_role("checkbox", name="Olivia Owner").check()
    page.get_by_role("button", name="Create Link").click()
    description = page.get_by_label("Description")
    expect(description).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#description-error")).to_have_text("Describe the link.")
    # What was chosen is kept.
    expect(page.get_by_role("radio", name="Collaborator")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Olivia Owner")).to_be_checked()
    expect(page.locator("ul.chosen-groups")).to_contain_text("Volunteers")
    assert_accessible(page)
    description.fill("Stewards")
    page.get_by_role("button", name="Create Link").click()
    expect(page).to_have_url(EDIT_PAGE)
    expect(page.get_by_role("heading", name="Edit link")).to_be_visible()
    expect(page.locator("#link-url")).to_have_value(re.compile(r"/r/[A-Za-z0-9_-]{20,}$"))
    expect(page.get_by_role("switch", name="Active")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Olivia Owner")).to_be_checked()
    assert_accessible(page)


def test_the_link_pages_are_accessible_logged_out(page, live_server, requests_made, assert_accessible):
    # The link (log in or create an account), an unknown one, an inactive one.
    for path, heading in (
        (f"/r/{requests_made.token}", "Ask to join Acme Training"),
        ("/r/no-such-token", "This join request link is not valid."),
        (f"/r/{requests_made.inactive_token}", "This link is not accepting requests."),
    ):
        page.goto(f"{live_server}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
    page.goto(f"{live_server}/r/{requests_made.token}")
    for name in ("Log in", "Create an account"):
        expect(page.get_by_role("button", name=name)).to_have_attribute(
            "href", re.compile(rf"\?next=/r/{re.escape(requests_made.token)}$")
        )


def test_asking_to_join_is_accessible(
    page, live_server, make_user, requests_made, browser_login, assert_accessible,
):
    # Logged in without a request: the message box, then "Request sent".
    browser_login(page, make_user(name="Nell Newcomer"))
    page.goto(f"{live_server}/r/{requests_made.token}")
    expect(page.get_by_label("Message (optional)")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Message (optional)").fill("Hello!")
    page.get_by_role("button", name="Request to join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Request sent")
    assert_accessible(page)


def test_the_refusal_pages_are_accessible(
    page, live_server, team, requests_made, browser_login, assert_accessible,
):
    link_page = f"{live_server}/r/{requests_made.token}"
    for user, path, heading in (
        (requests_made.pending, link_page, "Your request is waiting for an answer."),
        (None, f"{live_server}/r/{requests_made.inactive_token}", "This link is not accepting requests."),
        (requests_made.rejected, link_page, "Your earlier request was not accepted."),
        (requests_made.accepted, link_page, "You are already a member."),
    ):
        if user is not None:
            page.context.clear_cookies()
            browser_login(page, user)
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(page.get_by_role("button", name="Request to join")).to_have_count(0)
        assert_accessible(page)
    expect(page.get_by_role("button", name="Go to Acme Training")).to_be_visible()
