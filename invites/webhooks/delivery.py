"""``flask deliver-webhooks``: sending the outbox, signed per the Standard Webhooks
specification, with retries, in event order per endpoint.

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

import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased, joinedload
from standardwebhooks.webhooks import Webhook

from invites.clock import now
from invites.extensions import db
from invites.mail.service import MailDeliveryError, external_url, send_mail
from invites.notifications.service import notify
from invites.orgs.models import Membership, Role
from invites.tokens import unseal
from invites.transaction import claim_first
from invites.webhooks import transport
from invites.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

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

    @property
    def attempts(self) -> int:
        return self.delivered + self.failed


def secret_label(endpoint: WebhookEndpoint) -> bytes:
    return f"webhook_endpoints:{endpoint.id}".encode()


def signing_secret(endpoint: WebhookEndpoint) -> str | None:
    return unseal(endpoint.secret_ciphertext, secret_label(endpoint))


def deliver_due(limit: int | None = None) -> Run:
    """Attempt every due delivery (or ``limit`` of them), each in its own transactions."""
    run = Run()
    while limit is None or run.attempts < limit:
        delivery = _claim(now())
        if delivery is None:
            break
        attempt(delivery, run)
    return run


def _due(at: datetime) -> Any:
    earlier = aliased(WebhookDelivery)
    return (
        db.select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.state == DeliveryState.PENDING, WebhookDelivery.next_attempt_at <= at,
               WebhookEndpoint.enabled.is_(True))
        .where(~db.exists().where(
            earlier.endpoint_id == WebhookDelivery.endpoint_id, earlier.state == DeliveryState.PENDING,
            or_(earlier.created_at < WebhookDelivery.created_at,
                and_(earlier.created_at == WebhookDelivery.created_at, earlier.id < WebhookDelivery.id)),
        ))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
    )


def _claim(at: datetime) -> WebhookDelivery | None:
    """The next due delivery, leased to this worker (committed), or None."""
    while True:
        delivery: WebhookDelivery | None = claim_first(_due(at), of=WebhookDelivery)
        if delivery is None:
            db.session.rollback()
            return None
        leased = db.session.execute(
            db.update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery.id, WebhookDelivery.state == DeliveryState.PENDING,
                   WebhookDelivery.attempts == delivery.attempts)
            .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=at + LEASE, last_attempt_at=at)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if leased.rowcount == 1:  # type: ignore[attr-defined]
            return db.session.get(WebhookDelivery, delivery.id, populate_existing=True)
        # Another worker (SQLite: no row locks) leased it first: look again.


def signed_headers(endpoint: WebhookEndpoint, event: WebhookEvent, at: datetime) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` (Standard Webhooks)."""
    secret = signing_secret(endpoint)
    if secret is None:
        raise LookupError("The signing secret can't be read (SECRET_KEY changed): make a new one.")
    at = at.replace(microsecond=0, tzinfo=timezone.utc)
    return {"webhook-id": event.id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(event.id, at, event.payload)}


def send(endpoint: WebhookEndpoint, event: WebhookEvent) -> transport.Answer:
    """One signed POST of ``event`` to ``endpoint`` (no database change)."""
    at = now()
    try:
        headers = signed_headers(endpoint, event, at)
    except LookupError as error:
        return transport.Answer(None, str(error), 0)
    return transport.post(endpoint.url, event.payload.encode(), headers)


def attempt(delivery: WebhookDelivery, run: Run | None = None) -> transport.Answer:
    """Send a leased delivery and keep what happened (committed)."""
    run = run or Run()
    endpoint, event = delivery.endpoint, delivery.event
    answer = send(endpoint, event)
    at = now()
    db.session.add(WebhookAttempt(delivery_id=delivery.id, at=at, status_code=answer.status,
                                  duration_ms=answer.duration_ms, error=answer.error))
    if answer.ok:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = at
        endpoint.failing_since = None
        run.delivered += 1
    else:
        run.failed += 1
        tries = delivery.attempts
        if tries > len(RETRIES):
            delivery.state = DeliveryState.FAILED
        else:
            delay = RETRIES[tries - 1].total_seconds() * random.uniform(0.8, 1.2)
            delivery.next_attempt_at = at + timedelta(seconds=delay)
        endpoint.failing_since = endpoint.failing_since or at
        hours = float(current_app.config["WEBHOOK_DISABLE_AFTER_HOURS"])
        if endpoint.enabled and at - endpoint.failing_since >= timedelta(hours=hours):
            _disable_failing(endpoint, answer)
            run.disabled.append(endpoint.url)
    db.session.commit()
    return answer


def _disable_failing(endpoint: WebhookEndpoint, answer: transport.Answer) -> None:
    """Disable an endpoint that kept failing and tell the organization's owners (bell now,
    mail after the commit is not needed: a refused mail must not undo the disabling)."""
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
    once each (a conditional UPDATE marks them), in organizations with an endpoint."""
    from invites.invitations.models import Invitation, Status
    from invites.webhooks.outbox import emit

    at = now()
    with_endpoints = db.select(WebhookEndpoint.org_id).where(WebhookEndpoint.enabled.is_(True))
    due = db.session.scalars(
        db.select(Invitation).where(
            Invitation.status == Status.PENDING, Invitation.expires_at <= at,
            Invitation.expired_event_at.is_(None), Invitation.org_id.in_(with_endpoints))
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
    """Delete the events (with their deliveries and attempts) older than ``days`` days whose
    deliveries are all settled; the number of events deleted."""
    cutoff = now() - timedelta(days=days)
    unsettled = db.select(WebhookDelivery.event_id).where(WebhookDelivery.state == DeliveryState.PENDING)
    old = db.select(WebhookEvent.id).where(WebhookEvent.created_at < cutoff, WebhookEvent.id.not_in(unsettled))
    ids = list(db.session.scalars(old))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        deliveries = db.select(WebhookDelivery.id).where(WebhookDelivery.event_id.in_(chunk))
        db.session.execute(db.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
        db.session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(chunk)))
        db.session.execute(db.delete(WebhookEvent).where(WebhookEvent.id.in_(chunk)))
        db.session.commit()
    return len(ids)


def payload_of(event: WebhookEvent) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(event.payload)
    return found
