"""``flask deliver-webhooks`` against a real receiver: retries with backoff while it is
down, each event once and in order per endpoint once it is back, the webhook-id stable
across retries; an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled and its
owners told (bell and mail), enabled again from the panel; "Redeliver"; ``flask prune``."""
from datetime import datetime, timedelta

from sqlalchemy import update

from invites import clock
from invites.extensions import db
from invites.invitations import sending
from invites.notifications.models import Notification
from invites.orgs.models import Role
from invites.webhooks.delivery import RETRIES, announce_expired_invitations, prune
from invites.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.webhooks.conftest import ONE_SECOND, events_of, real_now

T0 = datetime(2026, 3, 2, 9, 0)


def delivery_of(event, endpoint=None):
    db.session.expire_all()
    query = db.select(WebhookDelivery).filter_by(event_id=event.id)
    if endpoint is not None:
        query = query.filter_by(endpoint_id=endpoint.id)
    return db.session.scalars(query).one()


def attempts_of(delivery):
    return db.session.scalars(
        db.select(WebhookAttempt).filter_by(delivery_id=delivery.id).order_by(WebhookAttempt.at, WebhookAttempt.id)
    ).all()


def invite(app, org, owner, *addresses):
    """One batch of invitations (one event each, written in one transaction)."""
    with app.test_request_context():
        sending.send_invitations(org, owner, ", ".join(addresses), Role.MEMBER, [], commit=db.session.commit)
        db.session.commit()


def test_a_retry_keeps_the_webhook_id_and_signs_afresh(app, team, receiver, make_endpoint, worker):
    start = real_now() - timedelta(minutes=10)
    clock.freeze(start)
    _, secret = make_endpoint(team.org, team.owner, receiver.url)
    invite(app, team.org, team.owner, "retry@example.com")
    [event] = events_of(team.org)
    receiver.down()
    run = worker(at=start)
    assert (run.delivered, run.failed) == (0, 1)
    delivery = delivery_of(event)
    [first] = attempts_of(delivery)
    assert first.status_code == 503 and first.error == "HTTP 503 Service Unavailable" and first.duration_ms >= 0
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    # Retried after 5 s, ±20 %.
    assert start + timedelta(seconds=4) <= delivery.next_attempt_at <= start + timedelta(seconds=6)
    assert worker(at=start + timedelta(seconds=3)).attempts == 0

    receiver.up()
    clock.unfreeze()
    assert worker().delivered == 1
    failed, ok = receiver.requests
    assert (failed.status, ok.status) == (503, 200)
    assert failed.id == ok.id == event.id  # what receivers deduplicate by
    assert failed.body == ok.body
    assert int(ok.headers["webhook-timestamp"]) - int(failed.headers["webhook-timestamp"]) >= 590
    assert ok.verify(secret)["type"] == "invitation.created"
    delivery = delivery_of(event)
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 2 and delivery.delivered_at
    assert [a.status_code for a in attempts_of(delivery)] == [503, 200]


def test_a_receiver_down_for_a_while_gets_every_event_once_in_order(app, team, receiver, make_endpoint, worker):
    clock.freeze(T0)
    down, _ = make_endpoint(team.org, team.owner, receiver.url + "?down")
    healthy, _ = make_endpoint(team.org, team.owner, receiver.url + "?healthy")
    receiver.down(path="/hooks/invites?down")
    invite(app, team.org, team.owner, "first@example.com")
    [first] = events_of(team.org)
    run = worker(at=T0)
    assert (run.delivered, run.failed) == (1, 1)  # the healthy endpoint is not held up

    clock.freeze(T0 + ONE_SECOND)
    invite(app, team.org, team.owner, "second@example.com", "third@example.com")  # one transaction
    clock.freeze(T0 + 2 * ONE_SECOND)
    invite(app, team.org, team.owner, "fourth@example.com")
    events = events_of(team.org)
    assert len(events) == 4 and events[0].id == first.id
    run = worker(at=T0 + 3 * ONE_SECOND)
    assert (run.delivered, run.failed) == (3, 0)  # all to the healthy one; the others wait behind the first
    assert [r.id for r in receiver.to("/hooks/invites?healthy")] == [e.id for e in events]

    # While it is down, only the first is tried, each time its retry is due (and not before).
    previous = delivery_of(first, down).last_attempt_at
    for n in range(5):
        due = delivery_of(first, down).next_attempt_at
        expected = RETRIES[n].total_seconds()
        assert 0.8 * expected - 1 <= (due - previous).total_seconds() <= 1.2 * expected + 1, (n, due - previous)
        assert worker(at=due - ONE_SECOND).attempts == 0
        run = worker(at=due)
        assert (run.delivered, run.failed) == (0, 1), n
        previous = due
    tried = receiver.to("/hooks/invites?down")
    assert len(tried) == 6 and {r.id for r in tried} == {first.id} and all(r.status == 503 for r in tried)
    assert delivery_of(first, down).attempts == 6
    assert [d.attempts for d in (delivery_of(e, down) for e in events[1:])] == [0, 0, 0]

    # Back: at the next retry every event arrives, once, in the order written.
    receiver.up()
    run = worker(at=delivery_of(first, down).next_attempt_at)
    assert (run.delivered, run.failed) == (4, 0)
    answered = [r.id for r in receiver.to("/hooks/invites?down") if r.ok]
    assert answered == [e.id for e in events]
    assert worker(at=T0 + timedelta(days=5)).attempts == 0  # nothing left, nothing sent twice
    assert [r.id for r in receiver.to("/hooks/invites?down") if r.ok] == [e.id for e in events]
    assert {delivery_of(e, down).state for e in events} == {DeliveryState.DELIVERED}
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, down.id).failing_since is None


def test_a_receiver_slower_than_the_read_timeout_is_a_failed_attempt(app, team, receiver, make_endpoint, worker):
    clock.freeze(T0)
    make_endpoint(team.org, team.owner, receiver.url)
    invite(app, team.org, team.owner, "slow@example.com")
    [event] = events_of(team.org)
    receiver.delay = 1.5  # the read timeout is 0.5 s here
    run = worker(at=T0)
    assert run.failed == 1
    [tried] = attempts_of(delivery_of(event))
    assert tried.status_code is None and "timed out" in tried.error, tried.error
    assert 400 <= tried.duration_ms < 1500
    receiver.delay = 0
    assert worker(at=delivery_of(event).next_attempt_at).delivered == 1


def test_an_endpoint_failing_too_long_is_disabled_owners_told_and_enabling_resumes(
    app, client, auth, team, smtp, make_user, add_member, receiver, make_endpoint, worker,
):
    app.config["WEBHOOK_DISABLE_AFTER_HOURS"] = 2
    second_owner = make_user(name="Oscar Owner")
    add_member(team.org, second_owner, Role.OWNER)
    clock.freeze(T0)
    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    receiver.down()
    invite(app, team.org, team.owner, "down@example.com")
    [event] = events_of(team.org)
    runs, at = [], T0
    while len(runs) < 12:
        runs.append(worker(at=at))
        db.session.expire_all()
        if not db.session.get(WebhookEndpoint, endpoint.id).enabled:
            break
        at = delivery_of(event).next_attempt_at
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert not endpoint.enabled and runs[-1].disabled == [receiver.url]
    assert endpoint.disabled_reason.startswith("Disabled automatically: every delivery failed for 2 hours")
    tries = attempts_of(delivery_of(event))
    assert tries[-1].at - tries[0].at >= timedelta(hours=2) > tries[-2].at - tries[0].at
    assert sum(len(run.disabled) for run in runs) == 1

    # Both owners hear of it, in the bell and by mail; the manager does not.
    for owner in (team.owner, second_owner):
        [note] = db.session.scalars(db.select(Notification).filter_by(user_id=owner.id)).all()
        assert note.kind == "webhook_disabled" and receiver.url in note.text and note.org_id == team.org.id
        [mail] = smtp.to(owner.email)
        assert mail["Subject"] == "A webhook endpoint of Acme Training was disabled"
        assert receiver.url in smtp.text(mail).replace("\u200b", "")  # (no_links breaks it up)
        assert f"/o/{team.org.slug}/manage/webhooks/{endpoint.id}" in smtp.text(mail)
    assert smtp.to(team.manager.email) == []
    assert db.session.scalar(db.select(db.func.count(Notification.id)).filter_by(user_id=team.manager.id)) == 0

    # No more attempts, whatever the time; no new events for it either.
    asked = len(receiver.requests)
    assert worker(at=at + timedelta(days=4)).attempts == 0
    invite(app, team.org, team.owner, "while-disabled@example.com")
    assert len(events_of(team.org)) == 1
    assert len(receiver.requests) == asked

    # The owner sees it in the bell, and enables it on the endpoint's page: it resumes.
    auth.login(team.owner)
    page = client.get(f"/o/{team.org.slug}/manage/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "Disabled automatically" in page
    receiver.up()
    response = client.post_form(f"/o/{team.org.slug}/manage/webhooks/{endpoint.id}/enable")
    assert response.status_code == 302
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert endpoint.enabled and endpoint.disabled_reason is None and endpoint.failing_since is None
    assert worker(at=at + timedelta(days=4)).delivered == 1
    assert receiver.delivered_ids() == [event.id]
    assert delivery_of(event).state == DeliveryState.DELIVERED


def test_a_delivery_fails_when_retries_run_out_and_redeliver_sends_it_again(
    app, client, auth, team, receiver, make_endpoint, worker,
):
    app.config["WEBHOOK_DISABLE_AFTER_HOURS"] = 10_000
    clock.freeze(T0)
    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    receiver.down(500)
    invite(app, team.org, team.owner, "gives-up@example.com")
    [event] = events_of(team.org)
    at = T0
    for _ in range(len(RETRIES) + 1):
        assert worker(at=at).failed == 1
        at = delivery_of(event).next_attempt_at
    delivery = delivery_of(event)
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == len(RETRIES) + 1 == 11
    assert timedelta(hours=57) < delivery.last_attempt_at - T0 < timedelta(hours=86)
    assert worker(at=T0 + timedelta(days=10)).attempts == 0
    assert len(receiver.requests) == 11

    receiver.up()
    auth.login(team.owner)
    base = f"/o/{team.org.slug}/manage/webhooks/{endpoint.id}"
    assert client.get(base).get_data(as_text=True).count("Redeliver<") == 1
    response = client.post_form(f"{base}/deliveries/{delivery.id}/redeliver", follow_redirects=True)
    assert f"The event {event.id} is due again" in response.get_data(as_text=True)
    delivery = delivery_of(event)
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 0
    assert worker(at=T0 + timedelta(days=10)).delivered == 1
    assert receiver.delivered_ids() == [event.id]

    # A delivered one too: sent again, with the same webhook-id.
    client.post_form(f"{base}/deliveries/{delivery.id}/redeliver")
    assert worker(at=T0 + timedelta(days=10)).delivered == 1
    assert receiver.delivered_ids() == [event.id, event.id]
    assert len(attempts_of(delivery_of(event))) == 13


def test_prune_deletes_old_settled_events_and_their_log_and_keeps_pending_ones(
    app, team, make_org, receiver, make_endpoint, worker,
):
    other = make_org(owner=team.owner, name="Other")
    clock.freeze(T0)
    make_endpoint(team.org, team.owner, receiver.url + "?ok")
    make_endpoint(other, team.owner, receiver.url + "?down")
    receiver.down(path="/hooks/invites?down")
    invite(app, team.org, team.owner, "delivered@example.com", "failed@example.com")
    invite(app, other, team.owner, "pending@example.com")
    assert worker(at=T0).attempts == 3
    delivered, failed = events_of(team.org)
    [pending] = events_of(other)
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.event_id == failed.id)
                       .values(state=DeliveryState.FAILED))
    db.session.commit()
    clock.freeze(T0 + timedelta(days=40))
    invite(app, team.org, team.owner, "recent@example.com")
    [recent] = [e for e in events_of(team.org) if e.id not in (delivered.id, failed.id)]
    worker(at=T0 + timedelta(days=40))
    old_deliveries = [delivery_of(delivered).id, delivery_of(failed).id]

    assert prune(30) == 2
    db.session.expire_all()
    assert set(db.session.scalars(db.select(WebhookEvent.id))) == {pending.id, recent.id}
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))
                             .where(WebhookDelivery.id.in_(old_deliveries))) == 0
    assert db.session.scalar(db.select(db.func.count(WebhookAttempt.id))
                             .where(WebhookAttempt.delivery_id.in_(old_deliveries))) == 0
    assert len(attempts_of(delivery_of(pending))) == 2  # kept with its event
    assert len(attempts_of(delivery_of(recent))) == 1
    assert prune(30) == 0


def test_the_commands_deliver_and_prune_and_print_counts(app, team, receiver, make_endpoint):
    clock.freeze(T0)
    make_endpoint(team.org, team.owner, receiver.url)
    invite(app, team.org, team.owner, "cli@example.com")
    clock.freeze(T0 + timedelta(days=15))  # the invitation expired meanwhile: announced by the same run
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deliver-webhooks", "--once"])
    assert result.exit_code == 0, result.output
    assert "Webhook deliveries: 2 delivered, 0 failed attempts" in result.output
    assert [r.json["type"] for r in receiver.delivered] == ["invitation.created", "invitation.expired"]

    receiver.down()
    invite(app, team.org, team.owner, "cli2@example.com")
    result = runner.invoke(args=["deliver-webhooks", "--once"])
    assert result.exit_code == 0, result.output
    assert "Webhook deliveries: 0 delivered, 1 failed attempts" in result.output

    clock.freeze(T0 + timedelta(days=20))
    result = runner.invoke(args=["prune", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "Webhook events pruned: 1." in result.output  # the created one; expired is recent, cli2 pending
    clock.freeze(T0 + timedelta(days=60))
    result = runner.invoke(args=["prune"])  # WEBHOOK_LOG_DAYS, 30
    assert result.exit_code == 0 and "Webhook events pruned: 1." in result.output, result.output
    db.session.expire_all()
    assert [e.type for e in db.session.scalars(db.select(WebhookEvent))] == ["invitation.created"]
    assert runner.invoke(args=["prune", "--days", "0"]).exit_code != 0


def test_invitations_that_lapsed_before_the_endpoint_was_added_are_not_announced(
    app, team, make_invitation, make_endpoint, receiver,
):
    start = clock.now()
    clock.freeze(start - timedelta(days=30))
    old, _ = make_invitation(team.org, team.owner, "long.gone@example.com")  # lapsed 16 days ago
    clock.freeze(start - timedelta(days=1))
    recent, _ = make_invitation(team.org, team.owner, "just.lapsing@example.com")
    clock.freeze(start)
    make_endpoint(team.org, team.owner, receiver.url + "/hook")  # added today
    clock.freeze(start + timedelta(days=14))  # the recent one's 14 days are over
    assert announce_expired_invitations() == 1
    [event] = db.session.scalars(db.select(WebhookEvent).filter_by(type="invitation.expired")).all()
    assert f'"id":{recent.id},' in event.payload and "long.gone" not in event.payload


def test_the_worker_leaves_no_transaction_open_between_passes(app, team, receiver, make_endpoint):
    """``work`` sleeps between passes: an open transaction would hold a snapshot (and
    PostgreSQL's vacuum) for that long."""
    from invites.webhooks.delivery import deliver_due

    make_endpoint(team.org, team.owner, receiver.url)
    invite(app, team.org, team.owner, "idle@example.com")
    with app.app_context():
        assert deliver_due().delivered == 1
        assert not db.session().in_transaction()
        assert deliver_due().attempts == 0
        assert not db.session().in_transaction()
        db.session.remove()
