"""Reminders before an invitation expires (issue 18).

Each organization chooses how many days before expiry invitees are reminded (NULL: no
reminders; new and existing organizations start at 2) and whether a second reminder goes
out halfway through the invitation's life. Each invitation keeps when its next reminder
is due (``remind_at``, read by ``flask send-reminders`` through its index), when the last
one went out, and the hash of the link token that reminder carried: the token of the
first mail is only ever kept as a hash, so a reminder brings a second link to the same
invitation, and both work until it is answered, resent or cancelled.

An index of pending invitations by expiry serves the Overview's "expiring soon".

Invitations pending at this revision get their reminder scheduled from their expiry, 2
days before it, where that is still ahead.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-16 09:00:00

"""
from datetime import datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

DEFAULT_DAYS_BEFORE = 2


# Plain ADD COLUMN, not batch mode: SQLite adds a column in place, where a batch copy of
# "organizations" would drop the table its memberships and groups cascade from. The
# 1–30 days rule is the settings form's and the service's (SQLite cannot add a CHECK).

def upgrade():
    op.add_column('organizations', sa.Column('reminder_days_before', sa.Integer(), nullable=True,
                                             server_default=str(DEFAULT_DAYS_BEFORE)))
    op.add_column('organizations', sa.Column('reminder_halfway', sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.add_column('invitations', sa.Column('remind_at', sa.DateTime(), nullable=True))
    op.add_column('invitations', sa.Column('reminded_at', sa.DateTime(), nullable=True))
    op.add_column('invitations', sa.Column('reminder_token_hash', sa.String(length=64), nullable=True))
    op.create_index('ix_invitations_remind_at', 'invitations', ['remind_at', 'id'], unique=False)
    op.create_index('uq_invitations_reminder_token_hash', 'invitations', ['reminder_token_hash'], unique=True)
    # The Overview's "expiring soon" reads pending invitations by expiry (issue 17).
    op.create_index('ix_invitations_pending_expiry', 'invitations', ['org_id', 'expires_at'], unique=False,
                    sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'"))
    # Pending invitations: a reminder 2 days before their expiry, where that is ahead.
    invitations = sa.table('invitations', sa.column('id', sa.Integer), sa.column('status', sa.String),
                           sa.column('expires_at', sa.DateTime), sa.column('remind_at', sa.DateTime))
    connection = op.get_bind()
    at = datetime.utcnow()
    rows = connection.execute(
        sa.select(invitations.c.id, invitations.c.expires_at)
        .where(invitations.c.status == 'pending', invitations.c.expires_at > at)
    ).all()
    due = [{'invitation_id': id_, 'remind': expires - timedelta(days=DEFAULT_DAYS_BEFORE)}
           for id_, expires in rows if expires - timedelta(days=DEFAULT_DAYS_BEFORE) > at]
    if due:
        connection.execute(
            invitations.update().where(invitations.c.id == sa.bindparam('invitation_id'))
            .values(remind_at=sa.bindparam('remind')),
            due,
        )


def downgrade():
    op.drop_index('ix_invitations_pending_expiry', table_name='invitations')
    op.drop_index('uq_invitations_reminder_token_hash', table_name='invitations')
    op.drop_index('ix_invitations_remind_at', table_name='invitations')
    op.drop_column('invitations', 'reminder_token_hash')
    op.drop_column('invitations', 'reminded_at')
    op.drop_column('invitations', 'remind_at')
    op.drop_column('organizations', 'reminder_halfway')
    op.drop_column('organizations', 'reminder_days_before')
