"""Letting a person into an organization: the one act every way in shares (an invitation
accepted, an invite link used, a join request accepted, the Join Web Page), each recorded
on the membership as its ``joined_via``.

Each way decides *whether* someone may come in and what they get; :func:`admit` does the
coming in. Seat limits and outgoing events hook in here, once.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from invites import policy
from invites.activity.service import record
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.orgs.access import longer
from invites.orgs.seats import require_free_seat
from invites.orgs.models import JoinedVia, Membership
from invites.webhooks.outbox import emit

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.groups.models import Group
    from invites.orgs.models import Organization


class NothingToAdmit(DomainError):
    """The person is a member already, in every group offered (``refuse_unchanged``)."""

    code = "member"


@dataclass
class Admission:
    """What :func:`admit` did: the membership, whether it is new, the groups added now."""

    membership: Membership
    joined: bool
    groups: list[Group]


# The verb of each way in -> how the membership is said to have come about.
WAYS_IN = {
    "invitation.accepted": JoinedVia.INVITATION,
    "link.used": JoinedVia.LINK,
    "join_request.accepted": JoinedVia.REQUEST,
    "join_page.joined": JoinedVia.JOIN_PAGE,
    "org.created": JoinedVia.CREATED,
}


def way_in(verb: str, target: Any = None) -> str | None:
    """The :class:`JoinedVia` of an admission: its ``verb``'s, except that an invitation
    made by a spreadsheet import (``Invitation.import_id``) counts as the import. None for
    a verb not in :data:`WAYS_IN` (shown as "Earlier"): a new way in adds itself there."""
    via = WAYS_IN.get(verb)
    if via == JoinedVia.INVITATION and getattr(target, "import_id", None) is not None:
        return JoinedVia.IMPORT
    return via


def missing_groups(user: User, groups: Sequence[Group]) -> list[Group]:
    """Those of ``groups`` that ``user`` is not in yet (one query)."""
    if not groups:
        return []
    present = set(db.session.scalars(
        db.select(GroupMember.group_id).where(
            GroupMember.user_id == user.id, GroupMember.group_id.in_([g.id for g in groups])
        )
    ))
    return [group for group in groups if group.id not in present]


def _locked_membership(org: Organization, user: User) -> Membership | None:
    """``user``'s membership of ``org``, read under a row lock; None for a newcomer (two
    newcomers at once then meet at the unique index, which the routes answer)."""
    return db.session.scalar(
        db.select(Membership).filter_by(org_id=org.id, user_id=user.id).with_for_update()
    )


def admit(
    org: Organization,
    user: User,
    role: str,
    groups: Sequence[Group],
    *,
    verb: str,
    describe: Callable[[Admission], str],
    actor: User | None = None,
    target: Any = None,
    refuse_unchanged: bool = False,
    access_until: datetime | None = None,
) -> Admission:
    """Make ``user`` a member of ``org`` with ``role`` and add them to the ``groups`` they are
    not in yet, in the caller's transaction (flushed, not committed).

    An existing member keeps their role: being let in again never changes it (so never
    lowers it). Records one activity line, ``verb`` with ``describe(admission)``, by
    ``actor`` (the admitted person unless staff let them in) about ``target`` (the
    invitation, link, request or page). A new membership keeps how it came about,
    :func:`way_in` of ``verb`` and ``target``. The membership row is read under a lock, so two
    ways in at the same moment are applied one after the other. ``refuse_unchanged``
    raises :class:`NothingToAdmit`, changing nothing, for someone already a member of
    every group offered: a way meant to let people in (a link, the Join Web Page) pressed
    twice at once must not count or record the second press. What each way tells people
    (the inviter, the requester) stays with that way.

    ``access_until`` ends a newcomer's access on a date (None: never); for a member it
    only ever extends theirs (:func:`invites.orgs.access.longer`). A newcomer needs a free
    seat: refuses (:class:`invites.orgs.seats.NoFreeSeat`) a full organization.
    """
    via = way_in(verb, target)
    membership = _locked_membership(org, user)
    joined = membership is None
    added = missing_groups(user, groups)
    if membership is not None and not added and refuse_unchanged:
        raise NothingToAdmit(f"You are already a member of {org.name}.")
    if membership is None:
        require_free_seat(org)
        membership = Membership(org_id=org.id, user_id=user.id, role=role, joined_via=via,
                                access_until=access_until)
        db.session.add(membership)
    elif (ends := longer(membership.access_until, access_until)) != membership.access_until:
        membership.access_until = ends
        membership.access_warned_at = None  # a new end gets its own warning
    for group in added:
        db.session.add(GroupMember(group_id=group.id, user_id=user.id))
    admission = Admission(membership, joined, added)
    record(org, actor or user, verb, describe(admission), target)
    policy.forget_roles(user)
    db.session.flush()
    if joined:
        emit(org, "member.joined", membership)
    return admission


def welcome(org: Organization, role_label: str | None, groups: Sequence[Group]) -> str:
    """What a person is told once in, the same for every way in: "You joined Acme
    Training as Member, and the group Safety Training." With no ``role_label`` they were a
    member already: "You joined the groups A and B." """
    names = [group.name for group in groups]
    listed = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    into = ("the group " if len(names) == 1 else "the groups ") + listed
    if role_label is None:
        return f"You joined {into}." if names else f"You are already a member of {org.name}."
    return f"You joined {org.name} as {role_label}" + (f", and {into}." if names else ".")
