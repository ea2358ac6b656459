"""Several ``flask deliver-webhooks`` workers at once (PostgreSQL: FOR UPDATE SKIP LOCKED
and the lease) never send one delivery twice, leave none out, and keep each endpoint's
order."""
from collections import Counter

import pytest

from invites.extensions import db
from invites.invitations import sending
from invites.orgs.models import Role
from invites.webhooks.delivery import deliver_due
from invites.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery
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
