"""The API's operations. Each is thin: read the request through its schema, load the
organization's object (404 for anything of another organization), ask the policy, call
the same service the panel calls, commit, and answer in the resource's shape."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from invites import policy
from invites.accounts.models import User
from invites.api import auth
from invites.api import schemas as s
from invites.api.paging import keyset
from invites.errors import DomainError, api_status, has_id_out_of_range, json_error
from invites.extensions import csrf, db, limiter
from invites.groups.loaders import groups_in_order, load_groups
from invites.groups.models import Group
from invites.invitations import editing, sending
from invites.invitations.editing import last_day
from invites.invitations.loaders import load_invitation
from invites.invitations.models import Invitation
from invites.invitations.queries import filtered_invitations
from invites.join_requests import service as join_requests
from invites.join_requests.loaders import load_join_request
from invites.join_requests.models import JoinRequest
from invites.links import service as links
from invites.links.loaders import load_link
from invites.links.models import InviteLink
from invites.orgs import service as orgs
from invites.orgs.loaders import load_membership
from invites.orgs.access import end_of
from invites.orgs.models import Membership

bp = Blueprint(
    "api", __name__, url_prefix="/api/v1",
    description="Invitations, invite links, join requests, members and groups of the "
                "token's organization.",
)
bp.before_request(auth.authenticate)
bp.teardown_request(lambda error: auth.forget())
csrf.exempt(bp)  # no cookies are read here: a request without a bearer token is refused
limiter.limit(auth.rate_limit, key_func=auth.rate_key)(bp)


@bp.before_request
def refuse_ids_out_of_range() -> None:
    """404 for a path id no row can have (after the token is checked): SQLite cannot even
    bind an integer past 64 bits (an OverflowError, a 500), so it never reaches a query."""
    if has_id_out_of_range():
        abort(404)


# The outcome words of the API for the form's outcome kinds (sending.Outcome.kind).
OUTCOMES = {"member": "already_member"}

# The services name fields as the panels' forms do; these are named otherwise in the API.
API_FIELDS = {"addresses": "emails", "access_until": "last_day_of_access", "custom_date": "expires_on"}


@bp.errorhandler(DomainError)
def refused(error: DomainError) -> ResponseReturnValue:
    """A refusal as invites.errors answers it in the API, with the field named as the
    request names it (a form's field name would name nothing the client sent)."""
    db.session.rollback()
    field = API_FIELDS.get(error.field, error.field) if error.field else None
    return json_error(api_status(error), error.message, error.code, field)


def _require(action: str, obj: Any = None) -> None:
    policy.require(auth.actor(), action, auth.org(), obj)


def _groups(ids: Sequence[int]) -> Sequence[Group]:
    """The organization's groups with these ids; an id of no group of it is refused."""
    groups = load_groups(auth.org(), ids)
    if len(groups) != len(set(ids)):
        missing = sorted(set(ids) - {g.id for g in groups})
        raise DomainError(f"No group of this organization has the id {missing[0]}.", "groups")
    return groups


# --- Invitations ---------------------------------------------------------------------------

def _invitation_loading() -> list[Any]:
    return [joinedload(Invitation.inviter).load_only(User.name, User.username),
            selectinload(Invitation.groups).load_only(Group.name)]


@bp.route("/invitations")
@bp.arguments(s.InvitationFilters, location="query")
@bp.response(200, s.InvitationPage)
def list_invitations(args: dict[str, Any]) -> dict[str, Any]:
    """List invitations, newest first, filtered as the Invitations panel is."""
    _require("invitations.manage")
    query = filtered_invitations(auth.org(), args["status"], args["email"], args["group"])
    return keyset(query.options(*_invitation_loading()), Invitation, args["cursor"], args["limit"])


@bp.route("/invitations", methods=["POST"])
@bp.arguments(s.NewInvitations)
@bp.response(200, s.Outcomes)
def create_invitations(args: dict[str, Any]) -> dict[str, Any]:
    """Invite up to 500 addresses (or members' usernames) and mail them at once.

    Each address gets its own outcome, as on the form: sent, resent (it had a pending
    invitation: a new link went out), not_delivered (saved; the mail server refused it),
    already_member, refused (with the reason) or invalid. A rule no address could pass
    (a role above the token owner's, a group they may not invite into...) refuses the
    whole request and sends nothing."""
    org, actor = auth.org(), auth.actor()
    _require("people.invite")
    try:
        outcomes = sending.send_invitations(
            org, actor, args["emails"], args["role"], _groups(args["groups"]), args["message"],
            commit=db.session.commit, access_until=end_of(args["last_day_of_access"]),
            limit=s.MAX_BATCH, lifetime_days=args["expires_in_days"],
        )
    except IntegrityError:  # another request saved one of these addresses (or the day's mail count) meanwhile
        db.session.rollback()  # (nothing was mailed: mail goes out only after the save)
        raise DomainError("Another request was inviting some of these addresses at the same moment; "
                          "nothing was saved or sent. Send this request again.", code="conflict") from None
    db.session.commit()
    invitations = _reloaded([o.invitation for o in outcomes if o.invitation is not None])
    return {"results": [_outcome(o, invitations) for o in outcomes]}


def _id(invitation: Invitation) -> int:
    """The id of an invitation the commit expired, without loading it again (reading
    ``.id`` would, one query each)."""
    identity = inspect(invitation).identity
    return int(identity[0]) if identity else int(invitation.id)


def _reloaded(invitations: Sequence[Invitation]) -> dict[int, Invitation]:
    """The invitations of a batch after its last commit, by id, in two queries."""
    ids = [_id(i) for i in invitations]
    if not ids:
        return {}
    rows = db.session.scalars(db.select(Invitation).options(*_invitation_loading()).where(Invitation.id.in_(ids)))
    return {row.id: row for row in rows}


def _outcome(outcome: sending.Outcome, invitations: dict[int, Invitation]) -> dict[str, Any]:
    invitation = invitations.get(_id(outcome.invitation)) if outcome.invitation is not None else None
    return {"address": outcome.address, "outcome": OUTCOMES.get(outcome.kind, outcome.kind),
            "detail": outcome.detail, "invitation": invitation}


def _invitation(invitation_id: int) -> Invitation:
    invitation = load_invitation(auth.org(), invitation_id)
    _require("invitations.manage", invitation)
    return invitation


@bp.route("/invitations/<int:invitation_id>")
@bp.response(200, s.Invitation)
def get_invitation(invitation_id: int) -> Invitation:
    """One invitation."""
    return _invitation(invitation_id)


@bp.route("/invitations/<int:invitation_id>", methods=["PATCH"])
@bp.arguments(s.InvitationChanges, required=False)  # every field may be left out
@bp.response(200, s.Invitation)
def edit_invitation(args: dict[str, Any], invitation_id: int) -> Invitation:
    """Change a pending invitation's role, groups or last day; what is left out stays.
    The link keeps working and reads the new terms (the lifecycle's "Edit")."""
    invitation = _invitation(invitation_id)
    groups = _groups(args["groups"]) if "groups" in args else list(invitation.groups)
    editing.edit_invitation(auth.org(), auth.actor(), invitation, args.get("role", invitation.role),
                            groups, args.get("expires_on", last_day(invitation)))
    db.session.commit()
    return load_invitation(auth.org(), invitation_id)


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
@bp.response(200, s.Outcome)
def resend_invitation(invitation_id: int) -> dict[str, Any]:
    """Send again with a new link and expiry (the old link stops working); an expired
    invitation is renewed. Refused for accepted, declined and cancelled ones (409)."""
    invitation = _invitation(invitation_id)
    outcome = sending.resend_invitation(auth.org(), auth.actor(), invitation, commit=db.session.commit)
    db.session.commit()
    return _outcome(outcome, _reloaded([invitation]))


@bp.route("/invitations/<int:invitation_id>/cancel", methods=["POST"])
@bp.response(200, s.Invitation)
def cancel_invitation(invitation_id: int) -> Invitation:
    """Cancel: the link stops working. Refused once answered (409)."""
    invitation = _invitation(invitation_id)
    sending.cancel_invitation(auth.org(), auth.actor(), invitation)
    db.session.commit()
    return load_invitation(auth.org(), invitation_id)


# --- Invite links --------------------------------------------------------------------------

@bp.route("/invite-links")
@bp.arguments(s.Paging, location="query")
@bp.response(200, s.InviteLinkPage)
def list_links(args: dict[str, Any]) -> dict[str, Any]:
    """The invite links that are not deleted, newest first (active and lapsed)."""
    _require("links.manage")
    found = keyset(links.live_links(auth.org()), InviteLink, args["cursor"], args["limit"])
    return {**found, "data": [_with_url(link) for link in found["data"]]}


def _with_url(link: InviteLink) -> InviteLink:
    setattr(link, "url", links.address_of(link))  # shown, not stored: schemas.InviteLink.url
    return link


@bp.route("/invite-links", methods=["POST"])
@bp.arguments(s.NewInviteLink, required=False)  # every field has a default
@bp.response(201, s.InviteLink)
def create_link(args: dict[str, Any]) -> InviteLink:
    """Make an invite link; its ``url`` is the link to share."""
    _require("links.create")
    link, _ = links.create_link(
        auth.org(), auth.actor(), expiration=args["expiration"], custom_date=args["expires_on"],
        access=args["access"], role=args["role"], groups=_groups(args["groups"]),
        max_uses=args["max_uses"], allowed_domains="\n".join(args["allowed_domains"]),
        access_until=args["last_day_of_access"],
    )
    db.session.commit()
    return _with_url(load_link(auth.org(), link.id))


@bp.route("/invite-links/<int:link_id>")
@bp.response(200, s.InviteLink)
def get_link(link_id: int) -> InviteLink:
    """One invite link (deleted ones too)."""
    link = load_link(auth.org(), link_id)
    _require("links.edit", link)
    return _with_url(link)


@bp.route("/invite-links/<int:link_id>", methods=["DELETE"])
@bp.response(200, s.InviteLink)
def revoke_link(link_id: int) -> InviteLink:
    """Revoke (the panel's "Delete"): the link stops working and says it was deleted."""
    link = load_link(auth.org(), link_id)
    _require("links.edit", link)
    links.delete_link(auth.org(), auth.actor(), link)
    db.session.commit()
    return _with_url(load_link(auth.org(), link_id))


# --- Join requests -------------------------------------------------------------------------

@bp.route("/join-requests")
@bp.arguments(s.JoinRequestFilters, location="query")
@bp.response(200, s.JoinRequestPage)
def list_join_requests(args: dict[str, Any]) -> dict[str, Any]:
    """Join requests, newest first: pending ones unless ``status`` says otherwise."""
    _require("join_requests.manage")
    query = join_requests.filtered_requests(auth.org(), args["status"])
    return keyset(query, JoinRequest, args["cursor"], args["limit"])


def _join_request(request_id: int) -> JoinRequest:
    join_request = load_join_request(auth.org(), request_id)
    _require("join_requests.manage", join_request)
    return join_request


@bp.route("/join-requests/<int:request_id>/<any(accept, reject):decision>", methods=["POST"])
@bp.response(200, s.JoinRequest)
def decide_join_request(request_id: int, decision: str) -> JoinRequest:
    """Accept (the person becomes a member with the role and groups of the way they came
    by) or reject (they may not ask again); they are told by mail. Refused (409) once
    decided, for an unconfirmed address on accept, and when no seat is free."""
    join_request = _join_request(request_id)
    decide = join_requests.accept_request if decision == "accept" else join_requests.reject_request
    try:
        decide(auth.org(), auth.actor(), join_request)
        db.session.commit()
    except IntegrityError:  # accepted at the same moment by someone else
        db.session.rollback()
        raise DomainError(f"{join_request.user.name} is already a member.", code="already_member") from None
    join_requests.mail_decision(join_request)
    db.session.commit()
    return load_join_request(auth.org(), request_id)


@bp.route("/join-requests/<int:request_id>", methods=["DELETE"])
@bp.response(204)
def dismiss_join_request(request_id: int) -> None:
    """Dismiss: the request is deleted without an answer; the person may ask again."""
    join_requests.dismiss_request(auth.org(), auth.actor(), _join_request(request_id))
    db.session.commit()


# --- Members and groups --------------------------------------------------------------------

@bp.route("/members")
@bp.arguments(s.MemberFilters, location="query")
@bp.response(200, s.MemberPage)
def list_members(args: dict[str, Any]) -> dict[str, Any]:
    """Members, newest first; ``search`` matches inside names, usernames and addresses."""
    _require("members.view")
    return keyset(orgs.members_matching(auth.org(), args["search"]), Membership, args["cursor"], args["limit"])


def _membership(membership_id: int, action: str) -> Membership:
    membership = load_membership(auth.org(), membership_id)
    _require(action, membership)
    return membership


@bp.route("/members/<int:membership_id>")
@bp.response(200, s.Member)
def get_member(membership_id: int) -> Membership:
    """One member."""
    return _membership(membership_id, "members.view")


@bp.route("/members/<int:membership_id>", methods=["PATCH"])
@bp.arguments(s.RoleChange)
@bp.response(200, s.Member)
def change_role(args: dict[str, Any], membership_id: int) -> Membership:
    """Change a member's role; an organization keeps at least one owner (409)."""
    membership = _membership(membership_id, "members.change_role")
    orgs.change_role(auth.org(), auth.actor(), membership, args["role"])
    db.session.commit()
    policy.forget_roles(auth.actor())
    return load_membership(auth.org(), membership_id)


@bp.route("/members/<int:membership_id>", methods=["DELETE"])
@bp.response(204)
def remove_member(membership_id: int) -> None:
    """Remove someone from the organization and its groups; never the last owner (409)."""
    orgs.remove_member(auth.org(), auth.actor(), _membership(membership_id, "members.remove"))
    db.session.commit()


@bp.route("/groups")
@bp.arguments(s.Paging, location="query")
@bp.response(200, s.GroupPage)
def list_groups(args: dict[str, Any]) -> dict[str, Any]:
    """The organization's groups, newest first."""
    _require("groups.view")
    return keyset(groups_in_order(auth.org()), Group, args["cursor"], args["limit"])

