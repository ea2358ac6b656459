"""Reading the "To" field of a batch and refusing what no address of it could get;
invite links (``links/``) use the same checks."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from invites import policy
from invites.accounts.models import User
from invites.accounts.service import normalize_email
from invites.errors import DomainError
from invites.extensions import db
from invites.mail import quota
from invites.orgs.models import Membership

if TYPE_CHECKING:
    from invites.groups.models import Group
    from invites.orgs.models import Organization

MAX_ADDRESSES = 10
_SEPARATORS = re.compile(r"[,;\r\n]+")
_ANGLE = re.compile(r"<([^<>]*)>")


def split_entries(text: str | None) -> list[str]:
    """The raw entries of the addresses field, in order.

    Separators are commas, semicolons, spaces and newlines; ``Name <addr>`` gives ``addr``
    (words before ``<`` that contain ``@`` are addresses too, the others the name).
    """
    tokens: list[str] = []
    for chunk in _SEPARATORS.split(text or ""):
        while chunk:
            match = _ANGLE.search(chunk)
            if match is None:
                tokens.extend(chunk.split())
                break
            tokens.extend(word for word in chunk[: match.start()].split() if "@" in word)
            tokens.append(match.group(1).strip())
            chunk = chunk[match.end():]
    return [token for token in tokens if token]


def resolve_entries(
    org: Organization, text: str | Sequence[str] | None, limit: int = MAX_ADDRESSES,
) -> list[tuple[str, str | None, str | None]]:
    """[(entry, email or None, error or None)] with duplicates folded, in typed order:
    the entries of the "To" field's ``text``, or a list of entries as given (the JSON
    API's). Refuses none, or more than ``limit``.

    An entry without ``@`` (or starting with it) is a member's username; everything else
    is validated as an address with email-validator (no DNS lookup).
    """
    raw = split_entries(text) if text is None or isinstance(text, str) else [e.strip() for e in text if e.strip()]
    usernames = {entry.lstrip("@").lower() for entry in raw if entry.startswith("@") or "@" not in entry}
    by_username: dict[str, str] = {}
    if usernames:
        rows = db.session.execute(
            db.select(User.username, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org.id, User.username.in_(usernames))
        )
        by_username = dict(rows.all())
    resolved: list[tuple[str, str | None, str | None]] = []
    seen: set[str] = set()
    for entry in raw:
        email: str | None
        error: str | None
        if entry.startswith("@") or "@" not in entry:
            email = by_username.get(entry.lstrip("@").lower())
            error = None if email else f"{entry} is neither an email address nor a member's username."
        else:
            try:
                email, error = normalize_email(entry), None
            except DomainError as problem:
                email, error = None, problem.message
        key = email or entry.lower()
        if key in seen:
            continue
        seen.add(key)
        resolved.append((entry, email, error))
    if not resolved:
        raise DomainError("Enter at least one email address or member.", "addresses")
    if len(resolved) > limit:
        raise DomainError(
            f"Invite at most {limit} addresses at a time ({len(resolved)} given).",
            "addresses",
        )
    return resolved


def check_request(org: Organization, inviter: User, role: str, groups: Sequence[Group]) -> None:
    """Refuse what no address of a batch could get (DomainError on the form field):
    a role above the inviter's, a group they may not invite into, no group when the
    organization requires one, or an inviter who may not invite at all."""
    if not policy.can(inviter, "people.invite", org):
        raise DomainError("You may not invite people to this organization.")
    quota.check_may_send(inviter)
    if role not in policy.assignable_roles(inviter, org):
        raise DomainError("Choose a role no higher than your own.", "role")
    for group in groups:
        if group.org_id != org.id or not policy.can(inviter, "groups.invite", org, group):
            raise DomainError(f"You may not invite people into {group.name}.", "groups")
    if org.require_group_on_invite and not groups:
        raise DomainError("Choose at least one group: this organization requires it.", "groups")
