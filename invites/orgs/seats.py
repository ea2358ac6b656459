"""Seat limits (issue 19, F22): how many members an organization may have.

The limit is the owners' (``Organization.member_limit``, set under Permissions) or the
plan's (``MEMBER_LIMITS`` in the configuration), whichever is lower; None for neither.
Every member counts, owners included. :func:`invites.orgs.admission.admit` asks
:func:`require_free_seat` before it makes a membership, so every way in stops at the
limit in one place. Invitations and invite links then put the person on the waiting list
(a join request, :func:`invites.join_requests.service.wait_for_seat`) for staff to accept
once a seat is free.

Under concurrency the count is taken with the organization's row locked (``FOR UPDATE``
on PostgreSQL; SQLite lets one writer in at a time), held until the caller commits: two
admissions into the last seat run one after the other, and the second finds it taken.
"""
from __future__ import annotations

from flask import current_app, has_app_context

from invites.errors import DomainError
from invites.extensions import db
from invites.orgs.models import Membership, Organization, lock_organization


class NoFreeSeat(DomainError):
    """The organization is full."""

    code = "seats_full"


def seat_limit(org: Organization) -> int | None:
    """The lower of the owners' limit and the plan's; None when neither sets one."""
    plan_limit = current_app.config.get("MEMBER_LIMITS", {}).get(org.plan) if has_app_context() else None
    limits = [limit for limit in (org.member_limit, plan_limit) if limit]
    return min(limits) if limits else None


def seats_used(org: Organization) -> int:
    return db.session.scalar(db.select(db.func.count(Membership.id)).where(Membership.org_id == org.id)) or 0


def require_free_seat(org: Organization) -> None:
    """Refuse (NoFreeSeat) a newcomer when every seat is taken, counting with the
    organization's row locked until the caller's transaction ends."""
    limit = seat_limit(org)
    if limit is None:
        return
    lock_organization(org)
    used = seats_used(org)
    if used >= limit:
        raise NoFreeSeat(f"{org.name} has no free seat: all {limit} are taken. "
                         "An owner can raise the limit under Permissions, or remove someone.")


def free_seats(org: Organization) -> int | None:
    """Seats still free (0 when full or over the limit); None without a limit. The
    ``free_seats`` template global: the pages that invite say when the next person waits."""
    limit = seat_limit(org)
    return None if limit is None else max(0, limit - seats_used(org))
