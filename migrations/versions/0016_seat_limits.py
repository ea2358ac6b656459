"""Seat limits with a waiting list (issue 19).

Owners may cap the members of their organization (``organizations.member_limit``; NULL,
as for every existing organization: no limit). Someone accepting an invitation, or using
an invite link, when every seat is taken becomes a join request on the waiting list,
which keeps the invitation or link it came from: accepting it later grants what that
way in would have.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 16:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# join_requests' column -> the table it points at, and the constraint's name.
SOURCES = (('invitation_id', 'invitations', 'fk_join_requests_invitation'),
           ('invite_link_id', 'invite_links', 'fk_join_requests_invite_link'))


def upgrade():
    # Plain ADD COLUMN: SQLite adds each in place. A batch copy of join_requests would
    # drop the WHERE of its partial unique index; SQLite takes a REFERENCES clause in ADD
    # COLUMN itself, which Alembic's add_column does not write there.
    op.add_column('organizations', sa.Column('member_limit', sa.Integer(), nullable=True))
    op.add_column('join_requests', sa.Column('waiting', sa.Boolean(), nullable=False, server_default=sa.false()))
    for column, table, name in SOURCES:
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE join_requests ADD COLUMN {column} INTEGER '
                       f'CONSTRAINT {name} REFERENCES {table} (id) ON DELETE SET NULL')
        else:
            op.add_column('join_requests', sa.Column(column, sa.Integer(), sa.ForeignKey(
                f'{table}.id', name=name, ondelete='SET NULL'), nullable=True))


def downgrade():
    for column, _, name in SOURCES:
        if op.get_bind().dialect.name != 'sqlite':
            op.drop_constraint(name, 'join_requests', type_='foreignkey')
        op.drop_column('join_requests', column)
    op.drop_column('join_requests', 'waiting')
    op.drop_column('organizations', 'member_limit')
