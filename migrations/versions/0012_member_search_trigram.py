"""Trigram indexes for the Members panel's search (PostgreSQL only).

Issue 17, part 4: the search matches inside names, usernames and addresses
(``LIKE '%term%'``), which no B-tree serves, so at 100,000 members it read them all. pg_trgm's
GIN indexes answer such a pattern from the pattern's trigrams. Each index is on exactly the
expression ``orgs.service.page_of_members`` compares (``lower(name)``, ``lower(username)``,
``email``, which is stored lower-cased), or the planner could not use it.

pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it. The
index builds hold off writes to ``users`` while they run (about a second per 100,000
accounts). SQLite has no trigram indexes: there this revision does nothing, and the
search reads the members as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-14 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# (index name, indexed expression): the expressions of the search's three LIKEs.
INDEXES = (
    ('ix_users_lower_name_trgm', 'lower(name)'),
    ('ix_users_lower_username_trgm', 'lower(username)'),
    ('ix_users_email_trgm', 'email'),
)


def _on_postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    if not _on_postgresql():
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, expression in INDEXES:
        op.create_index(name, 'users', [sa.text(f'{expression} gin_trgm_ops')], unique=False,
                        postgresql_using='gin')
    # Statistics on the indexed expressions, which ANALYZE gathers only once they are
    # indexed: without them the planner guesses how many accounts a term matches.
    op.execute('ANALYZE users')


def downgrade():
    # The extension stays: other objects may have come to use it, and it costs nothing idle.
    if not _on_postgresql():
        return
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name='users')
