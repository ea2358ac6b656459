"""Webhooks: the change's transaction writes only the event; ``flask deliver-webhooks``
makes its deliveries (``webhook_events.fan_out_to``, with a partial index of the events
still to fan out), and an endpoint's queue is in event order (created_at, event_id).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 21:50:00

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

STILL_TO_FAN_OUT = "fan_out_to IS NOT NULL"


def upgrade():
    # Existing events already have their deliveries: NULL.
    op.add_column('webhook_events', sa.Column('fan_out_to', sa.Text(), nullable=True))
    op.create_index('ix_webhook_events_fan_out', 'webhook_events', ['created_at', 'id'], unique=False,
                    sqlite_where=sa.text(STILL_TO_FAN_OUT), postgresql_where=sa.text(STILL_TO_FAN_OUT))
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries',
                    ['endpoint_id', 'state', 'created_at', 'event_id'], unique=False)
    keep_queued_order()


def keep_queued_order():
    """Deliveries still pending keep their place. Until now one transaction's events shared
    a time and their random ids said nothing; the queue's order was (created_at, delivery
    id). Each endpoint's pending deliveries get strictly increasing times in that order
    (moved by microseconds where they tied), so (created_at, event_id) gives the same."""
    deliveries = sa.table('webhook_deliveries', sa.column('id', sa.Integer), sa.column('endpoint_id', sa.Integer),
                          sa.column('state', sa.String), sa.column('created_at', sa.DateTime))
    bind = op.get_bind()
    queued = bind.execute(
        sa.select(deliveries.c.id, deliveries.c.endpoint_id, deliveries.c.created_at)
        .where(deliveries.c.state == 'pending')
        .order_by(deliveries.c.endpoint_id, deliveries.c.created_at, deliveries.c.id)
    ).all()
    moved, endpoint, last = [], None, None
    for delivery_id, endpoint_id, created_at in queued:
        if endpoint_id == endpoint and created_at <= last:
            created_at = last + timedelta(microseconds=1)
            moved.append({'delivery_id': delivery_id, 'at': created_at})
        endpoint, last = endpoint_id, created_at
    if moved:
        bind.execute(deliveries.update().where(deliveries.c.id == sa.bindparam('delivery_id'))
                     .values(created_at=sa.bindparam('at')), moved)


def downgrade():
    # Events not fanned out yet lose their endpoints with the column: run
    # `flask deliver-webhooks --once` first.
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries',
                    ['endpoint_id', 'state', 'created_at', 'id'], unique=False)
    op.drop_index('ix_webhook_events_fan_out', table_name='webhook_events')
    op.drop_column('webhook_events', 'fan_out_to')
