"""The Members panel's search reads memberships alone: ``memberships.search_text``, with
GIN indexes of its trigrams and of its characters and pairs of characters on PostgreSQL.

Issue 17, part 4. Searching the accounts' trigram indexes (0012) and joining their
memberships cost in proportion to the matching accounts of every organization, and a term
with thousands of matches late in the panel's order ("son 9" at 100,000 members: 174 ms)
was read in order instead, through nearly every member. ``search_text`` holds the name,
username and address of the member's account, lower-cased, one per line (kept up to date
by ``invites.orgs.models``); one GIN index of it finds an organization's matching members
directly, and sorting a few thousand of them for a page is quick.

Trigrams need three letters or digits in a row: a term of one or two characters ("zq"),
or of others ("@b"), read every member. ``member_search_pairs(text)`` gives a text's
characters and pairs of neighbouring characters, and a GIN index of it on memberships
finds the texts holding every pair of such a term (``orgs.service.character_pairs``).

The text is filled in Python, with the same ``str.lower`` the search term gets, a batch of
memberships at a time. Adding the column locks ``memberships`` until the migration ends,
reads included: about 13 seconds per 100,000 members on PostgreSQL, most of it the fill
and the index of pairs. As with 0006, stop the old code first: it would insert
memberships without ``search_text``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BATCH = 5_000
# As invites.orgs.models.search_text writes it (a migration keeps its own copy: the app's
# code may change after it).
SEPARATOR = "\n"


def _on_postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def upgrade():
    op.add_column('memberships', sa.Column('search_text', sa.Text(), nullable=True))
    fill_search_text()
    with op.batch_alter_table('memberships', schema=None) as batch_op:  # a rebuild on SQLite only
        batch_op.alter_column('search_text', existing_type=sa.Text(), nullable=False)
    if _on_postgresql():
        op.create_index('ix_memberships_search_trgm', 'memberships', [sa.text('search_text gin_trgm_ops')],
                        unique=False, postgresql_using='gin')
        op.execute(PAIRS_FUNCTION)
        op.create_index('ix_memberships_search_pairs', 'memberships', [sa.text('member_search_pairs(search_text)')],
                        unique=False, postgresql_using='gin')
        # Statistics of the indexed expression too, which ANALYZE gathers only once it is
        # indexed: the search asks the planner how many members a term matches.
        op.execute('ANALYZE memberships')


# Each character of the text, and each pair of neighbouring characters, once.
PAIRS_FUNCTION = """
CREATE OR REPLACE FUNCTION member_search_pairs(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT substr(t, i, n)), '{}')
  FROM generate_series(1, length(t)) AS i, (VALUES (1), (2)) AS lengths(n)
  WHERE i + n - 1 <= length(t)
$$
"""


def fill_search_text():
    connection = op.get_bind()
    memberships = sa.table('memberships', sa.column('id', sa.Integer), sa.column('user_id', sa.Integer),
                           sa.column('search_text', sa.Text))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('username', sa.String), sa.column('email', sa.String))
    update = (memberships.update().where(memberships.c.id == sa.bindparam('membership_id'))
              .values(search_text=sa.bindparam('text')))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(memberships.c.id, users.c.name, users.c.username, users.c.email)
            .join(users, users.c.id == memberships.c.user_id)
            .where(memberships.c.id > last).order_by(memberships.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(update, [
            {"membership_id": id_, "text": SEPARATOR.join((field or "").lower().replace(SEPARATOR, " ")
                                                          for field in fields)}
            for id_, *fields in rows
        ])
        last = rows[-1][0]


def downgrade():
    if _on_postgresql():
        op.drop_index('ix_memberships_search_pairs', table_name='memberships')
        op.execute('DROP FUNCTION member_search_pairs(text)')
        op.drop_index('ix_memberships_search_trgm', table_name='memberships')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('search_text')
