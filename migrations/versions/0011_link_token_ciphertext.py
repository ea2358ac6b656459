"""Invite links and join request links keep their token encrypted; groups get a description.

Issue 22, point 5: those who manage a link can copy and share it again at any time. The
token stays out of the database in clear: ``token_ciphertext`` holds it sealed with
AES-256-GCM under a key derived from SECRET_KEY (``invites.tokens.seal``); lookups still go
through ``token_hash``. Links made before this revision have no ciphertext, and their pages
say the address cannot be shown again. Personal invitations stay hash-only.

Point 6: the invitation email names each group with its description.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not batch mode: SQLite adds and drops a column in place, and a
# batch copy of "groups" would have to reflect its expression index (ix_groups_org_lower_name),
# which SQLAlchemy cannot.

def upgrade():
    op.add_column('invite_links', sa.Column('token_ciphertext', sa.String(length=200), nullable=True))
    op.add_column('join_links', sa.Column('token_ciphertext', sa.String(length=200), nullable=True))
    op.add_column('groups', sa.Column('description', sa.Text(), server_default='', nullable=False))


def downgrade():
    op.drop_column('groups', 'description')
    op.drop_column('join_links', 'token_ciphertext')
    op.drop_column('invite_links', 'token_ciphertext')
