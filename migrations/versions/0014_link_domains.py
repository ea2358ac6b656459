"""Invite links bound to email domains (issue 19).

A link keeps the email domains it accepts the way the Join Web Page does, one rule per
line ("example.com", "*.example.com"); empty, as for every existing link, lets anyone
the link's access allows use it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite adds it in place); existing links get the empty list.
    op.add_column('invite_links', sa.Column('allowed_domains', sa.Text(), nullable=False, server_default=''))


def downgrade():
    op.drop_column('invite_links', 'allowed_domains')
