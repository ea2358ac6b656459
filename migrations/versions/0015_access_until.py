"""Access that ends on a date (issue 19).

Each way in (invitations, invite links, the Join Web Page, imports) may carry the end of
access of those it admits (``access_until``: the first moment without access, the end
of the chosen day in UTC). The membership keeps its own, with when its member and the
staff were warned. ``flask expire-memberships`` reads the memberships by end through
their index.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 16:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

WAYS_IN = ('invitations', 'invite_links', 'join_pages', 'imports')


def upgrade():
    # Plain ADD COLUMN (SQLite adds each in place); every existing row: no end.
    for table in WAYS_IN:
        op.add_column(table, sa.Column('access_until', sa.DateTime(), nullable=True))
    op.add_column('memberships', sa.Column('access_until', sa.DateTime(), nullable=True))
    op.add_column('memberships', sa.Column('access_warned_at', sa.DateTime(), nullable=True))
    op.create_index('ix_memberships_access_until', 'memberships', ['access_until', 'id'])


def downgrade():
    op.drop_index('ix_memberships_access_until', table_name='memberships')
    op.drop_column('memberships', 'access_warned_at')
    op.drop_column('memberships', 'access_until')
    for table in WAYS_IN:
        op.drop_column(table, 'access_until')
