"""List orders served by indexes: Members by role_order and sort_name, Groups by lower(name).

Issue 7. The Members panel's order is kept on the membership row (see orgs/models.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role_order', sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column('sort_name', sa.String(length=120), nullable=True))

    # Owners first (0), then managers, members, collaborators: the order of Role.ALL.
    op.execute(
        "UPDATE memberships SET role_order = CASE role WHEN 'owner' THEN 0 WHEN 'manager' THEN 1 "
        "WHEN 'member' THEN 2 ELSE 3 END, "
        "sort_name = (SELECT lower(trim(users.name)) FROM users WHERE users.id = memberships.user_id)"
    )

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.alter_column('role_order', existing_type=sa.SmallInteger(), nullable=False)
        batch_op.alter_column('sort_name', existing_type=sa.String(length=120), nullable=False)
        batch_op.create_index('ix_memberships_org_order', ['org_id', 'role_order', 'sort_name', 'id'], unique=False)

    op.create_index('ix_groups_org_lower_name', 'groups', ['org_id', sa.text('lower(name)'), 'id'], unique=False)


def downgrade():
    op.drop_index('ix_groups_org_lower_name', table_name='groups')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_org_order')
        batch_op.drop_column('sort_name')
        batch_op.drop_column('role_order')
