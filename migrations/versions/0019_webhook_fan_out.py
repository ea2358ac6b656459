"""Webhooks: the change's transaction writes only the event; ``flask deliver-webhooks``
makes its deliveries (``webhook_events.fan_out_to``, with a partial index of the events
still to fan out), and an endpoint's queue is in event order (created_at, event_id).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 21:50:00

"""
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


def downgrade():
    # Events not fanned out yet lose their endpoints with the column: run
    # `flask deliver-webhooks --once` first.
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries',
                    ['endpoint_id', 'state', 'created_at', 'id'], unique=False)
    op.drop_index('ix_webhook_events_fan_out', table_name='webhook_events')
    op.drop_column('webhook_events', 'fan_out_to')
