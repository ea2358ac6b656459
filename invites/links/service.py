"""Invite links (F11): create, share by email, use, delete."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, cast

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import CursorResult, Select, Table
from sqlalchemy.orm import joinedload, selectinload

from invites import policy, tokens
from invites.accounts.service import normalize_email
from invites.activity.service import record
from invites.clock import now
from invites.domains import parse_domains, refusal
from invites.errors import DomainError, Refusal
from invites.extensions import db
from invites.invitations.addresses import MAX_ADDRESSES, check_request, split_entries
from invites.links.models import Access, Expiry, InviteLink
from invites.mail import quota
from invites.mail.service import MailDeliveryError, build_message, connection, external_url
from invites.orgs.access import end_of
from invites.orgs.admission import Admission, NothingToAdmit, admit
from invites.orgs.models import Membership, Organization
from invites.pagination import paginate
from invites.webhooks.outbox import emit

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.groups.models import Group

MAX_USES = 100_000
ADDRESS_LOST = ("This link's address can't be shown again: it was made before links kept it, "
                "or the server's secret key has changed since. Make a new link to share.")


class LinkUnavailable(Refusal):
    """The link cannot be used; ``reason`` picks the page that explains why."""

    MESSAGES = {
        "unknown": "This invite link is not valid.",
        "deleted": "This invite link was deleted.",
        "expired": "This invite link has expired.",
        "used_up": "This invite link has been used up.",
        "members_only": "This invite link is for existing members only.",
    }
    # Given with their message (invites.domains.refusal), which states the rule:
    # "domain" (an address elsewhere) and "unverified" (not confirmed yet).


def expiry_from(
    choice: str, custom_date: date | None = None, at: datetime | None = None
) -> datetime | None:
    """When a link made now with this "Expiration" choice expires (None: never).

    A custom date means the end of that day (UTC); refuses a past date, a missing one,
    and unknown choices.
    """
    at = at or now()
    if choice in Expiry.PRESETS:
        delta = Expiry.PRESETS[choice][1]
        return None if delta is None else at + delta
    if choice != Expiry.CUSTOM:
        raise DomainError("Choose one of the listed expirations.", "expiration")
    if custom_date is None:
        raise DomainError("Pick the date the link stops working.", "custom_date")
    if custom_date < at.date():
        raise DomainError("Pick a date that is not in the past.", "custom_date")
    return datetime.combine(custom_date + timedelta(days=1), time.min)


def create_link(
    org: Organization, creator: User, *, expiration: str, custom_date: date | None = None,
    access: str, role: str, groups: Sequence[Group], max_uses: int | None = None,
    allowed_domains: str | None = None, access_until: date | None = None,
) -> tuple[InviteLink, str]:
    """Create a link and return ``(link, token)``; the token is stored only hashed and
    encrypted (:class:`invites.tokens.ShareableTokenHolder`).

    Refuses what :func:`check_settings` refuses, a past custom date, a maximum number
    of uses outside 1–100,000, and malformed ``allowed_domains`` (typed one per line, as
    :func:`invites.domains.parse_domains` reads them; empty lets anyone in).
    """
    check_settings(org, creator, access, role, groups)
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise DomainError(f"Use a number from 1 to {MAX_USES:,}, or leave it empty.", "max_uses")
    link = InviteLink(
        org_id=org.id, org=org, access=access, role=role, max_uses=max_uses,
        expires_at=expiry_from(expiration, custom_date), created_by=creator,
        allowed_domains="\n".join(parse_domains(allowed_domains)), access_until=end_of(access_until),
    )
    link.groups = list(groups)
    token = link.issue_token()
    db.session.add(link)
    db.session.flush()
    record(org, creator, "link.created", f"created an invite link ({describe(link)})", link)
    emit(org, "invite_link.created", link)
    return link, token


def check_settings(org: Organization, creator: User, access: str, role: str, groups: Sequence[Group]) -> None:
    """Refuse "Anyone with the link" for someone without "add new people" (F5), and then
    what invitations refuse (a role above the creator's, a group they may not invite
    into, no group when the organization requires one). An "Existing members only" link
    is for anyone allowed ``links.create`` into each of its groups (seed 001: a plain
    member, for the groups they are in, and only with at least one)."""
    if access not in Access.ALL:
        raise DomainError("Choose who may use the link.", "access")
    if access == Access.ANYONE:
        if not policy.can(creator, "people.add_new", org):
            raise DomainError(
                "Only people who may add new people to the organization can make a link for "
                "anyone. Choose “Existing members only”.", "access"
            )
        check_request(org, creator, role, groups)
        return
    if policy.can(creator, "people.invite", org) and all(
        policy.can(creator, "groups.invite", org, group) for group in groups
    ):
        check_request(org, creator, role, groups)
        return
    if not policy.can(creator, "links.create", org):
        raise DomainError("You may not make invite links in this organization.")
    check_request_of_a_member(org, creator, role, groups)


def check_request_of_a_member(org: Organization, creator: User, role: str, groups: Sequence[Group]) -> None:
    """A plain member's members-only link: only into groups they are in, at least one."""
    quota.check_may_send(creator)
    if role not in policy.assignable_roles(creator, org):
        raise DomainError("Choose a role no higher than your own.", "role")
    if not groups:
        raise DomainError("Choose at least one of your groups for the link.", "groups")
    for group in groups:
        if not policy.can(creator, "links.create", org, group):
            raise DomainError(f"You may only make links for groups you are in, not {group.name}.", "groups")


def describe(link: InviteLink) -> str:
    """The settings in a few words, for the activity log."""
    parts = [link.access_label.lower(), f"as {link.role_label}"]
    if link.groups:
        parts.append("into " + ", ".join(g.name for g in link.groups))
    parts.append("never expires" if link.expires_at is None else f"expires {link.expires_at:%Y-%m-%d %H:%M} UTC")
    if link.max_uses:
        parts.append(f"at most {link.max_uses} uses")
    if link.domains:
        parts.append("only " + ", ".join(link.domains))
    if link.access_until:
        parts.append(f"access until the end of {link.access_last_day:%Y-%m-%d} (UTC)")
    return "; ".join(parts)


def delete_link(org: Organization, actor: User, link: InviteLink) -> None:
    """Delete a link: its URL then says so. Refuses a link already deleted."""
    if link.deleted_at is not None:
        raise DomainError("This link was already deleted.")
    link.deleted_at = now()
    record(org, actor, "link.deleted", f"deleted an invite link ({describe(link)})", link)
    emit(org, "invite_link.revoked", link)


def find_link(token: str | None) -> InviteLink | None:
    return tokens.find_by_token(
        InviteLink, token,
        joinedload(InviteLink.org), joinedload(InviteLink.created_by), selectinload(InviteLink.groups),
    )


def check_usable(link: InviteLink | None) -> InviteLink:
    """Raise LinkUnavailable unless the link exists, is not deleted, expired or used up;
    returns it."""
    if link is None:
        raise LinkUnavailable("unknown")
    if link.deleted_at is not None:
        raise LinkUnavailable("deleted")
    if link.is_expired():
        raise LinkUnavailable("expired")
    if link.is_used_up:
        raise LinkUnavailable("used_up")
    return link


@dataclass
class Use:
    kind: str  # joined, groups_added, already
    membership: Membership
    groups: list[Group]


def use_link(link: InviteLink, user: User) -> Use:
    """``user`` joins through the link, in the caller's transaction; returns a :class:`Use`.

    A non-member joins with the link's role and groups, but only through "Anyone with the
    link". A link bound to email domains lets in only confirmed addresses at them, members
    included (:func:`check_may_use`). A member is added to the link's groups they are not in yet (their role stays);
    someone who is in all of them already uses nothing. Refuses (LinkUnavailable) a
    deleted, expired or used-up link and a non-member on a members-only link.

    The use is counted by one conditional UPDATE, so a link with a maximum number of uses
    holds under concurrent use: only as many requests as allowed get a row back.
    """
    check_usable(link)
    org = link.org
    membership = db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=user.id))
    check_may_use(link, user, membership is not None)
    try:
        admission = admit(org, user, link.role, link.groups, verb="link.used", target=link,
                          describe=_describe_use, refuse_unchanged=True, access_until=link.access_until)
    except NothingToAdmit:
        return Use("already", membership or _membership(org, user), [])
    _count_one_use(link)  # refuses (the caller rolls back) when the last use went meanwhile
    return Use("joined" if admission.joined else "groups_added", admission.membership, admission.groups)


def check_may_use(link: InviteLink, user: User, is_member: bool) -> None:
    """Refuse (LinkUnavailable) a non-member on a members-only link, and anyone the
    link's email domains do not let in, stating the rule ("domain", "unverified")."""
    if not is_member and link.access != Access.ANYONE:
        raise LinkUnavailable("members_only")
    refused = refusal(link, user, link.org.name)
    if refused:
        raise LinkUnavailable(*refused)


def _membership(org: Organization, user: User) -> Membership:
    """The membership that a press of the same link at the same moment just made."""
    return db.session.scalars(db.select(Membership).filter_by(org_id=org.id, user_id=user.id)).one()


def _describe_use(admission: Admission) -> str:
    names = ", ".join(g.name for g in admission.groups)
    if not admission.joined:
        return f"joined {names} through an invite link"
    into = f" and {names}" if names else ""
    return f"joined as {admission.membership.role_label}{into} through an invite link"


def _count_one_use(link: InviteLink) -> None:
    at = now()
    table = cast(Table, InviteLink.__table__)
    result = cast(CursorResult, db.session.execute(
        table.update()
        .where(
            table.c.id == link.id,
            table.c.deleted_at.is_(None),
            (table.c.expires_at.is_(None)) | (table.c.expires_at > at),
            (table.c.max_uses.is_(None)) | (table.c.uses < table.c.max_uses),
        )
        .values(uses=table.c.uses + 1)
    ))
    if result.rowcount != 1:  # someone took the last use (or it lapsed) a moment ago
        db.session.refresh(link)
        check_usable(link)
        raise LinkUnavailable("used_up")
    db.session.refresh(link, ["uses"])


def share_link(
    org: Organization, sender: User, link: InviteLink, addresses: str, note: str | None = "",
) -> list[tuple[str, str | None]]:
    """Email the link to up to 10 addresses over one SMTP connection.

    Refuses a link whose address cannot be read back (made before links kept it, or
    under another SECRET_KEY), an unusable link, no or too many addresses, and
    (QuotaExceeded) an unconfirmed sender or a share past today's caps on invitation
    mails. Returns ``[(address, error or None)]``: invalid addresses and refused
    deliveries are reported, the rest sent.
    """
    token = link.shareable_token()
    if token is None:
        raise DomainError(ADDRESS_LOST)
    check_usable(link)
    entries = list(dict.fromkeys(e.lower() for e in split_entries(addresses)))
    if not entries:
        raise DomainError("Enter at least one email address.", "addresses")
    if len(entries) > MAX_ADDRESSES:
        raise DomainError(f"Share with at most {MAX_ADDRESSES} addresses at a time.", "addresses")
    valid: list[str] = []
    results: list[tuple[str, str | None]] = []
    for entry in entries:
        try:
            valid.append(normalize_email(entry))
        except DomainError as error:
            results.append((entry, error.message))
    quota.charge(org, sender, len(valid))
    url = external_url("links.follow", token=token)
    with connection() as send:
        for address in valid:
            try:
                send(build_message(
                    address, f"{sender.name} shared an invite link to join {org.name}", "invite_link",
                    org=org, sender=sender, link=link, url=url, note=(note or "").strip()[:2000],
                ))
            except MailDeliveryError as error:
                results.append((address, str(error)))
            else:
                results.append((address, None))
    sent = [address for address, error in results if error is None]
    if sent:
        record(org, sender, "link.shared", f"shared an invite link with {', '.join(sent)}", link)
    return results


def address_of(link: InviteLink) -> str | None:
    """The link's URL (on PUBLIC_URL) while it is usable and its token can be read back;
    only for those ``links.edit`` allows (Mattermost CVE-2026-2463: never to others)."""
    token = link.shareable_token() if link.is_usable() else None
    return external_url("links.follow", token=token) if token else None


def addresses_of(links: Sequence[InviteLink]) -> dict[int, str]:
    """:func:`address_of` each link that has one, by id (the panel's Copy buttons)."""
    return {link.id: url for link in links if (url := address_of(link))}


def live_links(org: Organization) -> Select[tuple[InviteLink]]:
    """The organization's links that are not deleted, newest first (active and lapsed),
    with their creator and groups loaded in a fixed number of queries."""
    return (
        db.select(InviteLink)
        .options(joinedload(InviteLink.created_by), selectinload(InviteLink.groups))
        .where(InviteLink.org_id == org.id, InviteLink.deleted_at.is_(None))
        .order_by(InviteLink.created_at.desc(), InviteLink.id.desc())
    )


def page_of_links(org: Organization, page: int, per_page: int) -> Pagination:
    """The page ``page`` of :func:`live_links` (the panel)."""
    return paginate(live_links(org), page, per_page)
