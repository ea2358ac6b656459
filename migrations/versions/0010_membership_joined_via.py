"""How each membership came about (memberships.joined_via), and the index the Overview reads.

Issue 16: the Overview shows recent joins and joins per week by way in. ``admit`` now
keeps the way on the membership; for memberships made before, the way is read back from
the activity log where it says: the earliest admission line for that person in that
organization (the creator's "org.created", "invitation.accepted" — "import" when the
invitation came from a spreadsheet —, "link.used", "join_request.accepted" about their
request, "join_page.joined"). Someone who left and came back another way gets the first
way; memberships the log does not explain stay NULL, shown as "Earlier".

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Whose admission an activity line records: the actor's, except an accepted join request,
# which staff decided about the requester.
_PERSON = (
    "CASE WHEN a.verb = 'join_request.accepted' "
    "THEN (SELECT jr.user_id FROM join_requests jr WHERE jr.id = a.target_id) "
    "ELSE a.actor_id END"
)
_WAY = (
    "CASE a.verb WHEN 'org.created' THEN 'created' WHEN 'link.used' THEN 'link' "
    "WHEN 'join_request.accepted' THEN 'request' WHEN 'join_page.joined' THEN 'join_page' "
    "ELSE CASE WHEN EXISTS (SELECT 1 FROM invitations i WHERE i.id = a.target_id "
    "AND i.import_id IS NOT NULL) THEN 'import' ELSE 'invitation' END END"
)
ADMISSIONS = f"""
SELECT a.org_id, {_PERSON} AS person, {_WAY} AS way FROM activities a
WHERE a.verb IN ('org.created', 'invitation.accepted', 'link.used',
                 'join_request.accepted', 'join_page.joined')
ORDER BY a.created_at, a.id
"""


def backfill(connection):
    """One pass over the admission lines (each join and invitation found by its key), then
    one keyed UPDATE per membership explained: linear in the log, not members × log.
    Only memberships without a way yet are filled."""
    first = {}
    for org_id, person, way in connection.execute(sa.text(ADMISSIONS)):
        if person is not None:
            first.setdefault((org_id, person), way)
    if first:
        connection.execute(
            sa.text("UPDATE memberships SET joined_via = :way "
                    "WHERE org_id = :org AND user_id = :person AND joined_via IS NULL"),
            [{"way": way, "org": org, "person": person} for (org, person), way in first.items()],
        )


def upgrade():
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_via', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_memberships_org_created', ['org_id', 'created_at', 'id', 'joined_via'], unique=False)
    backfill(op.get_bind())


def downgrade():
    # In place, not a batch copy of the table (see 0009).
    op.drop_index('ix_memberships_org_created', table_name='memberships')
    op.drop_column('memberships', 'joined_via')
