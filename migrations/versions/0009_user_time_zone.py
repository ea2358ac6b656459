"""Each account's time zone, which pages show dates in (issue 16). Existing accounts get
UTC, what every page showed until now.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False)
        )


def downgrade():
    # Not batch mode: on SQLite a batch copy of users would cascade-delete its memberships
    # (SQLite 3.35+ drops a plain column in place, as migration 0007 does).
    op.drop_column('users', 'time_zone')
