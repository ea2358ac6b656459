"""``flask deliver-webhooks``: sending the outbox, signed per the Standard Webhooks
specification, with retries, in event order per endpoint.

First the worker fans the new events out (``fan_out``): each event row names the endpoints
that heard it, and gets one delivery per endpoint, in event order. A batch of events is
read ``FOR UPDATE`` in event order on PostgreSQL (claimed by a conditional UPDATE on
SQLite), so a batch waits for one in flight before it, and the deliveries of earlier
events are always there first.

A worker takes one due delivery at a time: the oldest pending one of an enabled endpoint
whose earlier deliveries are all settled (so each endpoint hears its events in order),
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL and then leased by a conditional
UPDATE that is committed before anything is sent: several workers on several machines
never send one delivery twice, and none waits on another's HTTP call. A worker that dies
mid-send leaves the lease to run out (``LEASE``), and the delivery is tried again: at least
once, so receivers deduplicate by the ``webhook-id``.

A failed attempt is retried after ``RETRIES`` (5 s up to a day, each ±20 % at random),
about three days in all; then the delivery fails. An endpoint whose deliveries have
failed without a success for ``WEBHOOK_DISABLE_AFTER_HOURS`` is disabled, and its
organization's owners are told by mail and in the bell.
"""
from __future__ import annotations

import functools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import bindparam, insert
from sqlalchemy.orm import aliased, joinedload
from standardwebhooks.webhooks import Webhook

from invites.clock import now
from invites.extensions import db
from invites.mail.service import MailDeliveryError, external_url, send_mail
from invites.notifications.service import notify
from invites.orgs.models import Membership, Role
from invites.tokens import unseal
from invites.webhooks import transport
from invites.transaction import on_postgresql
from invites.webhooks.models import (DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent,
                                     pending_delivery)

if TYPE_CHECKING:
    from invites.orgs.models import Organization

RETRIES = (timedelta(seconds=5), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=1), timedelta(hours=3), timedelta(hours=6), timedelta(hours=12),
           timedelta(hours=24), timedelta(hours=24))  # 71 h 36 min after the first try
LEASE = timedelta(minutes=2)  # longer than a connect and a read timeout together


@dataclass
class Run:
    delivered: int = 0
    failed: int = 0  # attempts that failed (retried later or given up)
    disabled: list[str] = field(default_factory=list)  # endpoints' URLs
    secrets: dict[int, str | None] = field(default_factory=dict, repr=False)  # endpoint id -> secret

    @property
    def attempts(self) -> int:
        return self.delivered + self.failed


@dataclass
class Claimed:
    """A leased delivery, read before the lease's commit (so nothing is read again)."""

    delivery_id: int
    attempts: int  # with this one
    endpoint_id: int
    url: str
    secret_ciphertext: str
    failing_since: datetime | None
    event_id: str
    payload: str


def secret_label(endpoint_id: int) -> bytes:
    return f"webhook_endpoints:{endpoint_id}".encode()


def signing_secret(endpoint_id: int, ciphertext: str) -> str | None:
    return unseal(ciphertext, secret_label(endpoint_id))


FAN_OUT_BATCH = 500  # events per transaction
FAN_OUT_EVERY = 1.0  # seconds: how often a busy worker looks for new events


def deliver_due(limit: int | None = None) -> Run:
    """Attempt every due delivery (or ``limit`` of them), each in its own transactions,
    over one kept-alive connection per receiver; new events are fanned out first, and
    again every ``FAN_OUT_EVERY`` seconds while there is work."""
    run = Run()
    fanned_at = time.monotonic()
    fan_out()
    with transport.Poster() as poster:
        while limit is None or run.attempts < limit:
            if time.monotonic() - fanned_at > FAN_OUT_EVERY:
                fanned_at = time.monotonic()
                fan_out()
            claimed = _claim(now())
            if claimed is None:
                if fan_out():
                    continue
                break
            attempt(claimed, run, poster)
    db.session.rollback()  # the last look found nothing: no transaction left open while idle
    return run


def fan_out(org_id: int | None = None) -> int:
    """Give the events written since (all, or ``org_id``'s) their deliveries, oldest first,
    ``FAN_OUT_BATCH`` per transaction (committed); the number of events fanned out.
    Finding nothing to do is one read, in the caller's transaction.

    On PostgreSQL the batch is read ``FOR UPDATE`` in event order: a batch in flight makes
    the next reader wait at its first row, then skip it once fanned out, so no later event
    gets its delivery before an earlier one, and two readers lock in the same order (no
    deadlock). SQLite has no row locks: there the conditional UPDATE that claims the batch
    waits for the database lock, finds events taken, and the batch starts over."""
    postgresql = on_postgresql()
    done = 0
    query = (db.select(WebhookEvent.id, WebhookEvent.org_id, WebhookEvent.created_at, WebhookEvent.fan_out_to)
             .where(WebhookEvent.fan_out_to.is_not(None))
             .order_by(WebhookEvent.created_at, WebhookEvent.id).limit(FAN_OUT_BATCH))
    if org_id is not None:
        query = query.where(WebhookEvent.org_id == org_id)
    if postgresql:
        query = query.with_for_update()
    while events := db.session.execute(query).all():
        taken = db.session.execute(
            db.update(WebhookEvent)
            .where(WebhookEvent.id.in_([event.id for event in events]), WebhookEvent.fan_out_to.is_not(None))
            .values(fan_out_to=None).execution_options(synchronize_session=False))
        if taken.rowcount != len(events):  # type: ignore[attr-defined]
            db.session.rollback()  # SQLite: another worker fanned some out meanwhile: read again
            continue
        rows = _deliveries_of(events, postgresql)
        if rows:
            db.session.connection().execute(insert(WebhookDelivery), rows)
        db.session.commit()
        done += len(events)
    return done


def _deliveries_of(events: Sequence[Any], postgresql: bool) -> list[dict[str, Any]]:
    """The delivery rows of ``events`` (rows of id, org_id, created_at, fan_out_to): one per
    endpoint named that still exists, in the event's organization. SQLite can give a
    deleted endpoint's id to a new one, of another organization too, so there the endpoint
    must also be older than the event (PostgreSQL never reuses an id, and there several web
    servers' clocks may differ a little). The endpoints are read ``FOR KEY SHARE`` on
    PostgreSQL: one being deleted meanwhile is waited for and skipped, and a delete that
    comes after waits until the deliveries are in, and takes them with it."""
    wanted = {event.id: [int(i) for i in event.fan_out_to.split()] for event in events}
    endpoints = db.select(WebhookEndpoint.id, WebhookEndpoint.org_id, WebhookEndpoint.created_at).where(
        WebhookEndpoint.id.in_({i for ids in wanted.values() for i in ids}))
    if postgresql:
        endpoints = endpoints.with_for_update(key_share=True)
    found = {endpoint_id: (org_id, made) for endpoint_id, org_id, made in db.session.execute(endpoints)}
    return [pending_delivery(event.id, endpoint_id, event.created_at)
            for event in events for endpoint_id in wanted[event.id]
            if endpoint_id in found and found[endpoint_id][0] == event.org_id
            and (postgresql or found[endpoint_id][1] <= event.created_at)]


@functools.cache
def _due(postgresql: bool) -> Any:
    """The due head of some endpoint's queue: for each enabled endpoint, its oldest pending
    delivery (one probe of ``ix_webhook_deliveries_due``), if that one is due at the bound
    ``at``. The cost grows with the number of endpoints, not of deliveries waiting. Built
    once per process (building it cost more than running it)."""
    queued = aliased(WebhookDelivery)
    head = (db.select(queued.id)
            .where(queued.endpoint_id == WebhookEndpoint.id, queued.state == DeliveryState.PENDING)
            .order_by(queued.created_at, queued.event_id).limit(1)
            .correlate(WebhookEndpoint).scalar_subquery())
    heads = db.select(head).where(WebhookEndpoint.enabled.is_(True))
    query = (
        db.select(WebhookDelivery, WebhookEndpoint, WebhookEvent)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(heads), WebhookDelivery.next_attempt_at <= bindparam("at"))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return query.with_for_update(skip_locked=True, of=WebhookDelivery) if postgresql else query


def _claim(at: datetime) -> Claimed | None:
    """The next due delivery, leased to this worker (committed), or None. Two queries: the
    claim (``FOR UPDATE SKIP LOCKED`` of the delivery on PostgreSQL) and the lease."""
    postgresql = on_postgresql()
    while True:
        if postgresql:
            _commit_without_waiting_for_disk()
        row = db.session.execute(_due(postgresql), {"at": at}).first()
        if row is None:
            db.session.rollback()
            return None
        delivery, endpoint, event = row
        claimed = lease(delivery, endpoint, event, at)
        if claimed is not None:
            return claimed
        # Another worker (SQLite: no row locks) leased it first: look again.


def _commit_without_waiting_for_disk() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk.
    Safe here: a lease or a result lost in a crash only means the delivery is sent again
    once its lease runs out, which at-least-once delivery allows (receivers deduplicate
    by webhook-id). It saves a disk flush per commit, two per delivery."""
    db.session.execute(db.text("SET LOCAL synchronous_commit TO OFF"))


def lease(delivery: WebhookDelivery, endpoint: WebhookEndpoint, event: WebhookEvent, at: datetime) -> Claimed | None:
    """Lease ``delivery`` as read (a conditional UPDATE on its attempts) and commit; None
    when another worker leased it since."""
    claimed = Claimed(delivery.id, delivery.attempts + 1, endpoint.id, endpoint.url, endpoint.secret_ciphertext,
                      endpoint.failing_since, event.id, event.payload)
    leased = db.session.execute(
        db.update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.state == DeliveryState.PENDING,
               WebhookDelivery.attempts == delivery.attempts)
        .values(attempts=claimed.attempts, next_attempt_at=at + LEASE, last_attempt_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return claimed if leased.rowcount == 1 else None  # type: ignore[attr-defined]


def signed_headers(secret: str, event_id: str, payload: str, at: datetime) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` (Standard Webhooks)."""
    at = at.replace(microsecond=0, tzinfo=timezone.utc)
    return {"webhook-id": event_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(event_id, at, payload)}


def attempt(claimed: Claimed, run: Run | None = None, poster: transport.Poster | None = None) -> transport.Answer:
    """Send a leased delivery and keep what happened (committed): two writes, and a third
    only when the endpoint's health changes."""
    run = run or Run()
    if claimed.endpoint_id not in run.secrets:
        run.secrets[claimed.endpoint_id] = signing_secret(claimed.endpoint_id, claimed.secret_ciphertext)
    secret = run.secrets[claimed.endpoint_id]
    if secret is None:
        answer = transport.Answer(None, "The signing secret can't be read (SECRET_KEY changed): "
                                        "delete the endpoint and add it again.", 0)
    else:
        headers = signed_headers(secret, claimed.event_id, claimed.payload, now())
        if poster is not None:
            answer = poster.post(claimed.url, claimed.payload.encode(), headers)
        else:
            answer = transport.post(claimed.url, claimed.payload.encode(), headers)  # closed after
    at = now()
    if on_postgresql():
        _commit_without_waiting_for_disk()
    db.session.execute(insert(WebhookAttempt).values(
        delivery_id=claimed.delivery_id, at=at, status_code=answer.status,
        duration_ms=answer.duration_ms, error=answer.error))
    settle = db.update(WebhookDelivery).where(WebhookDelivery.id == claimed.delivery_id)
    endpoint = db.update(WebhookEndpoint).where(WebhookEndpoint.id == claimed.endpoint_id)
    if answer.ok:
        db.session.execute(settle.values(state=DeliveryState.DELIVERED, delivered_at=at))
        if claimed.failing_since is not None:
            db.session.execute(endpoint.values(failing_since=None))
        run.delivered += 1
    else:
        run.failed += 1
        if claimed.attempts > len(RETRIES):
            db.session.execute(settle.values(state=DeliveryState.FAILED))
        else:
            delay = RETRIES[claimed.attempts - 1].total_seconds() * random.uniform(0.8, 1.2)
            db.session.execute(settle.values(next_attempt_at=at + timedelta(seconds=delay)))
        failing_since = claimed.failing_since or at
        if claimed.failing_since is None:
            db.session.execute(endpoint.values(failing_since=at).where(WebhookEndpoint.failing_since.is_(None)))
        hours = float(current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"])
        if at - failing_since >= timedelta(hours=hours):
            found = db.session.get(WebhookEndpoint, claimed.endpoint_id)
            if found is not None and found.enabled:
                _disable_failing(found, answer)
                run.disabled.append(found.url)
    db.session.commit()
    return answer


def _disable_failing(endpoint: WebhookEndpoint, answer: transport.Answer) -> None:
    """Disable an endpoint that kept failing and tell the organization's owners, in the bell
    and by mail (a refused mail is logged: it must not undo the disabling)."""
    hours = current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"]
    endpoint.enabled = False
    endpoint.disabled_reason = (f"Disabled automatically: every delivery failed for {hours} hours "
                                f"(last: {answer.error or answer.status}).")[:300]
    org = endpoint.org
    text = f"The webhook endpoint {endpoint.url} of {org.name} kept failing and was disabled."
    for owner in _owners(org):
        notify(owner, "webhook_disabled", text[:300], org)
        try:
            send_mail(owner.email, f"A webhook endpoint of {org.name} was disabled", "webhook_disabled",
                      org=org, endpoint=endpoint, user=owner,
                      url=external_url("webhooks.show", slug=org.slug, endpoint_id=endpoint.id))
        except MailDeliveryError:
            current_app.logger.warning("Could not mail %s that a webhook endpoint was disabled", owner.email)


def _owners(org: Organization) -> list[Any]:
    return [m.user for m in db.session.scalars(
        db.select(Membership).options(joinedload(Membership.user))
        .where(Membership.org_id == org.id, Membership.role == Role.OWNER))]


def announce_expired_invitations(limit: int = 1000) -> int:
    """Write "invitation.expired" for the invitations whose expiry has passed unanswered,
    once each (a conditional UPDATE marks them), in organizations with an endpoint that
    existed when they expired."""
    from invites.invitations.models import Invitation, Status
    from invites.webhooks.outbox import emit

    at = now()
    # An endpoint hears of expiries that happen once it exists, not of every invitation
    # that lapsed before it was added.
    listened = db.exists().where(WebhookEndpoint.org_id == Invitation.org_id, WebhookEndpoint.enabled.is_(True),
                                 WebhookEndpoint.created_at <= Invitation.expires_at)
    # Only the organizations with an endpoint are read (their pending invitations by expiry,
    # from an index), not every lapsed invitation of every organization at each pass.
    hooked = db.select(WebhookEndpoint.org_id).where(WebhookEndpoint.enabled.is_(True))
    due = db.session.scalars(
        db.select(Invitation).where(
            Invitation.org_id.in_(hooked), Invitation.status == Status.PENDING, Invitation.expires_at <= at,
            Invitation.expired_event_at.is_(None), listened)
        .order_by(Invitation.expires_at, Invitation.id).limit(limit)
    ).all()
    written = 0
    for invitation in due:
        marked = db.session.execute(
            db.update(Invitation).where(Invitation.id == invitation.id, Invitation.expired_event_at.is_(None),
                                        Invitation.expires_at <= at, Invitation.status == Status.PENDING)
            .values(expired_event_at=at).execution_options(synchronize_session=False))
        if marked.rowcount == 1:  # type: ignore[attr-defined]
            emit(invitation.org, "invitation.expired", invitation)
            written += 1
        db.session.commit()
    return written


def work(once: bool, interval: float, stop: Any = None) -> Run:
    """The command's loop: announce expiries, deliver what is due, sleep ``interval``
    seconds when nothing was; ``once`` returns after one pass (for cron)."""
    total = Run()
    while True:
        announce_expired_invitations()
        run = deliver_due()
        total.delivered += run.delivered
        total.failed += run.failed
        total.disabled += run.disabled
        if once or (stop is not None and stop()):
            return total
        if not run.attempts:
            time.sleep(interval)


def redeliver(delivery: WebhookDelivery) -> None:
    """"Redeliver": due again now, with its retries afresh (the caller commits)."""
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now()


def prune(days: int) -> int:
    """Delete the events (with their deliveries and attempts) older than ``days`` days that
    were fanned out and whose deliveries are all settled; the number of events deleted."""
    cutoff = now() - timedelta(days=days)
    unsettled = db.select(WebhookDelivery.event_id).where(WebhookDelivery.state == DeliveryState.PENDING)
    old = db.select(WebhookEvent.id).where(WebhookEvent.created_at < cutoff, WebhookEvent.fan_out_to.is_(None),
                                           WebhookEvent.id.not_in(unsettled))
    ids = list(db.session.scalars(old))
    deleted = 0
    for start in range(0, len(ids), 500):
        # Their deliveries and attempts go with them: ON DELETE CASCADE (SQLite's too:
        # foreign keys are on, extensions.py). The conditions are asked again: a delivery
        # redelivered since the read is kept.
        deleted += db.session.execute(db.delete(WebhookEvent).where(
            WebhookEvent.id.in_(ids[start:start + 500]), WebhookEvent.fan_out_to.is_(None),
            WebhookEvent.id.not_in(unsettled))).rowcount  # type: ignore[attr-defined]
        db.session.commit()
    return deleted

