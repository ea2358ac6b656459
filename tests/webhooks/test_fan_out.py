"""The worker's fan-out (events written with the change, deliveries made by
``deliver-webhooks``): an endpoint deleted while its events wait, or while they are fanned
out; the queue's order across migration 0019; prune; a disabled endpoint; the delivery
log's fan-out racing the workers'."""
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from invites.extensions import db
from invites.invitations import sending
from invites.orgs.models import Role
from invites.webhooks import service
from invites.webhooks.delivery import fan_out, prune
from invites.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from invites.webhooks.outbox import write
from tests.invitations.test_races import run_at_once
from tests.webhooks.conftest import events_of, real_now


def invite(app, org, owner, addresses):
    with app.test_request_context():
        sending.send_invitations(org, owner, addresses, Role.MEMBER, [], commit=db.session.commit, limit=100)
        db.session.commit()


def test_an_event_is_not_fanned_out_to_another_orgs_endpoint_that_took_a_deleted_ones_id(
    app, team, make_user, make_org, receiver, make_endpoint, worker,
):
    """SQLite reuses the highest rowid once its row is deleted (no AUTOINCREMENT): the id
    named in ``fan_out_to`` can be another organization's endpoint by the time the worker
    fans out. It must not hear the event."""
    gone, _ = make_endpoint(team.org, team.owner, receiver.url + "?org=a")
    invite(app, team.org, team.owner, ["private.person@example.com"])  # waits for the worker
    with app.test_request_context():
        service.delete_endpoint(team.org, team.owner, db.session.get(WebhookEndpoint, gone.id))
        db.session.commit()
    stranger = make_user(name="Sam Stranger")
    other = make_org(owner=stranger, name="Other Company")
    taker, _ = make_endpoint(other, stranger, receiver.url + "?org=b")

    worker()

    leaked = receiver.to("/hooks/invites?org=b")
    assert leaked == [], [r.json for r in leaked]
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))
                             .where(WebhookDelivery.endpoint_id == taker.id)) == 0


@pytest.mark.postgres_only
def test_an_endpoint_deleted_while_its_events_are_fanned_out(app, team, receiver, make_endpoint):
    """The endpoint's DELETE is in flight when the fan-out reads the endpoints (it sees it)
    and commits before the fan-out's INSERT: the INSERT's foreign key check waits for it,
    then fails. The fan-out (the worker, or a GET of the delivery log) should skip it."""
    kept, _ = make_endpoint(team.org, team.owner, receiver.url + "?kept")
    doomed, _ = make_endpoint(team.org, team.owner, receiver.url + "?doomed")
    with app.test_request_context():
        written = write(team.org, "invitation.created", [{"n": n} for n in range(3)], [kept.id, doomed.id],
                        deliveries=False)
        db.session.commit()

    deleting = db.engine.connect()
    transaction = deleting.begin()
    deleting.execute(db.delete(WebhookEndpoint).where(WebhookEndpoint.id == doomed.id))  # row locked
    outcome = {}

    def fan():
        with app.app_context():
            try:
                outcome["done"] = fan_out()
            except Exception as error:  # noqa: BLE001 (asserted below)
                outcome["error"] = error
                db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=fan)
    thread.start()
    time.sleep(0.5)  # the fan-out has read the endpoints and waits on the INSERT's FK check
    transaction.commit()
    deleting.close()
    thread.join(10)

    assert "error" not in outcome, repr(outcome.get("error"))[:300]
    assert outcome["done"] == len(written)
    db.session.expire_all()
    made = db.session.execute(db.select(WebhookDelivery.event_id, WebhookDelivery.endpoint_id)).all()
    assert sorted(made) == sorted((event_id, kept.id) for event_id in written)


def test_migration_0019_keeps_the_order_of_deliveries_queued_before_it(app, tmp_path):
    """Before 0019 an event id was ``msg_`` and 24 random characters, and an endpoint's
    queue was ordered by (created_at, delivery id); one transaction's events shared a time.
    Still queued at the upgrade, they keep that order under (created_at, event_id)."""
    import flask_migrate
    from sqlalchemy import column, table

    from invites.accounts.service import register_user
    from invites.orgs.service import create_organization
    from tests.conftest import _make_app

    other = _make_app(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")
    with other.app_context():
        # The organization is made by today's code, then the schema taken back to 0018.
        flask_migrate.upgrade()
        owner = register_user("Old Owner", "old", "old@example.com", "a long password", verified=True)
        org_id = create_organization(owner, "Old Org", "old-org").id
        db.session.commit()
        db.session.close()
        flask_migrate.downgrade(revision="0018")
        at = real_now()
        endpoints = table("webhook_endpoints", *(column(c) for c in (
            "id", "org_id", "url", "description", "events", "secret_ciphertext", "enabled", "created_at")))
        events = table("webhook_events", *(column(c) for c in ("id", "org_id", "type", "payload", "created_at")))
        deliveries = table("webhook_deliveries", *(column(c) for c in (
            "event_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at")))
        db.session.execute(endpoints.insert().values(id=1, org_id=org_id, url="https://hooks.example.com/",
                                                     description="", events="", secret_ciphertext="x",
                                                     enabled=True, created_at=at))
        legacy = [f"msg_{letter * 24}" for letter in "zyxwv"]  # as one transaction wrote them
        later = "msg_" + "a" * 24  # the next transaction's, a second on
        for event_id, when, state in [(e, at, "pending") for e in legacy] + [(later, at + timedelta(seconds=1), "pending")]:
            db.session.execute(events.insert().values(id=event_id, org_id=org_id, type="invitation.created",
                                                      payload="{}", created_at=when))
            db.session.execute(deliveries.insert().values(event_id=event_id, endpoint_id=1, state=state, attempts=0,
                                                          next_attempt_at=when, created_at=when))
        db.session.commit()

        flask_migrate.upgrade()
        queue = db.session.scalars(db.select(WebhookDelivery.event_id).where(WebhookDelivery.endpoint_id == 1)
                                   .order_by(WebhookDelivery.created_at, WebhookDelivery.event_id)).all()
        assert queue == legacy + [later]
        db.session.remove()
        db.engine.dispose()


def test_prune_keeps_old_events_not_fanned_out_yet(app, team, make_endpoint, receiver, worker):
    """An event older than the days kept whose fan-out has not run (worker down) is kept,
    and once fanned out its pending delivery keeps it."""
    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    with app.test_request_context():
        (event_id,) = write(team.org, "invitation.created", [{"n": 1}], [endpoint.id], deliveries=False)
        db.session.commit()
    db.session.execute(db.update(WebhookEvent).values(created_at=real_now() - timedelta(days=40)))
    db.session.execute(db.update(WebhookEndpoint).values(created_at=real_now() - timedelta(days=41)))
    db.session.commit()

    assert prune(30) == 0
    assert fan_out() == 1
    db.session.commit()
    assert prune(30) == 0
    assert db.session.get(WebhookEvent, event_id) is not None
    receiver.down()
    worker()
    assert prune(30) == 0  # retrying: pending
    receiver.up()
    db.session.execute(db.update(WebhookDelivery).values(next_attempt_at=real_now() - timedelta(seconds=1)))
    db.session.commit()
    worker()
    assert receiver.delivered_ids() == [event_id]
    assert prune(30) == 1


def test_a_disabled_endpoint_gets_its_deliveries_at_fan_out_and_they_wait_in_order(
    app, team, make_endpoint, receiver, worker,
):
    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    invite(app, team.org, team.owner, [f"d{n}@example.com" for n in range(3)])
    with app.test_request_context():
        service.set_enabled(team.org, team.owner, db.session.get(WebhookEndpoint, endpoint.id), False)
        db.session.commit()
    worker()
    assert receiver.requests == []
    assert db.session.scalar(db.select(db.func.count()).where(WebhookEvent.fan_out_to.is_not(None))) == 0
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 3
    with app.test_request_context():
        service.set_enabled(team.org, team.owner, db.session.get(WebhookEndpoint, endpoint.id), True)
        db.session.commit()
    worker()
    assert receiver.delivered_ids() == [event.id for event in events_of(team.org)]


@pytest.mark.postgres_only
def test_the_logs_fan_out_racing_the_workers_makes_each_delivery_once(app, team, make_user, make_org,
                                                                       receiver, make_endpoint):
    """GETs of the delivery log (fan_out(org)) and workers (fan_out()) at once, with two
    organizations' events interleaved: each (event, endpoint) once, nothing left."""
    mine, _ = make_endpoint(team.org, team.owner, receiver.url + "?a")
    owner = make_user(name="Bo Other")
    other = make_org(owner=owner, name="Other")
    theirs, _ = make_endpoint(other, owner, receiver.url + "?b")
    written = []
    with app.test_request_context():
        for n in range(6):
            written += write(team.org, "invitation.created", [{"n": n}] * 150, [mine.id], deliveries=False)
            written += write(other, "invitation.created", [{"n": n}] * 150, [theirs.id], deliveries=False)
        db.session.commit()
    org_id = team.org.id

    results = run_at_once(app, [fan_out, fan_out, lambda: fan_out(org_id), lambda: fan_out(org_id)])
    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    made = Counter(db.session.execute(db.select(WebhookDelivery.event_id, WebhookDelivery.endpoint_id)).all())
    assert len(made) == len(written) and set(made.values()) == {1}
    assert db.session.scalar(db.select(db.func.count()).where(WebhookEvent.fan_out_to.is_not(None))) == 0
