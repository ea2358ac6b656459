"""The schema the migrations build is the schema the models describe."""
import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from invites.extensions import db

POSTGRESQL_ONLY_INDEXES = {"ix_users_lower_name_trgm", "ix_users_lower_username_trgm", "ix_users_email_trgm",
                           "ix_memberships_search_trgm", "ix_memberships_search_pairs"}
# Foreign keys that migration 0016 adds with ADD COLUMN ... REFERENCES on SQLite (a batch
# copy of join_requests would lose its partial index's WHERE): SQLite's reflection reads
# neither their name nor their ON DELETE, so there they compare as a different key.
# PostgreSQL compares them in full.
SQLITE_INLINE_FOREIGN_KEYS = {"join_requests.invitation_id", "join_requests.invite_link_id"}


def _inline_foreign_key(change, dialect):
    return (dialect == "sqlite" and change[0] in ("add_fk", "remove_fk")
            and {str(column) for column in change[1].columns} <= SQLITE_INLINE_FOREIGN_KEYS)


def test_the_migrations_build_exactly_what_the_models_describe(app):
    db.session.close()
    with db.engine.connect() as connection, warnings.catch_warnings():
        # SQLite's reflection skips expression indexes (ix_groups_org_lower_name), with
        # warnings; PostgreSQL compares them too.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    # The members search's trigram indexes exist on PostgreSQL only (migration 0012), so
    # the models, which SQLite builds from too, don't declare them.
    differences = [
        change for change in differences
        if not (change[0] == "remove_index" and change[1].name in POSTGRESQL_ONLY_INDEXES)
        and not _inline_foreign_key(change, db.engine.dialect.name)
    ]
    assert differences == []
