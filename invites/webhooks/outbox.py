"""The transactional outbox: an event is written in the same transaction as the change that
caused it, by the service that makes the change, so a rolled-back change leaves no event
and a committed one always has its event. ``flask deliver-webhooks`` sends them.

``emit`` keeps the event with the session and writes every event of the transaction just
before it commits, in one INSERT whatever their number; a rollback drops them. Each event
row names the endpoints that heard it, and the worker makes their deliveries
(``delivery.fan_out``), so a change pays for one row per event and no more. An
organization without an enabled endpoint that hears the type pays one indexed read per
request (the answer is kept for the request) and writes nothing.
"""
from __future__ import annotations

import functools
import itertools
import json
import secrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from invites.clock import now
from invites.extensions import db
from invites.per_request import memo
from invites.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent, hears, pending_delivery

if TYPE_CHECKING:
    from invites.orgs.models import Organization

# type -> what it means, as the Webhooks panel lists them (the README holds the same list).
EVENT_TYPES = {
    "invitation.created": "An invitation was sent",
    "invitation.resent": "An invitation was sent again with a new link",
    "invitation.edited": "A pending invitation's role, groups or expiry changed",
    "invitation.accepted": "An invitation was accepted",
    "invitation.declined": "An invitation was declined",
    "invitation.cancelled": "An invitation was cancelled",
    "invitation.expired": "An invitation expired unanswered",
    "member.joined": "Someone became a member (data.joined_via says how)",
    "member.role_changed": "A member's role changed",
    "member.removed": "A member was removed, left, or their access ended",
    "member.access_ending": "A member's access ends soon",
    "join_request.created": "Someone asked to join",
    "join_request.accepted": "A join request was accepted",
    "join_request.rejected": "A join request was rejected",
    "invite_link.created": "An invite link was made",
    "invite_link.revoked": "An invite link was deleted",
}
TEST_EVENT = "webhook.test"  # "Send test event": to one endpoint, on request


# Grows by one with each event of this process, from the time it started (in ns).
_sequence = itertools.count(time.time_ns())


def new_event_id() -> str:
    """``msg_``, 16 hex digits that grow with each event of this process, and 16 random
    URL-safe characters: the event's id for ever. Ordered after the event's time, the ids
    keep the order of events written at one clock reading (one transaction's, or under a
    frozen clock); the random part keeps ids of processes started together apart."""
    return f"msg_{next(_sequence) % 16**16:016x}{secrets.token_urlsafe(12)}"


def listening(org: Organization) -> list[tuple[int, str]]:
    """(id, events) of ``org``'s enabled endpoints, read once per request."""
    kept = memo("webhook_endpoints")
    if org.id not in kept:
        kept[org.id] = [tuple(row) for row in db.session.execute(
            db.select(WebhookEndpoint.id, WebhookEndpoint.events)
            .where(WebhookEndpoint.org_id == org.id, WebhookEndpoint.enabled.is_(True))
        )]
    found: list[tuple[int, str]] = kept[org.id]
    return found


def forget_endpoints() -> None:
    """After endpoints were added, changed or removed in this request."""
    memo("webhook_endpoints").clear()


def emit(org: Organization, event_type: str, resource: Any, **extra: Any) -> None:
    """Write the event ``event_type`` about ``resource`` (an invitation, a membership, a
    join request, an invite link) for each of ``org``'s endpoints that hears it, in the
    caller's transaction. ``extra`` is added to the resource's shape (``joined_via``...)."""
    emit_many(org, event_type, [resource], **extra)


def emit_many(org: Organization, event_type: str, resources: Iterable[Any], **extra: Any) -> None:
    """:func:`emit` for several resources of one type."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    endpoint_ids = [endpoint_id for endpoint_id, events in listening(org) if hears(events, event_type)]
    if not endpoint_ids:
        return
    dump = _shape(event_type.partition(".")[0])
    pending = db.session().info.setdefault(PENDING, [])
    pending.extend(_rows(org, event_type, [{**dump(resource), **extra} for resource in resources], endpoint_ids))


PENDING = "webhook_outbox"  # the session's events not written yet


def _rows(org: Organization, event_type: str, data: Sequence[dict[str, Any]],
          endpoint_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The event rows, each naming the endpoints to fan out to."""
    at = now()
    fan_out_to = " ".join(map(str, endpoint_ids))
    rows = []
    for item in data:
        body = {"type": event_type, "timestamp": _utc(at),
                "organization": {"id": org.id, "slug": org.slug, "name": org.name}, "data": item}
        rows.append({"id": new_event_id(), "org_id": org.id, "type": event_type, "created_at": at,
                     "payload": json.dumps(body, separators=(",", ":"), sort_keys=True), "fan_out_to": fan_out_to})
    return rows


# Run on the session's connection, a plain INSERT, not through the session's ORM bulk
# insert: it is on the path of every change that has listeners, and the ORM's bookkeeping
# cost a tenth of a millisecond more for nothing here.
_INSERT_EVENTS = insert(WebhookEvent)


def write(org: Organization, event_type: str, data: Sequence[dict[str, Any]], endpoint_ids: Sequence[int],
          deliveries: bool = True) -> list[str]:
    """Write one event per item of ``data`` now (not at the commit, as :func:`emit` does),
    with its delivery to each endpoint (``deliveries`` False: left to the worker's
    fan-out, as :func:`emit` leaves them); their ids."""
    rows = _rows(org, event_type, data, endpoint_ids)
    if not rows:
        return []
    if deliveries:
        for row in rows:
            row["fan_out_to"] = None
    connection = db.session.connection()
    connection.execute(_INSERT_EVENTS, rows)
    if deliveries:
        connection.execute(insert(WebhookDelivery), [
            pending_delivery(row["id"], endpoint_id, row["created_at"]) for row in rows for endpoint_id in endpoint_ids])
    return [row["id"] for row in rows]


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """The events this transaction emitted, written as part of it: one INSERT."""
    rows = session.info.pop(PENDING, None)
    if rows:
        session.connection().execute(_INSERT_EVENTS, rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction: Any) -> None:
    """A transaction that ended without committing (rolled back, closed) sends nothing."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def _utc(at: datetime) -> str:
    return at.replace(tzinfo=timezone.utc).isoformat()


@functools.cache
def _shape(kind: str) -> Any:
    """The function that gives a resource of this kind its JSON shape: the JSON API's
    (invites/api/schemas.py), so a receiver reads the same fields as an API client. One
    schema object per kind for the process (making one costs more than a dump)."""
    from invites.api import schemas

    schema = {"invitation": schemas.Invitation, "member": schemas.Member,
              "join_request": schemas.JoinRequest, "invite_link": schemas.InviteLink}[kind]()
    if kind == "invite_link":
        # The link's address stays with those who manage it in the app.
        return lambda link: {**schema.dump(link), "url": None}
    return schema.dump
