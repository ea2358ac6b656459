"""The Join Web Page (F13, premium): a public page where anyone may join as a member,
unless the owners limit it to email addresses at some domains."""
from __future__ import annotations

import re
from datetime import date
from collections.abc import Sequence
from typing import TYPE_CHECKING

from invites import policy
from invites.activity.service import record
from invites.domains import parse_domains, refusal
from invites.errors import DomainError, Refusal
from invites.extensions import db
from invites.orgs.access import end_of
from invites.join_page.models import JoinPage
from invites.orgs.admission import NothingToAdmit, admit
from invites.orgs.seats import NoFreeSeat
from invites.orgs.models import Membership, Organization, Role
from invites.orgs.service import RESERVED_SLUGS, require_premium

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.groups.models import Group

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class JoinRefused(Refusal):
    """Why this account may not join through the page; ``reason`` picks what to say (each
    refusal gives its own message)."""


def page_of(org: Organization) -> JoinPage:
    """The organization's join page, made (off, with a slug from its own) when missing."""
    page = db.session.scalar(db.select(JoinPage).filter_by(org_id=org.id))
    if page is None:
        page = JoinPage(org_id=org.id, org=org, slug=_free_slug(org), enabled=False)
        db.session.add(page)
        db.session.flush()
    return page


def _free_slug(org: Organization) -> str:
    base = org.slug
    slug, n = base, 2
    while slug in RESERVED_SLUGS or _taken(slug, org):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _taken(slug: str, org: Organization) -> bool:
    """True when ``slug`` is another join page's address or another organization's slug
    (security review F12: /join/<slug> must not pass for that organization's page)."""
    other_page = db.select(JoinPage.id).where(JoinPage.slug == slug, JoinPage.org_id != org.id)
    other_org = db.select(Organization.id).where(Organization.slug == slug, Organization.id != org.id)
    return db.session.scalar(db.select(other_page.exists() | other_org.exists()))


def update_page(
    org: Organization, actor: User, page: JoinPage, *, enabled: bool, slug: str | None,
    groups: Sequence[Group], allowed_domains: str | None, access_until: date | None = None,
) -> list[tuple[str, str]]:
    """Save the panel. Refuses on the free plan, a malformed or reserved slug, a slug
    taken by another join page or by another organization (its own organization's slug is
    fine), groups of another organization and malformed domains. Returns the changes made."""
    require_premium(org)
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug) or not 2 <= len(slug) <= 60:
        raise DomainError("Use 2 to 60 lower-case letters, digits and single hyphens.", "slug")
    if slug in RESERVED_SLUGS:
        raise DomainError("This address is reserved; choose another.", "slug")
    if slug != page.slug and _taken(slug, org):
        raise DomainError("This address is taken by another organization; choose another.", "slug")
    if any(g.org_id != org.id for g in groups):
        raise DomainError("Choose groups of this organization.", "groups")
    domains = parse_domains(allowed_domains)
    changes = []
    if bool(enabled) != page.enabled:
        page.enabled = bool(enabled)
        changes.append(("join_page.toggled", f"turned the Join Web Page {'on' if enabled else 'off'}"))
    if slug != page.slug:
        changes.append(("join_page.slug_changed", f"changed the Join Web Page's address from /join/{page.slug} to /join/{slug}"))
        page.slug = slug
    if domains != page.domains:
        listed = ", ".join(domains) or "anyone"
        changes.append(("join_page.whitelist_changed", f"set the Join Web Page's allowed domains to {listed}"))
        page.allowed_domains = "\n".join(domains)
    if [g.id for g in groups] != [g.id for g in page.groups]:
        page.groups = list(groups)
        names = ", ".join(g.name for g in groups) or "none"
        changes.append(("join_page.groups_changed", f"set the Join Web Page's groups to {names}"))
    if access_until != page.access_last_day:
        page.access_until = end_of(access_until)
        until = f"the end of {access_until:%Y-%m-%d} (UTC)" if access_until else "no end"
        changes.append(("join_page.access_changed", f"set the access of people joining through the Join Web Page to {until}"))
    for verb, summary in changes:
        record(org, actor, verb, summary, page)
    return changes


def public_page(slug: str | None) -> JoinPage | None:
    """The page at /join/<slug> if it is on and its organization is premium, else None
    (the route answers a plain 404 either way: nothing about why is revealed)."""
    page = db.session.scalar(db.select(JoinPage).filter_by(slug=(slug or "").lower()))
    if page is None or not page.enabled or not page.org.is_premium:
        return None
    return page


def check_may_join(page: JoinPage, user: User) -> None:
    """Raise JoinRefused unless ``user`` may join now: already a member, an address not
    confirmed yet (when domains are listed), or an address at another domain."""
    if policy.role_of(user, page.org) is not None:
        raise JoinRefused("member", f"You are already a member of {page.org.name}.")
    refused = refusal(page, user, page.org.name)
    if refused:
        raise JoinRefused(*refused)


def join(page: JoinPage, user: User) -> Membership:
    """Make ``user`` a member with the page's groups. Refuses what check_may_join does.
    The caller commits."""
    check_may_join(page, user)
    groups = f" and {', '.join(g.name for g in page.groups)}" if page.groups else ""
    try:
        return admit(page.org, user, Role.MEMBER, page.groups, verb="join_page.joined", target=page,
                     access_until=page.access_until,
                     describe=lambda admitted: f"joined through the Join Web Page{groups}",
                     refuse_unchanged=True).membership
    except NothingToAdmit as already:  # the same person's other press won the race
        raise JoinRefused("member", already.message) from already
    except NoFreeSeat as full:
        raise JoinRefused("full", full.message) from full

