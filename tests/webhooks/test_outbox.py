"""The outbox (issue 21): each event type is written by the real action that causes it,
in that action's transaction, with the resource in the JSON API's shape; delivered to a
real receiver, signed (Standard Webhooks) with the endpoint's secret. A rolled-back change
writes nothing; an organization without endpoints writes nothing; an endpoint hears only
the events it chose. The change writes one row per event; the worker fans it out into a
delivery per endpoint, in the order the events were emitted."""
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from invites import clock
from invites.api import schemas
from invites.errors import DomainError
from invites.extensions import db
from invites.invitations import answering, editing, sending
from invites.invitations.models import Invitation
from invites.join_requests import service as join_requests
from invites.links import service as links
from invites.links.models import InviteLink
from invites.orgs import service as orgs
from invites.orgs.expiry import expire_memberships
from invites.orgs.models import Membership, Role
from invites.transaction import attempt
from invites.webhooks.delivery import announce_expired_invitations, fan_out
from invites.webhooks.models import WebhookDelivery, WebhookEvent
from invites.webhooks.outbox import EVENT_TYPES, emit
from tests.webhooks.conftest import events_of, real_now

SHAPES = {"invitation": schemas.Invitation, "member": schemas.Member,
          "join_request": schemas.JoinRequest, "invite_link": schemas.InviteLink}


def keys_of(event_type):
    schema = SHAPES[event_type.partition(".")[0]]()
    return {field.data_key or name for name, field in schema.fields.items()}


def membership_of(org, user):
    return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=user.id))


@dataclass
class Expect:
    """What the event says: ``data`` items it must hold, ``extra`` keys beside the shape."""
    data: dict
    extra: frozenset = frozenset()


# --- one real action per event type -----------------------------------------------------------

def invited(w, email="pat@example.com"):
    invitation, token = w.make_invitation(w.org, w.team.owner, email)
    return db.session.get(Invitation, invitation.id), token


def act_created(w):
    invitation, _ = invited(w)
    return Expect({"id": invitation.id, "email": "pat@example.com", "status": "pending", "role": "member"})


def act_resent(w):
    invitation, _ = invited(w)
    with w.app.test_request_context():
        sending.resend_invitation(w.org, w.team.owner, invitation, commit=db.session.commit)
        db.session.commit()
    return Expect({"id": invitation.id, "status": "pending"})


def act_edited(w):
    invitation, _ = invited(w)
    with w.app.test_request_context():
        editing.edit_invitation(w.org, w.team.owner, invitation, Role.MANAGER, [], None)
        db.session.commit()
    return Expect({"id": invitation.id, "role": "manager", "changes": ["role Member → Manager"]},
                  frozenset({"changes"}))


def act_accepted(w):
    invitee = w.make_user(email="pat@example.com")
    invitation, _ = invited(w)
    with w.app.test_request_context():
        answering.accept_invitation(invitation, invitee)
        db.session.commit()
    return Expect({"id": invitation.id, "status": "accepted"})


def act_declined(w):
    invitee = w.make_user(email="pat@example.com")
    invitation, _ = invited(w)
    with w.app.test_request_context():
        answering.decline_invitation(invitation, invitee)
        db.session.commit()
    return Expect({"id": invitation.id, "status": "declined"})


def act_cancelled(w):
    invitation, _ = invited(w)
    with w.app.test_request_context():
        sending.cancel_invitation(w.org, w.team.owner, invitation)
        db.session.commit()
    return Expect({"id": invitation.id, "status": "cancelled"})


def act_expired(w):
    invitation, _ = invited(w)  # the organization's invitations last 14 days
    clock.freeze(w.base + timedelta(days=15))
    assert announce_expired_invitations() == 1
    assert announce_expired_invitations() == 0  # once
    return Expect({"id": invitation.id, "status": "expired"})


def act_joined(w):
    invitee = w.make_user(email="pat@example.com")
    invitation, _ = invited(w)
    with w.app.test_request_context():
        answering.accept_invitation(invitation, invitee)
        db.session.commit()
    return Expect({"id": membership_of(w.org, invitee).id, "joined_via": "invitation", "role": "member",
                   "person": {"id": invitee.id, "name": invitee.name, "username": invitee.username,
                              "email": "pat@example.com"}})


def act_joined_by_request(w):
    join_request = join_requests.ask_again(w.org, w.team.outsider, "an expired invitation")
    db.session.commit()
    with w.app.test_request_context():
        join_requests.accept_request(w.org, w.team.owner, join_request)
        db.session.commit()
    return Expect({"id": membership_of(w.org, w.team.outsider).id, "joined_via": "request"})


def act_role_changed(w):
    membership = membership_of(w.org, w.team.member)
    with w.app.test_request_context():
        orgs.change_role(w.org, w.team.owner, membership, Role.MANAGER)
        db.session.commit()
    return Expect({"id": membership.id, "role": "manager", "previous_role": "member"},
                  frozenset({"previous_role"}))


def act_removed(w):
    membership_id = membership_of(w.org, w.team.member).id
    with w.app.test_request_context():
        orgs.remove_member(w.org, w.team.owner, membership_of(w.org, w.team.member))
        db.session.commit()
    return Expect({"id": membership_id, "how": "removed", "person": {
        "id": w.team.member.id, "name": "Mia Member", "username": w.team.member.username,
        "email": w.team.member.email}}, frozenset({"how"}))


def act_left(w):
    membership_id = membership_of(w.org, w.team.member).id
    with w.app.test_request_context():
        orgs.leave_organization(w.org, membership_of(w.org, w.team.member))
        db.session.commit()
    return Expect({"id": membership_id, "how": "left"}, frozenset({"how"}))


def act_access_ended(w):
    membership = membership_of(w.org, w.team.member)
    membership.access_until = w.base - timedelta(hours=1)
    db.session.commit()
    membership_id, last_day = membership.id, membership.access_last_day.isoformat()
    assert expire_memberships().removed == 1
    return Expect({"id": membership_id, "how": "access_ended", "last_day_of_access": last_day},
                  frozenset({"how"}))


def act_access_ending(w):
    membership = membership_of(w.org, w.team.member)
    membership.access_until = w.base + timedelta(days=3)
    db.session.commit()
    last_day = membership.access_last_day.isoformat()
    assert expire_memberships().warned == 1
    return Expect({"id": membership.id, "role": "member", "last_day_of_access": last_day})


def act_request_created(w):
    join_request = join_requests.ask_again(w.org, w.team.outsider, "an expired invitation")
    db.session.commit()
    return Expect({"id": join_request.id, "status": "pending",
                   "person": {"id": w.team.outsider.id, "name": "Otto Outsider",
                              "username": w.team.outsider.username, "email": w.team.outsider.email}})


def act_request_accepted(w):
    join_request = join_requests.ask_again(w.org, w.team.outsider, "an expired invitation")
    db.session.commit()
    with w.app.test_request_context():
        join_requests.accept_request(w.org, w.team.owner, join_request)
        db.session.commit()
    return Expect({"id": join_request.id, "status": "accepted"})


def act_request_rejected(w):
    join_request = join_requests.ask_again(w.org, w.team.outsider, "an expired invitation")
    db.session.commit()
    with w.app.test_request_context():
        join_requests.reject_request(w.org, w.team.owner, join_request)
        db.session.commit()
    return Expect({"id": join_request.id, "status": "rejected"})


def act_link_created(w):
    link, _ = w.make_link(w.org, w.team.owner, max_uses=5)
    return Expect({"id": link.id, "state": "active", "max_uses": 5, "uses": 0, "url": None})


def act_link_revoked(w):
    link, _ = w.make_link(w.org, w.team.owner)
    with w.app.test_request_context():
        links.delete_link(w.org, w.team.owner, db.session.get(InviteLink, link.id))
        db.session.commit()
    return Expect({"id": link.id, "state": "deleted", "url": None})


ACTIONS = [
    ("invitation.created", act_created),
    ("invitation.resent", act_resent),
    ("invitation.edited", act_edited),
    ("invitation.accepted", act_accepted),
    ("invitation.declined", act_declined),
    ("invitation.cancelled", act_cancelled),
    ("invitation.expired", act_expired),
    ("member.joined", act_joined),
    ("member.joined", act_joined_by_request),
    ("member.role_changed", act_role_changed),
    ("member.removed", act_removed),
    ("member.removed", act_left),
    ("member.removed", act_access_ended),
    ("member.access_ending", act_access_ending),
    ("join_request.created", act_request_created),
    ("join_request.accepted", act_request_accepted),
    ("join_request.rejected", act_request_rejected),
    ("invite_link.created", act_link_created),
    ("invite_link.revoked", act_link_revoked),
]


def test_every_event_type_has_its_action_here():
    assert {event_type for event_type, _ in ACTIONS} == set(EVENT_TYPES)


@pytest.fixture
def world(app, team, receiver, make_endpoint, make_invitation, make_user, make_link):
    """The team's organization with one endpoint hearing every event, 30 days ago (the
    actions happen then; the worker delivers now, so the signatures' times are current)."""
    base = real_now() - timedelta(days=30)
    clock.freeze(base)
    endpoint, secret = make_endpoint(team.org, team.owner, receiver.url)
    return SimpleNamespace(app=app, team=team, org=team.org, base=base, endpoint=endpoint, secret=secret,
                           receiver=receiver, make_invitation=make_invitation, make_user=make_user,
                           make_link=make_link)


@pytest.mark.parametrize("event_type, act", ACTIONS, ids=[a.__name__[4:] for _, a in ACTIONS])
def test_the_action_writes_its_event_which_arrives_signed_in_the_api_shape(world, worker, event_type, act):
    expect = act(world)
    [event] = events_of(world.org, event_type)
    assert event.org_id == world.org.id
    clock.unfreeze()
    run = worker()
    assert run.failed == 0 and run.delivered == len(events_of(world.org))

    [received] = world.receiver.of_type(event_type)
    assert received.path == "/hooks/invites"
    assert received.headers["content-type"] == "application/json"
    assert received.id == event.id and event.id.startswith("msg_")
    body = received.verify(world.secret)  # raises unless signed with this endpoint's secret
    assert body == received.json
    assert received.body.decode() == event.payload
    assert body["type"] == event_type
    assert body["organization"] == {"id": world.org.id, "slug": world.org.slug, "name": "Acme Training"}
    assert body["timestamp"].startswith(event.created_at.isoformat()[:19])
    data = body["data"]
    assert set(data) == keys_of(event_type) | expect.extra, set(data) ^ (keys_of(event_type) | expect.extra)
    for key, value in expect.data.items():
        assert data[key] == value, (key, data[key], value)
    # Another secret does not verify it.
    from standardwebhooks.webhooks import WebhookVerificationError

    from invites.webhooks.service import new_secret
    with pytest.raises(WebhookVerificationError):
        received.verify(new_secret())
    # Every event of the organization arrived, once each, in the order written.
    assert world.receiver.delivered_ids() == [e.id for e in events_of(world.org)]


# --- what is not sent ---------------------------------------------------------------------------

def test_a_refusal_after_the_event_was_emitted_rolls_the_event_back(app, team, receiver, make_endpoint, make_link,
                                                                   worker):
    """use_link admits (member.joined is emitted), then finds the last use gone meanwhile
    (another request took it) and raises LinkUnavailable: the route's attempt() rolls back."""
    make_endpoint(team.org, team.owner, receiver.url)
    link, _ = make_link(team.org, team.owner, max_uses=1)
    before = len(events_of(team.org))  # invite_link.created
    link = db.session.get(InviteLink, link.id)
    assert link.uses == 0
    with db.engine.begin() as other:  # the last use, taken by another request a moment ago
        other.execute(update(InviteLink).where(InviteLink.id == link.id).values(uses=1))
    with app.test_request_context():
        with attempt() as done:
            links.use_link(link, team.outsider)
    assert not done and done.error.code == "used_up"
    assert len(events_of(team.org)) == before
    assert events_of(team.org, "member.joined") == []
    assert membership_of(team.org, team.outsider) is None
    worker()
    assert [r.json["type"] for r in receiver.requests] == ["invite_link.created"]


def test_a_transaction_rolled_back_after_emitting_leaves_no_event(app, team, receiver, make_endpoint, worker):
    make_endpoint(team.org, team.owner, receiver.url)
    with app.test_request_context():
        with attempt() as done:
            orgs.change_role(team.org, team.owner, membership_of(team.org, team.member), Role.MANAGER)
            db.session.flush()
            raise DomainError("Changed my mind.")
    assert not done
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 0
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0
    assert membership_of(team.org, team.member).role == Role.MEMBER
    # The next transaction of the session does not carry the dropped event either.
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 0
    run = worker()
    assert run.attempts == 0 and receiver.requests == []
    # The same change, committed, writes its one event (the case above is not vacuous).
    with app.test_request_context():
        with attempt() as done:
            orgs.change_role(team.org, team.owner, membership_of(team.org, team.member), Role.MANAGER)
    assert done
    [event] = events_of(team.org)
    assert event.type == "member.role_changed"
    worker()
    assert receiver.delivered_ids() == [event.id]


def test_an_organization_without_endpoints_writes_no_events(app, team, make_org, receiver, make_endpoint,
                                                           make_invitation, make_link, worker):
    other = make_org(owner=team.owner, name="Other Org")
    make_endpoint(other, team.owner, receiver.url)  # another organization's endpoint hears nothing of Acme's
    make_invitation(team.org, team.owner, "quiet@example.com")
    make_link(team.org, team.owner)
    with app.test_request_context():
        orgs.change_role(team.org, team.owner, membership_of(team.org, team.member), Role.MANAGER)
        db.session.commit()
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 0
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0
    worker()
    assert receiver.requests == []


def test_a_disabled_endpoint_gets_no_new_events(app, team, receiver, make_endpoint, make_invitation, worker):
    from invites.webhooks import service

    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    with app.test_request_context():
        service.set_enabled(team.org, team.owner, endpoint, False)
        db.session.commit()
    make_invitation(team.org, team.owner, "quiet@example.com")
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 0
    worker()
    assert receiver.requests == []


def test_an_endpoint_that_chose_some_events_gets_only_those(app, team, receiver, make_endpoint, make_invitation,
                                                           make_link, make_user, worker):
    chosen, _ = make_endpoint(team.org, team.owner, receiver.url + "?chosen",
                              events=["member.joined", "invitation.accepted"])
    everything, _ = make_endpoint(team.org, team.owner, receiver.url + "?all")
    invitee = make_user(email="pat@example.com")
    invitation, _ = make_invitation(team.org, team.owner, "pat@example.com")
    make_link(team.org, team.owner)
    with app.test_request_context():
        answering.accept_invitation(db.session.get(Invitation, invitation.id), invitee)
        db.session.commit()
    worker()
    to_chosen = [r.json["type"] for r in receiver.delivered if r.path.endswith("?chosen")]
    to_all = [r.json["type"] for r in receiver.delivered if r.path.endswith("?all")]
    assert to_chosen == ["member.joined", "invitation.accepted"]
    assert to_all == ["invitation.created", "invite_link.created", "member.joined", "invitation.accepted"]
    # One event each, with a delivery to each endpoint that hears it: the same webhook-id.
    ids = {r.json["type"]: r.id for r in receiver.delivered if r.path.endswith("?chosen")}
    assert ids == {r.json["type"]: r.id for r in receiver.delivered
                   if r.path.endswith("?all") and r.json["type"] in ids}
    assert db.session.scalar(db.select(db.func.count(WebhookEvent.id))) == 4
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 6


def test_emit_refuses_an_unknown_type(app, team):
    with pytest.raises(ValueError):
        emit(team.org, "invitation.exploded", None)


# --- one row per event; the worker makes the deliveries ----------------------------------------

def test_a_change_writes_one_row_per_event_and_the_worker_makes_its_deliveries(
    app, team, receiver, make_endpoint, make_invitation, make_user, worker,
):
    first, _ = make_endpoint(team.org, team.owner, receiver.url + "?n=1")
    second, _ = make_endpoint(team.org, team.owner, receiver.url + "?n=2", events=["member.joined"])
    invitee = make_user(email="pat@example.com")
    invitation, _ = make_invitation(team.org, team.owner, "pat@example.com")
    with app.test_request_context():
        answering.accept_invitation(db.session.get(Invitation, invitation.id), invitee)
        db.session.commit()
    events = events_of(team.org)
    assert [(e.type, e.fan_out_to) for e in events] == [
        ("invitation.created", f"{first.id}"),
        ("member.joined", f"{first.id} {second.id}"),
        ("invitation.accepted", f"{first.id}"),
    ]
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0

    assert worker(action=fan_out) == 3
    made = db.session.execute(
        db.select(WebhookDelivery.endpoint_id, WebhookEvent.type).join(WebhookDelivery.event)
        .order_by(WebhookDelivery.endpoint_id, WebhookDelivery.created_at, WebhookDelivery.event_id)).all()
    assert [tuple(row) for row in made] == [
        (first.id, "invitation.created"), (first.id, "member.joined"), (first.id, "invitation.accepted"),
        (second.id, "member.joined")]
    assert [e.fan_out_to for e in events_of(team.org)] == [None] * 3
    assert worker(action=fan_out) == 0  # once only

    worker()
    assert [r.json["type"] for r in receiver.to("/hooks/invites?n=1")] == [
        "invitation.created", "member.joined", "invitation.accepted"]
    assert [r.json["type"] for r in receiver.to("/hooks/invites?n=2")] == ["member.joined"]


def test_events_of_one_transaction_keep_the_order_they_were_emitted_in(app, team, receiver, make_endpoint, worker):
    """Under a frozen clock every event has the same time: the ids keep the order."""
    clock.freeze(real_now())
    make_endpoint(team.org, team.owner, receiver.url)
    addresses = [f"order{n}@example.com" for n in range(10)]
    with app.test_request_context():
        sending.send_invitations(team.org, team.owner, ", ".join(addresses), Role.MEMBER, [],
                                 commit=db.session.commit)
        db.session.commit()
    events = events_of(team.org)
    assert len({e.created_at for e in events}) == 1
    assert [e.id for e in events] == sorted(e.id for e in events)
    worker()
    assert [r.json["data"]["email"] for r in receiver.delivered] == addresses


def test_an_endpoint_deleted_before_the_fan_out_gets_nothing(app, team, receiver, make_endpoint, make_invitation,
                                                           worker):
    from invites.webhooks import service

    kept, _ = make_endpoint(team.org, team.owner, receiver.url + "?kept")
    gone, _ = make_endpoint(team.org, team.owner, receiver.url + "?gone")
    make_invitation(team.org, team.owner, "pat@example.com")
    with app.test_request_context():
        service.delete_endpoint(team.org, team.owner, db.session.get(type(gone), gone.id))
        db.session.commit()
    assert worker().delivered == 1
    assert [r.path for r in receiver.requests] == ["/hooks/invites?kept"]


def test_the_delivery_log_shows_events_the_worker_has_not_fanned_out_yet(
    app, client, auth, team, receiver, make_endpoint, make_invitation,
):
    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    make_invitation(team.org, team.owner, "pat@example.com")
    [event] = events_of(team.org)
    auth.login(team.owner)
    text = client.get(f"/o/{team.org.slug}/manage/webhooks/{endpoint.id}").get_data(as_text=True)
    assert event.id in text and "Pending" in text
    assert events_of(team.org)[0].fan_out_to is None
