"""Join request links and requests (F12): who is notified, the re-request rules,
decisions inline and without JavaScript, and who may see and act."""
import re

import pytest

from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.join_requests import service
from invites.join_requests.models import JoinLink, JoinRequest, Notify, RequestStatus
from invites.notifications.models import Notification
from invites.orgs.models import Membership, Role


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture
def second_manager(team, make_user, add_member):
    person = make_user(name="Sam Second")
    add_member(team.org, person, Role.MANAGER)
    return person


def make_join_link(org, actor, notify=Notify.ALL, recipients=(), role=Role.MEMBER, groups=()):
    link, token = service.create_join_link(org, actor, "Volunteers", role, list(groups), notify, list(recipients))
    db.session.commit()
    return link, token


def ask(client, auth, user, token, message="Hello"):
    auth.login(user)
    response = client.post_form(f"/r/{token}", {"message": message})
    auth.logout()
    return response


@pytest.mark.parametrize("choice", [Notify.ALL, Notify.SPECIFIC, Notify.NOBODY])
def test_each_notify_choice_mails_exactly_the_right_people(ctx, client, auth, team, smtp, make_user, second_manager, choice):
    recipients = [second_manager] if choice == Notify.SPECIFIC else []
    _, token = make_join_link(team.org, team.owner, choice, recipients)
    asker = make_user(name="Ada Asker")
    response = ask(client, auth, asker, token, "I run the bake sale.")
    assert response.status_code == 200 and "Request sent" in response.get_data(as_text=True)
    expected = {
        Notify.ALL: {team.owner.email, team.manager.email, second_manager.email},
        Notify.SPECIFIC: {second_manager.email},
        Notify.NOBODY: set(),
    }[choice]
    got = {m["To"] for m in smtp.messages}
    assert got == expected
    for message in smtp.messages:
        assert "Ada Asker asked to join Acme Training" in message["Subject"]
        assert "I run the bake sale." in smtp.text(message)
    notified = set(db.session.scalars(db.select(Notification.user_id).filter_by(kind="join_request")))
    assert notified == {u.id for u in (team.owner, team.manager, second_manager) if u.email in expected}
    # Members and collaborators never hear about requests.
    assert team.member.email not in got and team.collaborator.email not in got


def test_only_owners_and_managers_can_be_named(ctx, team):
    with pytest.raises(DomainError) as error:
        service.create_join_link(team.org, team.owner, "X", Role.MEMBER, [], Notify.SPECIFIC, [team.member])
    assert error.value.field == "recipients"
    with pytest.raises(DomainError):
        service.create_join_link(team.org, team.owner, "X", Role.MEMBER, [], Notify.SPECIFIC, [])
    with pytest.raises(DomainError) as error:
        service.create_join_link(team.org, team.owner, "X", Role.MANAGER, [], Notify.ALL)
    assert error.value.field == "role"
    with pytest.raises(DomainError) as error:
        service.create_join_link(team.org, team.owner, "   ", Role.MEMBER, [], Notify.ALL)
    assert error.value.field == "description"


def test_accept_grants_role_and_groups_and_tells_the_requester(ctx, client, auth, team, smtp, make_user):
    group = create_group(team.org, team.owner, "Fair")
    db.session.commit()
    _, token = make_join_link(team.org, team.owner, Notify.NOBODY, role=Role.COLLABORATOR, groups=[group])
    asker = make_user(name="Cal Collab")
    ask(client, auth, asker, token)
    join_request = db.session.scalar(db.select(JoinRequest))
    auth.login(team.manager)
    response = client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/accept", {"confirmed": "yes"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith(f'<tr id="join-request-{join_request.id}"')
    assert "Accepted" in body and "Cal Collab is now a member of Acme Training." in body
    membership = db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=asker.id))
    assert membership.role == Role.COLLABORATOR
    assert db.session.get(GroupMember, (group.id, asker.id)) is not None
    [mail] = smtp.to(asker.email)
    assert mail["Subject"] == "Your request to join Acme Training was accepted"
    assert db.session.scalar(db.select(Notification).filter_by(user_id=asker.id, kind="join_request_accepted"))
    # Accepting again: a clear message, nothing doubled.
    response = client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/accept", {"confirmed": "yes"}, htmx=True)
    assert "already accepted" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(user_id=asker.id)) == 1


def test_rejected_is_blocked_dismissed_may_ask_again_pending_not_doubled_member_told(ctx, client, auth, team, smtp, make_user):
    _, token = make_join_link(team.org, team.owner, Notify.NOBODY)
    other_link, other_token = make_join_link(team.org, team.owner, Notify.NOBODY)
    asker = make_user(name="Rita Repeat")

    assert ask(client, auth, asker, token).status_code == 200
    again = ask(client, auth, asker, token)  # pending: not doubled
    assert "Your request is waiting for an answer." in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id))) == 1

    join_request = db.session.scalar(db.select(JoinRequest))
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/dismiss", {"confirmed": "yes"})
    auth.logout()
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id))) == 0
    assert ask(client, auth, asker, token).status_code == 200  # dismissed: may ask again

    join_request = db.session.scalar(db.select(JoinRequest))
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/reject", {"confirmed": "yes"})
    auth.logout()
    [mail] = smtp.to(asker.email)
    assert "was not accepted" in mail["Subject"]
    for t in (token, other_token):  # rejected: blocked, through any link of the organization
        response = ask(client, auth, asker, t)
        assert "was not accepted" in response.get_data(as_text=True)
        assert "Thank you for your interest" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id))) == 1

    auth.login(team.member)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "You are already a member." in page
    assert client.post_form(f"/r/{token}", {"message": "hi"}).get_data(as_text=True).count("already a member") >= 1
    assert db.session.scalar(db.select(JoinRequest).filter_by(user_id=team.member.id)) is None


def test_visitors_log_in_first_and_following_changes_nothing(ctx, client, team):
    _, token = make_join_link(team.org, team.owner)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Ask to join Acme Training" in page and "Create an account" in page and "Volunteers" in page
    response = client.post_form(f"/r/{token}", {"message": "hi"})
    assert response.status_code == 302 and "/login" in response.location
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id))) == 0


def test_inactive_and_unknown_links(ctx, client, auth, team, make_user):
    link, token = make_join_link(team.org, team.owner)
    service.update_join_link(team.org, team.owner, link, link.description, link.role, [], link.notify, [], active=False)
    db.session.commit()
    asker = make_user()
    auth.login(asker)
    response = client.get(f"/r/{token}")
    assert response.status_code == 410 and "not accepting requests" in response.get_data(as_text=True)
    response = client.post_form(f"/r/{token}", {"message": "hi"})
    assert response.status_code == 410
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id))) == 0
    assert client.get(f"/r/{'z' * 43}").status_code == 404
    verbs = list(db.session.scalars(db.select(Activity.verb).order_by(Activity.id)))
    assert [v for v in verbs if v.startswith("join_link.")] == ["join_link.created", "join_link.deactivated"]


@pytest.mark.parametrize("who, status", [("owner", 200), ("manager", 200), ("member", 403), ("collaborator", 403), ("outsider", 404)])
def test_who_sees_the_panels(client, auth, team, who, status):
    auth.login(getattr(team, who))
    for url in ("manage/join-links", "manage/join-requests", "join-links/new"):
        assert client.get(f"/o/{team.org.slug}/{url}").status_code == status, url


@pytest.mark.parametrize("who", ["member", "collaborator"])
def test_members_and_collaborators_cannot_act_on_requests(ctx, client, auth, team, make_user, who):
    _, token = make_join_link(team.org, team.owner, Notify.NOBODY)
    ask(client, auth, make_user(), token)
    join_request = db.session.scalar(db.select(JoinRequest))
    auth.login(getattr(team, who))
    for decision in ("accept", "reject", "dismiss"):
        response = client.post_form(f"/o/{team.org.slug}/join-requests/{join_request.id}/{decision}", {"confirmed": "yes"})
        assert response.status_code == 403
    db.session.refresh(join_request)
    assert join_request.status == RequestStatus.PENDING


def test_another_organizations_manager_cannot_accept_by_posting_the_id(ctx, client, auth, team, make_org, make_user):
    _, token = make_join_link(team.org, team.owner, Notify.NOBODY)
    asker = make_user()
    ask(client, auth, asker, token)
    join_request = db.session.scalar(db.select(JoinRequest))
    rival = make_user(name="Rival")
    rival_org = make_org(owner=rival, name="Rival Org")
    auth.login(rival)
    for slug in (rival_org.slug, team.org.slug):
        response = client.post_form(f"/o/{slug}/join-requests/{join_request.id}/accept", {"confirmed": "yes"})
        assert response.status_code == 404
    db.session.refresh(join_request)
    assert join_request.status == RequestStatus.PENDING
    assert db.session.scalar(db.select(Membership).filter_by(user_id=asker.id)) is None


def test_decisions_ask_first_without_javascript(ctx, client, auth, team, make_user):
    _, token = make_join_link(team.org, team.owner, Notify.NOBODY)
    ask(client, auth, make_user(name="Nora NoJS"), token)
    join_request = db.session.scalar(db.select(JoinRequest))
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/join-requests/{join_request.id}/reject"
    page = client.post_form(url).get_data(as_text=True)
    assert "Reject Nora NoJS&#39;s request?" in page
    db.session.refresh(join_request)
    assert join_request.status == RequestStatus.PENDING
    response = client.post_form(url, {"confirmed": "yes"})
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}/manage/join-requests"
    db.session.refresh(join_request)
    assert join_request.status == RequestStatus.REJECTED
    # The filter shows rejected ones too; the default shows pending ones.
    assert "was rejected" in client.get(response.location).get_data(as_text=True)  # the flash
    assert "Nora NoJS" not in client.get(f"/o/{team.org.slug}/manage/join-requests").get_data(as_text=True)
    assert "Nora NoJS" in client.get(f"/o/{team.org.slug}/manage/join-requests?status=rejected").get_data(as_text=True)


def test_create_and_edit_through_the_form(client, auth, team, second_manager):
    first = create_group(team.org, team.owner, "First")
    second = create_group(team.org, team.owner, "Second")
    db.session.commit()
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/join-links/new"
    base = {"description": "Spring fair", "role": "collaborator", "notify": "specific",
            "recipients": [str(second_manager.id)]}
    page = client.post_form(url, {**base, "group_to_add": str(first.id), "add_group": "1"}).get_data(as_text=True)
    assert f'<input type="hidden" name="groups" value="{first.id}">' in page  # listed, not saved
    page = client.post_form(url, {**base, "groups": [str(first.id)], "group_to_add": str(second.id), "add_group": "1"}).get_data(as_text=True)
    page = client.post_form(url, {**base, "groups": [str(first.id), str(second.id)], "remove_group": str(first.id)}).get_data(as_text=True)
    assert f'name="groups" value="{first.id}"' not in page and f'name="groups" value="{second.id}"' in page
    assert db.session.scalar(db.select(db.func.count(JoinLink.id))) == 0
    response = client.post_form(url, {**base, "groups": [str(second.id)], "save": "1"})
    assert response.status_code == 302
    link = db.session.scalar(db.select(JoinLink))
    assert [g.name for g in link.groups] == ["Second"] and [u.id for u in link.recipients] == [second_manager.id]
    assert link.role == Role.COLLABORATOR
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(r'id="link-url" value="[^"]+/r/[^"]{43}"', page)
    # Edit: deactivate and change the description.
    response = client.post_form(response.location, {**base, "description": "Autumn fair", "groups": [str(second.id)], "save": "1"})
    assert response.status_code == 302
    db.session.refresh(link)
    assert link.description == "Autumn fair" and link.active is False
    verbs = set(db.session.scalars(db.select(Activity.verb)))
    assert {"join_link.created", "join_link.edited", "join_link.deactivated"} <= verbs
    # Bad input: an empty description, a member as recipient.
    response = client.post_form(url, {**base, "description": "", "save": "1"})
    assert response.status_code == 422 and "Describe the link" in response.get_data(as_text=True)
    response = client.post_form(url, {**base, "recipients": [str(team.member.id)], "save": "1"})
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(JoinLink.id))) == 1
