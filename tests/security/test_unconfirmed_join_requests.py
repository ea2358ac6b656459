"""Security review F6: a squatter registered as ``victim@v.test`` (never confirmed) asked to
join through a join request link, and the Join Requests panel showed "Squatter /
victim@v.test" like any other request, so staff could accept an impersonator. Now the
request is marked everywhere staff see it (panel row, bell, mail subject), Accept is
refused until the address is confirmed, and Reject and Dismiss still work. The Members
panel marks members whose address is not confirmed."""
import pytest

from invites.errors import DomainError
from invites.extensions import db
from invites.join_requests import service
from invites.join_requests.models import JoinRequest, Notify, RequestStatus
from invites.notifications.models import Notification
from invites.orgs.models import Membership

MARK = "Address not confirmed"


@pytest.fixture
def link_token(app, team):
    with app.test_request_context():
        link, token = service.create_join_link(team.org, team.owner, "Volunteers", "member", [], Notify.ALL)
        db.session.commit()
    return token


@pytest.fixture
def squatter(make_user):
    return make_user(name="Squatter", email="victim@v.test", verified=False)


def ask(client, auth, user, token):
    auth.login(user)
    response = client.post_form(f"/r/{token}", {"message": "Let me in"})
    auth.logout()
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return db.session.scalar(db.select(JoinRequest).filter_by(user_id=user.id))


def panel_row(client, team, join_request):
    html = client.get(f"/o/{team.org.slug}/manage/join-requests", headers={"HX-Request": "true"}).get_data(as_text=True)
    start = html.index(f'<tr id="join-request-{join_request.id}"')
    # Addresses carry <wbr> break points for narrow screens; read the row as text is read.
    return html[start:html.index("</tr>", start)].replace("<wbr>", "")


def decide(client, team, join_request, decision):
    return client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/{decision}",
                            {"confirmed": "yes"}, htmx=True)


def is_member(team, user):
    db.session.expire_all()
    return db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=user.id)) is not None


def test_the_panel_marks_the_request_and_offers_no_accept(client, auth, team, link_token, squatter, make_user):
    unconfirmed = ask(client, auth, squatter, link_token)
    confirmed = ask(client, auth, make_user(name="Real Person"), link_token)
    auth.login(team.manager)
    row = panel_row(client, team, unconfirmed)
    assert "victim@v.test" in row and MARK in row
    assert "Accept<" not in row and "Reject<" in row and "Dismiss<" in row
    other = panel_row(client, team, confirmed)
    assert MARK not in other and "Accept<" in other


def test_staff_are_told_in_the_bell_and_the_mail_subject(client, auth, team, link_token, squatter, smtp):
    ask(client, auth, squatter, link_token)
    for person in (team.owner, team.manager):
        text = db.session.scalar(db.select(Notification.text).filter_by(user_id=person.id, kind="join_request"))
        assert "Their email address (victim@v.test) is not confirmed." in text
        [mail] = smtp.to(person.email)
        assert mail["Subject"] == "Squatter asked to join Acme Training (address not confirmed)"


def test_the_requester_is_asked_to_confirm(client, auth, link_token, squatter):
    auth.login(squatter)
    page = client.post_form(f"/r/{link_token}", {"message": ""}).get_data(as_text=True)
    assert "can accept your request only once it is confirmed" in page


def test_accept_is_refused_with_a_clear_message(client, auth, team, link_token, squatter):
    join_request = ask(client, auth, squatter, link_token)
    auth.login(team.owner)
    response = decide(client, team, join_request, "accept")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Squatter has not confirmed the address victim@v.test yet" in body
    assert MARK in body and "Pending" in body  # the row, unchanged
    assert not is_member(team, squatter)
    assert db.session.get(JoinRequest, join_request.id).status == RequestStatus.PENDING
    # Without htmx too (the plain form post).
    client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/accept", {"confirmed": "yes"})
    assert not is_member(team, squatter)


def test_the_service_refuses_and_leaves_the_request_pending(app, team, link_token, squatter, client, auth):
    join_request = ask(client, auth, squatter, link_token)
    with app.test_request_context():
        with pytest.raises(DomainError) as refused:
            service.accept_request(team.org, team.owner, join_request)
    assert "not confirmed" in refused.value.message
    assert join_request.status == RequestStatus.PENDING and join_request.decided_at is None


@pytest.mark.parametrize("decision, status", [("reject", RequestStatus.REJECTED), ("dismiss", None)])
def test_reject_and_dismiss_still_work(client, auth, team, link_token, squatter, decision, status):
    join_request = ask(client, auth, squatter, link_token)
    request_id = join_request.id
    auth.login(team.owner)
    assert decide(client, team, join_request, decision).status_code == 200
    db.session.expire_all()
    found = db.session.get(JoinRequest, request_id)
    assert (found.status if found else None) == status
    assert not is_member(team, squatter)


def test_once_confirmed_the_request_can_be_accepted(client, auth, team, link_token, squatter):
    join_request = ask(client, auth, squatter, link_token)
    squatter.mark_verified()
    db.session.commit()
    auth.login(team.owner)
    assert MARK not in panel_row(client, team, join_request)
    response = decide(client, team, join_request, "accept")
    assert "Squatter is now a member of Acme Training." in response.get_data(as_text=True)
    assert is_member(team, squatter)


def test_the_members_panel_marks_unconfirmed_members(client, auth, team, make_user, add_member):
    walk_in = make_user(name="Walk In", email="walkin@anywhere.test", verified=False)
    membership = add_member(team.org, walk_in)
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/manage/members", headers={"HX-Request": "true"}).get_data(as_text=True)
    start = html.index(f'<tr id="member-{membership.id}"')
    assert MARK in html[start:html.index("</tr>", start)]
    assert html.count(MARK) == 1  # the confirmed members are not marked
