"""In-page confirmations (issue 22, point 4): a row's destructive button asks in a
<dialog> whose buttons are named for the action, by mouse or keyboard alone, and the same
button without JavaScript still asks on the server's confirm page."""
import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.join_requests.models import JoinRequest, Notify, RequestStatus
from invites.join_requests.service import create_join_link, request_to_join
from invites.orgs.models import Role
from tests.support import role_in

pytestmark = pytest.mark.browser


@pytest.fixture
def requests_waiting(app, team, make_user):
    """Two people waiting on a join request link of Acme Training: (user, request id)."""
    link, _ = create_join_link(team.org, team.owner, "Spring fair helpers", Role.MEMBER, [], Notify.NOBODY, [])
    waiting = []
    for name in ("Rhea Requester", "Kim Keyboard"):
        user = make_user(name=name)
        waiting.append((user, request_to_join(link, user, "I would like to help.").id))
    db.session.commit()
    return waiting


def status_of(request_id):
    db.session.expire_all()
    return db.session.get(JoinRequest, request_id).status


def focused_text(page):
    return page.evaluate("document.activeElement && document.activeElement.textContent.trim()")


def test_a_join_request_is_accepted_through_the_in_page_confirm(
    page, live_server, team, requests_waiting, browser_login, assert_accessible,
):
    (rhea, request_id), _ = requests_waiting
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/join-requests")
    native = []
    page.on("dialog", lambda dialog: (native.append(dialog.message), dialog.dismiss()))
    row = page.locator(f"#join-request-{request_id}")
    dialog = page.get_by_role("dialog", name="Accept Rhea Requester's request to join Acme Training?")

    # Open, then "Not now": nothing changes and focus is back on the row's button.
    row.get_by_role("button", name="Accept Rhea Requester").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Rhea Requester becomes a member of Acme Training")
    expect(dialog.get_by_role("button", name="Not now")).to_be_focused()
    assert_accessible(page)
    dialog.get_by_role("button", name="Not now").click()
    expect(dialog).to_be_hidden()
    expect(row.get_by_role("button", name="Accept Rhea Requester")).to_be_focused()
    assert status_of(request_id) == RequestStatus.PENDING
    assert role_in(team.org, rhea) is None

    # The same for Reject, closed with Escape.
    row.get_by_role("button", name="Reject Rhea Requester").click()
    reject = page.get_by_role("dialog", name="Reject Rhea Requester's request to join Acme Training?")
    expect(reject.get_by_role("button", name="Reject", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(reject).to_be_hidden()
    assert status_of(request_id) == RequestStatus.PENDING

    # Accept, for real: the row is swapped in place.
    row.get_by_role("button", name="Accept Rhea Requester").click()
    dialog.get_by_role("button", name="Accept", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(row.locator(".status")).to_have_text("Accepted")
    expect(page.locator("#flashes")).to_contain_text("Rhea Requester is now a member of Acme Training.")
    assert status_of(request_id) == RequestStatus.ACCEPTED
    assert role_in(team.org, rhea) == Role.MEMBER
    assert native == []  # the browser's own OK/Cancel box never opened


def test_the_in_page_confirm_works_by_keyboard_alone(page, live_server, team, requests_waiting, browser_login):
    _, (kim, request_id) = requests_waiting
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{team.org.slug}/manage/join-requests")
    accept = page.locator(f"#join-request-{request_id}").get_by_role("button", name="Accept Kim Keyboard")
    # Tab from the status filter until the row's Accept button has focus.
    page.get_by_label("Show").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Accept Kim Keyboard":
            break
    expect(accept).to_be_focused()

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Accept Kim Keyboard's request to join Acme Training?")
    expect(dialog).to_be_visible()
    assert focused_text(page) == "Not now"
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(accept).to_be_focused()
    assert status_of(request_id) == RequestStatus.PENDING

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Tab")
    assert focused_text(page) == "Accept"
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#join-request-{request_id} .status")).to_have_text("Accepted")
    assert status_of(request_id) == RequestStatus.ACCEPTED
    assert role_in(team.org, kim) == Role.MEMBER
    # Focus stays in the list (the swapped row), not lost to the top of the page.
    expect(page.locator("#requests-table :focus")).to_have_count(1)


def test_without_javascript_the_confirm_page_asks(
    browser, browser_context_args, live_server, team, requests_waiting, browser_login,
):
    (rhea, request_id), _ = requests_waiting
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, team.manager)
        page.goto(f"{live_server}/o/{team.org.slug}/manage/join-requests")
        page.locator(f"#join-request-{request_id}").get_by_role("button", name="Accept Rhea Requester").click()
        expect(page.get_by_role("heading", name="Accept Rhea Requester's request?")).to_be_visible()
        assert page.get_by_role("dialog").count() == 0
        assert status_of(request_id) == RequestStatus.PENDING
        page.get_by_role("button", name="Accept", exact=True).click()
        expect(page.locator("#flashes")).to_contain_text("Rhea Requester is now a member of Acme Training.")
        assert status_of(request_id) == RequestStatus.ACCEPTED
        assert role_in(team.org, rhea) == Role.MEMBER
    finally:
        context.close()
