"""Several ``flask deliver-webhooks`` workers at once (PostgreSQL: FOR UPDATE SKIP LOCKED
and the lease; the fan-out's conditional UPDATE) never send one delivery twice, leave none
out, and keep each endpoint's order, also while events are being written."""
import threading
from collections import Counter

import pytest

from invites.accounts.models import User
from invites.extensions import db
from invites.invitations import sending
from invites.orgs.models import Organization, Role
from invites.webhooks.delivery import FAN_OUT_BATCH, deliver_due, fan_out
from invites.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEvent
from invites.webhooks.outbox import write
from tests.invitations.test_races import run_at_once
from tests.webhooks.conftest import events_of

pytestmark = pytest.mark.postgres_only


def invite(app, org, owner, addresses):
    with app.test_request_context():
        sending.send_invitations(org, owner, addresses, Role.MEMBER, [], commit=db.session.commit, limit=100)
        db.session.commit()


@pytest.mark.parametrize("workers, endpoints, events", [(3, 3, 10), (2, 1, 30)], ids=["3x3x10", "2x1x30"])
def test_workers_at_once_deliver_each_event_exactly_once_in_order(
    app, team, receiver, make_endpoint, workers, endpoints, events,
):
    paths = [f"/hooks/invites?n={n}" for n in range(endpoints)]
    for n in range(endpoints):
        make_endpoint(team.org, team.owner, receiver.url + f"?n={n}")
    invite(app, team.org, team.owner, [f"race{n}@example.com" for n in range(events)])
    written = [event.id for event in events_of(team.org)]
    assert len(written) == events
    receiver.delay = 0.01  # each answer takes a moment: the workers overlap

    runs = run_at_once(app, [deliver_due] * workers)
    assert not [run for run in runs if isinstance(run, Exception)], runs
    assert sum(run.delivered for run in runs) == endpoints * events, runs
    assert sum(run.failed for run in runs) == 0

    sent = [(r.path, r.id) for r in receiver.requests]
    duplicates = [pair for pair, times in Counter(sent).items() if times > 1]
    assert duplicates == []
    for path in paths:
        assert [r.id for r in receiver.to(path)] == written, path  # all there, in order
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(WebhookAttempt.id))) == endpoints * events
    assert set(db.session.scalars(db.select(WebhookDelivery.state))) == {DeliveryState.DELIVERED}
    assert set(db.session.scalars(db.select(WebhookDelivery.attempts))) == {1}
    if endpoints > 1:
        assert sum(1 for run in runs if run.delivered) > 1  # the work was shared


def test_events_written_while_workers_run_arrive_once_each_in_order(app, team, receiver, make_endpoint):
    """The change's transaction writes only the event; workers fan out and deliver while
    more are written: every event arrives once, in the order written."""
    make_endpoint(team.org, team.owner, receiver.url)
    org_id, owner_id = team.org.id, team.owner.id
    writing = threading.Event()
    writing.set()

    def writer():
        try:
            for n in range(30):
                invite(app, db.session.get(Organization, org_id), db.session.get(User, owner_id),
                       [f"live{n}@example.com"])
        finally:
            writing.clear()

    def worker_until_written():
        delivered = 0
        while True:
            last = not writing.is_set()  # one whole pass once the writer is done
            delivered += deliver_due().delivered
            if last:
                return delivered

    runs = run_at_once(app, [writer] + [worker_until_written] * 3)
    assert not [run for run in runs if isinstance(run, Exception)], runs
    written = [event.id for event in events_of(team.org)]
    assert len(written) == 30
    assert receiver.delivered_ids() == written
    assert sum(runs[1:]) == 30


def test_workers_fanning_out_at_once_make_each_delivery_once(app, team, receiver, make_endpoint):
    """Batches that overlap: the UPDATE of one waits for the other and starts over."""
    first, _ = make_endpoint(team.org, team.owner, receiver.url + "?n=1")
    second, _ = make_endpoint(team.org, team.owner, receiver.url + "?n=2")
    with app.test_request_context():
        written = write(team.org, "invitation.created", [{"n": n} for n in range(FAN_OUT_BATCH * 2 + 100)],
                        [first.id, second.id], deliveries=False)
        db.session.commit()

    counts = run_at_once(app, [fan_out] * 3)
    assert not [count for count in counts if isinstance(count, Exception)], counts
    assert sum(counts) == len(written)
    db.session.expire_all()
    made = Counter(db.session.execute(db.select(WebhookDelivery.event_id, WebhookDelivery.endpoint_id)).all())
    assert len(made) == 2 * len(written) and set(made.values()) == {1}
    assert db.session.scalar(db.select(db.func.count()).where(WebhookEvent.fan_out_to.is_not(None))) == 0
