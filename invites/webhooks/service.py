"""Webhook endpoints as owners manage them: add (the signing secret shown once), choose
events, disable and enable, send a test event, redeliver, delete; and the delivery log."""
from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask import abort
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from invites.activity.service import record
from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.pagination import paginate
from invites.tokens import seal
from invites.webhooks import delivery as sending
from invites.webhooks.models import WebhookDelivery, WebhookEndpoint
from invites.webhooks.outbox import EVENT_TYPES, TEST_EVENT, forget_endpoints, write
from invites.webhooks.transport import Answer, check_url

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization

MAX_ENDPOINTS = 20  # per organization
MAX_DESCRIPTION = 200


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _events(chosen: Sequence[str]) -> str:
    """The chosen types as stored, in ``EVENT_TYPES``' order. None chosen (stored empty)
    means every type, those added later too; a list of them all stays that list, so a
    type added later is not sent unasked."""
    unknown = [event for event in chosen if event not in EVENT_TYPES]
    if unknown:
        raise DomainError(f"{unknown[0]} is not an event Invites sends.", "events")
    return " ".join(event for event in EVENT_TYPES if event in chosen)


def add_endpoint(
    org: Organization, actor: User, url: str, events: Sequence[str], description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its signing secret (kept only encrypted, shown once).
    Refuses what :func:`invites.webhooks.transport.check_url` refuses and more than
    ``MAX_ENDPOINTS`` endpoints."""
    url = check_url(url)
    count = db.session.scalar(db.select(db.func.count()).where(WebhookEndpoint.org_id == org.id))
    if count >= MAX_ENDPOINTS:
        raise DomainError(f"An organization has at most {MAX_ENDPOINTS} webhook endpoints.")
    secret = new_secret()
    endpoint = WebhookEndpoint(org_id=org.id, org=org, url=url, events=_events(events),
                               description=(description or "").strip()[:MAX_DESCRIPTION],
                               created_by=actor, secret_ciphertext="")
    db.session.add(endpoint)
    db.session.flush()
    endpoint.secret_ciphertext = seal(secret, sending.secret_label(endpoint.id))
    record(org, actor, "webhook.created", f"added the webhook endpoint {url}", endpoint)
    forget_endpoints()
    return endpoint, secret


def change_events(org: Organization, actor: User, endpoint: WebhookEndpoint, events: Sequence[str]) -> None:
    endpoint.events = _events(events)
    record(org, actor, "webhook.changed", f"changed the events sent to {endpoint.url}", endpoint)
    forget_endpoints()


def set_enabled(org: Organization, actor: User, endpoint: WebhookEndpoint, enabled: bool) -> None:
    """Disable (no new events are written for it; its pending deliveries wait) or enable
    (they go on, and the failure count starts afresh)."""
    if endpoint.enabled == enabled:
        return
    endpoint.enabled = enabled
    endpoint.failing_since = None
    endpoint.disabled_reason = None if enabled else f"Disabled by {actor.name}."
    record(org, actor, "webhook.enabled" if enabled else "webhook.disabled",
           f"{'enabled' if enabled else 'disabled'} the webhook endpoint {endpoint.url}", endpoint)
    forget_endpoints()


def delete_endpoint(org: Organization, actor: User, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their log."""
    url = endpoint.url
    db.session.delete(endpoint)
    record(org, actor, "webhook.deleted", f"deleted the webhook endpoint {url}")
    forget_endpoints()


def send_test(org: Organization, endpoint: WebhookEndpoint) -> Answer:
    """Write a ``webhook.test`` event for this endpoint alone and attempt it at once (the
    answer is also in the log). Commits."""
    (event_id,) = write(org, TEST_EVENT, [{"message": "A test event from Invites."}], [endpoint.id])
    found = db.session.scalars(db.select(WebhookDelivery).filter_by(event_id=event_id)).one()
    # Leased to this request, as a worker leases what it sends: no worker takes it too.
    claimed = sending.lease(found, endpoint, found.event, now())
    if claimed is None:  # (made just above: nobody else knows of it yet)
        raise LookupError(event_id)
    return sending.attempt(claimed)


def redeliver(org: Organization, actor: User, found: WebhookDelivery) -> None:
    """Due again now with its retries afresh, in its place in the endpoint's order."""
    sending.redeliver(found)
    record(org, actor, "webhook.redelivered", f"redelivered the event {found.event_id} to {found.endpoint.url}",
           found.endpoint)


def endpoints_of(org: Organization) -> Sequence[WebhookEndpoint]:
    return db.session.scalars(
        db.select(WebhookEndpoint).where(WebhookEndpoint.org_id == org.id).order_by(WebhookEndpoint.id)
    ).all()


def load_endpoint(org: Organization, endpoint_id: int) -> WebhookEndpoint:
    """``org``'s endpoint ``endpoint_id``, or 404."""
    endpoint = db.session.scalar(db.select(WebhookEndpoint).filter_by(id=endpoint_id, org_id=org.id))
    if endpoint is None:
        abort(404)
    return endpoint


def load_delivery(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    found = db.session.scalar(db.select(WebhookDelivery).filter_by(id=delivery_id, endpoint_id=endpoint.id))
    if found is None:
        abort(404)
    return found


def page_of_deliveries(endpoint: WebhookEndpoint, page: int, per_page: int) -> Pagination:
    """The endpoint's delivery log, newest first, each with its event and attempts. The
    organization's events that the worker has not fanned out yet are given their
    deliveries first (committed; usually one read that finds none), so the log shows
    every event of a moment ago."""
    sending.fan_out(endpoint.org_id)
    query = (
        db.select(WebhookDelivery)
        .options(joinedload(WebhookDelivery.event), selectinload(WebhookDelivery.attempts_made))
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.event_id.desc())
    )
    return paginate(query, page, per_page)
