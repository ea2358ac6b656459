"""The Overview's charts read counts per day, kept by the database: ``membership_days``
(memberships by the day they began and their way in) and ``invitation_days`` (invitations
by the day they were made, their status and their day of expiry).

Joins per week and the invitation funnel counted every membership and invitation of the
last 13 weeks and 90 days on each view of the Overview: about 60 ms at 100,000 of each on
PostgreSQL, whatever the indexes (a count reads every row). Counts per day make them read a
few hundred rows at any size; the Overview reads the rows themselves only for the days a
window starts in and for the pending invitations expiring today (``invites.orgs.overview``).

Triggers keep the counts, on SQLite and on PostgreSQL, so every way a row is written
counts: the ORM, bulk statements, imports, the JSON API, ``flask expire-memberships`` and
an organization's deletion. A row's count moves when its day, way in, status or expiry
changes. Counts can reach 0 and stay: the Overview skips them.

Creating the triggers locks both tables against writes until the migration ends; the
counts are filled in the same transaction, so none is missed.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


# (table counted, counts table, count column, key columns of the counts table, the
# expressions of a row that give them, and the columns whose change moves a row's count).
# date(timestamp) is the day on both databases (timestamps are naive UTC).
COUNTED = [
    ("memberships", "membership_days", "members", ("org_id", "day", "way"),
     ("{row}.org_id", "date({row}.created_at)", "coalesce({row}.joined_via, '')"),
     ("org_id", "created_at", "joined_via")),
    ("invitations", "invitation_days", "invitations", ("org_id", "day", "status", "expires_day"),
     ("{row}.org_id", "date({row}.created_at)", "{row}.status", "date({row}.expires_at)"),
     ("org_id", "created_at", "status", "expires_at")),
]


def _on_postgresql():
    return op.get_bind().dialect.name == 'postgresql'


def _add(counts, column, keys, values):
    return (f"INSERT INTO {counts} ({', '.join(keys)}, {column}) VALUES ({', '.join(values)}, 1) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {column} = {counts}.{column} + 1;")


def _remove(counts, column, keys, values):
    where = " AND ".join(f"{key} = {value}" for key, value in zip(keys, values))
    return f"UPDATE {counts} SET {column} = {column} - 1 WHERE {where};"


def upgrade():
    op.create_table(
        'membership_days',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('way', sa.String(length=20), nullable=False),
        sa.Column('members', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_membership_days_org_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_id', 'day', 'way', name=op.f('pk_membership_days')),
    )
    op.create_table(
        'invitation_days',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('expires_day', sa.Date(), nullable=False),
        sa.Column('invitations', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_invitation_days_org_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('org_id', 'day', 'status', 'expires_day', name=op.f('pk_invitation_days')),
    )
    for table, counts, column, keys, expressions, moved_by in COUNTED:
        new = [e.format(row="NEW") for e in expressions]
        old = [e.format(row="OLD") for e in expressions]
        if _on_postgresql():
            op.execute(f"""
                CREATE OR REPLACE FUNCTION count_{counts}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP IN ('DELETE', 'UPDATE') THEN {_remove(counts, column, keys, old)} END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_add(counts, column, keys, new)} END IF;
                    RETURN NULL;
                END $$""")
            op.execute(f"CREATE TRIGGER {table}_count_days AFTER INSERT OR DELETE OR UPDATE OF "
                       f"{', '.join(moved_by)} ON {table} FOR EACH ROW EXECUTE FUNCTION count_{counts}()")
        else:
            op.execute(f"CREATE TRIGGER {table}_count_days_insert AFTER INSERT ON {table} "
                       f"BEGIN {_add(counts, column, keys, new)} END")
            op.execute(f"CREATE TRIGGER {table}_count_days_delete AFTER DELETE ON {table} "
                       f"BEGIN {_remove(counts, column, keys, old)} END")
            op.execute(f"CREATE TRIGGER {table}_count_days_update AFTER UPDATE OF {', '.join(moved_by)} "
                       f"ON {table} BEGIN {_remove(counts, column, keys, old)} "
                       f"{_add(counts, column, keys, new)} END")
        group = [e.format(row=table) for e in expressions]
        op.execute(f"INSERT INTO {counts} ({', '.join(keys)}, {column}) "
                   f"SELECT {', '.join(group)}, count(*) FROM {table} GROUP BY {', '.join(group)}")


def downgrade():
    for table, counts, *_ in COUNTED:
        if _on_postgresql():
            op.execute(f"DROP TRIGGER {table}_count_days ON {table}")
            op.execute(f"DROP FUNCTION count_{counts}()")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {table}_count_days_{event}")
        op.drop_table(counts)
