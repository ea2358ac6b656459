"""Webhooks (issue 21, SPEC F24): endpoints that organizations register, the outbox of
events written in the transaction of the change, one delivery per event and endpoint, and
each attempt at it (the delivery log)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from invites.clock import now
from invites.extensions import Model, db


class DeliveryState:
    PENDING = "pending"      # due at next_attempt_at
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"        # retries ran out (or the endpoint was deleted); "Redeliver" starts again
    LABELS = {PENDING: "Pending", DELIVERED: "Delivered", FAILED: "Failed"}
    ALL = tuple(LABELS)


class WebhookEndpoint(Model):
    """A URL of an organization's that hears of the events it chose (none chosen: all).
    The signing secret is kept encrypted (``tokens.seal``), never in clear: it must be read
    back to sign, and it is shown once, when made."""

    __tablename__ = "webhook_endpoints"

    id = db.Column(db.Integer, primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    url = db.Column(db.String(2000), nullable=False)
    description = db.Column(db.String(200), nullable=False, default="")
    # The event types it hears of, space-separated; empty: every type.
    events = db.Column(db.Text, nullable=False, default="")
    secret_ciphertext = db.Column(db.String(200), nullable=False)
    enabled = db.Column(db.Boolean, nullable=False, default=True)
    # Why it was disabled (by an owner, or after failing for too long), and since when the
    # deliveries have been failing without a success in between (None: it is healthy).
    disabled_reason = db.Column(db.String(300))
    failing_since = db.Column(db.DateTime)
    created_by_id = db.Column(db.ForeignKey("users.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    org = db.relationship("Organization")
    created_by = db.relationship("User")

    __table_args__ = (db.Index("ix_webhook_endpoints_org", "org_id", "enabled"),)

    @property
    def event_types(self) -> list[str]:
        return self.events.split()



def hears(events: str, event_type: str) -> bool:
    """Whether an endpoint that chose ``events`` (its column: space-separated types, empty
    for all) hears ``event_type``."""
    return not events or event_type in events.split()


class WebhookEvent(Model):
    """One event of the outbox: its stable id (``msg_...``, the ``webhook-id`` header and
    what receivers deduplicate by), its type and the body sent, fixed when it happened.

    Events are ordered by (``created_at``, ``id``): the ids of one process grow with each
    event (``outbox.new_event_id``), so events written together under one clock reading
    keep the order they were emitted in. ``fan_out_to`` holds the endpoints that heard it
    until ``flask deliver-webhooks`` gives it their deliveries (``delivery.fan_out``): the
    change's transaction writes this one row and nothing more."""

    __tablename__ = "webhook_events"

    id = db.Column(db.String(40), primary_key=True)
    org_id = db.Column(db.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False)
    type = db.Column(db.String(40), nullable=False)
    payload = db.Column(db.Text, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # The ids of the endpoints that heard it, space-separated, until the worker made their
    # deliveries; then None.
    fan_out_to = db.Column(db.Text)

    __table_args__ = (
        db.Index("ix_webhook_events_created", "created_at"),
        # The worker's fan-out: the events still without their deliveries, in order.
        db.Index("ix_webhook_events_fan_out", "created_at", "id",
                 sqlite_where=db.text("fan_out_to IS NOT NULL"), postgresql_where=db.text("fan_out_to IS NOT NULL")),
    )


class WebhookDelivery(Model):
    """An event owed to one endpoint. Delivered in event order per endpoint: a delivery is
    attempted only once every earlier one of its endpoint is settled. ``created_at`` is
    its event's, so (``created_at``, ``event_id``) is the event order."""

    __tablename__ = "webhook_deliveries"

    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False)
    endpoint_id = db.Column(db.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False)
    state = db.Column(db.String(20), nullable=False, default=DeliveryState.PENDING)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    next_attempt_at = db.Column(db.DateTime, nullable=False, default=now)
    last_attempt_at = db.Column(db.DateTime)
    delivered_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    event = db.relationship("WebhookEvent")
    endpoint = db.relationship("WebhookEndpoint")
    attempts_made = db.relationship("WebhookAttempt", order_by="WebhookAttempt.at", viewonly=True)

    __table_args__ = (
        # The worker's claim: the due heads of each endpoint's queue, in order.
        db.Index("ix_webhook_deliveries_due", "endpoint_id", "state", "created_at", "event_id"),
        db.Index("ix_webhook_deliveries_event", "event_id"),
        db.CheckConstraint("state in ('pending', 'delivered', 'failed')", name="state"),
    )

    @property
    def state_label(self) -> str:
        return DeliveryState.LABELS[self.state]


def pending_delivery(event_id: str, endpoint_id: int, at: datetime) -> dict[str, Any]:
    """The row of a new delivery of the event ``event_id`` (written at ``at``) to an
    endpoint: pending, due at once, in its event's place in the endpoint's order."""
    return {"event_id": event_id, "endpoint_id": endpoint_id, "state": DeliveryState.PENDING, "attempts": 0,
            "next_attempt_at": at, "created_at": at}


class WebhookAttempt(Model):
    """One try at a delivery: the receiver's status code (None: no answer), how long it
    took and what went wrong. Kept WEBHOOK_LOG_DAYS days (``flask prune``)."""

    __tablename__ = "webhook_attempts"

    id = db.Column(db.Integer, primary_key=True)
    delivery_id = db.Column(db.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False)
    at = db.Column(db.DateTime, nullable=False, default=now)
    status_code = db.Column(db.Integer)
    duration_ms = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.String(500))

    __table_args__ = (db.Index("ix_webhook_attempts_delivery", "delivery_id", "at"),)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
