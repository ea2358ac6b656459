"""Import Learners (F14, premium): preview a spreadsheet, then invite every row at once.

The preview saves only the pending import (its rows and what will become of each); no
invitation exists and nothing is sent until "Continue". Running it creates ordinary
invitations (linked back to the import), commits them, then sends every message over one
SMTP connection; a refused message marks that invitation Not delivered and the rest go on.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from invites import policy
from invites.accounts.service import normalize_email
from invites.activity.service import record
from invites.clock import now
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import Group
from invites.imports.models import Fate, Import, ImportRow, ImportStatus
from invites.imports.spreadsheet import Row, read_rows
from invites.invitations import sending as invitations
from invites.orgs.access import end_of
from invites.orgs.models import Role
from invites.orgs.service import require_premium
from invites.pagination import paginate

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.invitations.models import Invitation
    from invites.orgs.models import Membership, Organization


def check_allowed(org: Organization, actor: User) -> None:
    """Refuse on the free plan, and for anyone who may not add new people (F5)."""
    require_premium(org)
    if not policy.can(actor, "people.add_new", org):
        raise DomainError("Importing invites new people, which you may not do here.")


def split_groups(text: str | None) -> list[str]:
    """Group names in a cell, separated by semicolons (commas too), without blanks."""
    parts = (text or "").replace(",", ";").split(";")
    return [part.strip() for part in parts if part.strip()]


def preview_import(
    org: Organization, actor: User, filename: str | None, data: bytes, access_until: date | None = None,
) -> Import:
    """Read the file and save a pending import whose rows say what will become of each;
    ``access_until``, the last day of access of those who accept (none: no end).

    Refuses (DomainError on the "file" field) what :func:`read_rows` refuses. Returns the
    import; the caller commits.
    """
    check_allowed(org, actor)
    rows = read_rows(filename, data)
    imp = Import(org_id=org.id, org=org, created_by=actor, filename=(filename or "upload")[:255],
                 access_until=end_of(access_until))
    db.session.add(imp)
    db.session.flush()
    groups_by_name = _groups_named(org, [name for row in rows for name in split_groups(row["groups"])])
    parsed: list[tuple[Row, str | None]] = []
    for row in rows:
        try:
            email = normalize_email(row["email"]) if row["email"] else None
        except DomainError:
            email = None
        parsed.append((row, email))
    members, pending, _ = invitations.lookup_addresses(org, [e for _, e in parsed if e])
    seen: set[str] = set()
    for row, email in parsed:
        fate, detail = _fate(row, email, seen, members, pending, groups_by_name)
        db.session.add(ImportRow(
            import_id=imp.id, row_number=row["row_number"], email=row["email"],
            groups=row["groups"], first_name=row["first_name"], last_name=row["last_name"],
            normalized_email=email, fate=fate, detail=detail,
        ))
    db.session.flush()
    record(org, actor, "import.previewed", f"previewed an import of {len(rows)} rows from {imp.filename}", imp)
    return imp


def _groups_named(org: Organization, names: Iterable[str]) -> dict[str, Group]:
    """{lower-cased name: group} for the names a file mentions (one query, however many
    groups the organization has)."""
    wanted = {name.lower() for name in names}
    if not wanted:
        return {}
    return {
        g.name.lower(): g
        for g in db.session.scalars(
            db.select(Group).where(Group.org_id == org.id, func.lower(Group.name).in_(wanted))
        )
    }


def _fate(
    row: Row, email: str | None, seen: set[str], members: dict[str, Membership],
    pending: dict[str, Invitation], groups_by_name: dict[str, Group],
) -> tuple[str, str]:
    if email is None:
        return Fate.INVALID_EMAIL, ("No email address." if not row["email"] else "Not a valid email address.")
    if email in seen:
        return Fate.DUPLICATE, "The same address is on an earlier row."
    seen.add(email)
    unknown = [name for name in split_groups(row["groups"]) if name.lower() not in groups_by_name]
    if unknown:
        return Fate.UNKNOWN_GROUP, f"No group called {', '.join(unknown)} in this organization."
    if email in members:
        return Fate.MEMBER, "Already a member: nothing will be sent."
    if email in pending:
        return Fate.RESEND, "Has a pending invitation: it will be sent again with a new link."
    return Fate.INVITE, "An invitation will be sent."


def counts(imp: Import) -> dict[str, int]:
    """{fate: number of rows} in one query."""
    return dict(db.session.execute(
        db.select(ImportRow.fate, func.count(ImportRow.id))
        .where(ImportRow.import_id == imp.id).group_by(ImportRow.fate)
    ).all())


def run_import(org: Organization, actor: User, imp: Import, *, commit: Callable[[], None]) -> Import:
    """Create the invitations of every row marked invite or resend, ``commit`` (the
    caller's), then send all the messages over one connection. Refuses an import already
    run. Each row gets its outcome (sent, not delivered with the reason, or skipped); the
    caller commits them.
    """
    check_allowed(org, actor)
    imp = db.session.scalar(
        db.select(Import).where(Import.id == imp.id).with_for_update().execution_options(populate_existing=True)
    )
    if imp.status != ImportStatus.PREVIEWED:
        raise DomainError("This import was already run.")
    rows = db.session.scalars(db.select(ImportRow).filter_by(import_id=imp.id).order_by(ImportRow.row_number)).all()
    sending = [row for row in rows if row.fate in Fate.SENDS]
    groups_by_name = _groups_named(org, [name for row in sending for name in split_groups(row.groups)])
    members, pending, accounts = invitations.lookup_addresses(org, [row.normalized_email for row in sending])
    issuing, issues = [], []
    skipped: dict[int, str] = {}  # id(row): why
    for row in rows:
        if row.fate not in Fate.SENDS:
            skipped[id(row)] = row.fate_label
            continue
        email = row.normalized_email
        if email in members:  # joined between the preview and now
            skipped[id(row)] = "Became a member since the preview."
            continue
        groups = [groups_by_name[name.lower()] for name in split_groups(row.groups) if name.lower() in groups_by_name]
        issuing.append(row)
        issues.append(invitations.Issue(email, Role.MEMBER, groups, pending=pending.get(email),
                                         account=accounts.get(email), access_until=imp.access_until))
    outcomes = list(zip(issuing, invitations.issue_invitations(org, actor, issues, import_id=imp.id)))
    _save_rows([(row, {"invitation_id": outcome.invitation.id}) for row, outcome in outcomes])
    _save_rows([(row, {"outcome": "skipped", "outcome_detail": skipped[id(row)]}) for row in rows if id(row) in skipped])
    imp.status = ImportStatus.DONE
    imp.ran_at = now()
    commit()  # every invitation is saved before the first message goes out
    invitations.deliver(org, actor, [outcome for _, outcome in outcomes])
    # The commit expired the rows: load them back in one query, not one each below.
    db.session.scalars(
        db.select(ImportRow).filter_by(import_id=imp.id).execution_options(populate_existing=True)
    ).all()
    _save_rows([
        (row, {"outcome": "not_delivered", "outcome_detail": outcome.invitation.delivery_error}
         if outcome.kind == "not_delivered" else {"outcome": "sent", "outcome_detail": outcome.detail})
        for row, outcome in outcomes
    ])
    tally = Counter(row.outcome for row in rows)
    imp.sent_count, imp.failed_count = tally["sent"], tally["not_delivered"]
    record(org, actor, "import.run",
           f"ran the import of {imp.filename}: {tally['sent']} sent, {tally['not_delivered']} not delivered, "
           f"{tally['skipped']} skipped", imp)
    return imp


def _save_rows(changes: Sequence[tuple[ImportRow, dict[str, Any]]]) -> None:
    """Save each row's new values with one bulk UPDATE by primary key (500 rows are one
    executemany, not 500 objects through the unit of work), and set them on the loaded
    rows as their saved state. Every row's dict has the same keys."""
    if not changes:
        return
    db.session.execute(update(ImportRow), [{"id": row.id, **values} for row, values in changes])
    for row, values in changes:
        for key, value in values.items():
            set_committed_value(row, key, value)


def page_of_imports(org: Organization, page: int, per_page: int) -> Pagination:
    query = (
        db.select(Import).options(joinedload(Import.created_by))
        .where(Import.org_id == org.id)
        .order_by(Import.created_at.desc(), Import.id.desc())
    )
    return paginate(query, page, per_page)


def rows_of(imp: Import) -> Sequence[ImportRow]:
    return db.session.scalars(
        db.select(ImportRow).options(joinedload(ImportRow.invitation))
        .filter_by(import_id=imp.id).order_by(ImportRow.row_number)
    ).all()
