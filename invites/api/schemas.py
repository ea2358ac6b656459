"""The JSON shapes of the API, as marshmallow schemas. flask-smorest reads requests and
writes responses through them and builds the OpenAPI document from them, so the document
cannot drift from what is served. Webhooks (issue 21) send resources in these shapes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from invites.errors import UNSTORABLE
from invites.invitations.messages import MAX_MESSAGE
from invites.invitations.queries import FILTERS as INVITATION_FILTERS
from invites.join_requests.models import RequestStatus
from invites.links.models import Access, Expiry
from invites.links.service import MAX_USES
from invites.orgs.models import JoinedVia, Role

MAX_BATCH = 500  # addresses in one "create invitations" request
PAGE_LIMIT = 100


class Text(fields.String):
    """A string the database can store: no NUL, no lone surrogate (security review F8)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if UNSTORABLE.search(text):
            raise ma.ValidationError("Holds a character that is not allowed (a NUL byte, for instance).")
        return text


class Time(fields.DateTime):
    """A moment in UTC, written with its offset (RFC 3339): the database keeps naive UTC."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class Schema(ma.Schema):
    class Meta:
        ordered = True


# --- What responses show -------------------------------------------------------------------

class GroupRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class Person(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    username = fields.String(required=True)


class PersonWithEmail(Person):
    email = fields.String(required=True)


class Invitation(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(Role.ALL))
    status = fields.String(required=True, attribute="shown_status",
                           validate=validate.OneOf(INVITATION_FILTERS),
                           metadata={"description": "pending, not_delivered, expired, accepted, declined or cancelled"})
    groups = fields.List(fields.Nested(GroupRef), required=True)
    message = fields.String(required=True)
    inviter = fields.Nested(Person, allow_none=True, required=True)
    created_at = Time(required=True)
    sent_at = Time(allow_none=True, required=True)
    expires_at = Time(required=True)
    responded_at = Time(allow_none=True, required=True)
    delivery_error = fields.String(allow_none=True, required=True,
                                   metadata={"description": "The mail server's reason when the last sending failed"})
    last_day_of_access = fields.Date(attribute="access_last_day", allow_none=True, required=True,
                                     metadata={"description": "Whoever accepts is a member until the end of this day (UTC)"})


class InviteLink(Schema):
    id = fields.Integer(required=True)
    url = fields.String(allow_none=True, required=True,
                        metadata={"description": "The link to share, while it is usable"})
    state = fields.String(required=True, validate=validate.OneOf(("active", "expired", "used_up", "deleted")))
    access = fields.String(required=True, validate=validate.OneOf(Access.ALL))
    role = fields.String(required=True, validate=validate.OneOf(Role.ALL))
    groups = fields.List(fields.Nested(GroupRef), required=True)
    max_uses = fields.Integer(allow_none=True, required=True)
    uses = fields.Integer(required=True)
    expires_at = Time(allow_none=True, required=True)
    allowed_domains = fields.List(fields.String(), attribute="domains", required=True)
    last_day_of_access = fields.Date(attribute="access_last_day", allow_none=True, required=True)
    created_by = fields.Nested(Person, allow_none=True, required=True)
    created_at = Time(required=True)


class JoinRequest(Schema):
    id = fields.Integer(required=True)
    person = fields.Nested(PersonWithEmail, attribute="user", required=True)
    message = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RequestStatus.LABELS))
    waiting = fields.Boolean(required=True, metadata={"description": "On the waiting list for a free seat"})
    created_at = Time(required=True)
    decided_at = Time(allow_none=True, required=True)


class Member(Schema):
    id = fields.Integer(required=True, metadata={"description": "The membership's id"})
    person = fields.Nested(PersonWithEmail, attribute="user", required=True)
    role = fields.String(required=True, validate=validate.OneOf(Role.ALL))
    joined_at = Time(attribute="created_at", required=True)
    joined_via = fields.String(allow_none=True, required=True, validate=validate.OneOf(JoinedVia.ALL))
    last_day_of_access = fields.Date(attribute="access_last_day", allow_none=True, required=True)


class Group(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    join_method = fields.String(required=True)
    created_at = Time(required=True)


def page_of(item: type[Schema], name: str) -> type[ma.Schema]:
    """The shape of a list: ``{"data": [...], "next_cursor": "..." or null}``."""
    return Schema.from_dict({
        "data": fields.List(fields.Nested(item), required=True),
        "next_cursor": fields.String(allow_none=True, required=True,
                                     metadata={"description": "Pass as ?cursor= for the next page; null on the last"}),
    }, name=name)


InvitationPage = page_of(Invitation, "InvitationPage")
InviteLinkPage = page_of(InviteLink, "InviteLinkPage")
JoinRequestPage = page_of(JoinRequest, "JoinRequestPage")
MemberPage = page_of(Member, "MemberPage")
GroupPage = page_of(Group, "GroupPage")


class Outcome(Schema):
    email = fields.String(required=True, attribute="address",
                          metadata={"description": "The address it went to (a member's username gives their "
                                                   "address); an entry that is no address, as given"})
    outcome = fields.String(required=True, validate=validate.OneOf(
        ("sent", "resent", "not_delivered", "already_member", "refused", "invalid")))
    detail = fields.String(required=True)
    invitation = fields.Nested(Invitation, allow_none=True, required=True)


class Outcomes(Schema):
    results = fields.List(fields.Nested(Outcome), required=True)


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, machine-readable"})
    message = fields.String(required=True)
    field = fields.String(allow_none=True, required=True)


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


# --- What requests send --------------------------------------------------------------------

class Paging(Schema):
    cursor = Text(load_default=None, validate=validate.Length(max=200))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, PAGE_LIMIT))


class InvitationFilters(Paging):
    status = fields.String(load_default=None, validate=validate.OneOf(INVITATION_FILTERS))
    email = Text(load_default=None, validate=validate.Length(max=254),
                 metadata={"description": "Part of the address"})
    group = fields.Integer(load_default=None, validate=validate.Range(1, 2**31 - 1))


class JoinRequestFilters(Paging):
    status = fields.String(load_default=RequestStatus.PENDING, validate=validate.OneOf(RequestStatus.LABELS))


class MemberFilters(Paging):
    search = Text(load_default=None, validate=validate.Length(max=120),
                  metadata={"description": "Part of a name, username or address"})


def _groups() -> fields.Field:
    return fields.List(fields.Integer(validate=validate.Range(1, 2**31 - 1)), load_default=list,
                       validate=validate.Length(max=100), metadata={"description": "Group ids"})


def _role() -> fields.Field:
    return fields.String(load_default=Role.MEMBER, validate=validate.OneOf(Role.ALL))


def _last_day() -> fields.Field:
    return fields.Date(load_default=None, allow_none=True,
                       metadata={"description": "Access ends after this day (UTC); none: no end"})


class NewInvitations(Schema):
    emails = fields.List(Text(validate=validate.Length(1, 320)), required=True,
                         validate=validate.Length(1, MAX_BATCH),
                         metadata={"description": f"Addresses or members' usernames, at most {MAX_BATCH}"})
    role = _role()
    groups = _groups()
    message = Text(load_default="", validate=validate.Length(max=MAX_MESSAGE))
    expires_in_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 365),
                                     metadata={"description": "None: the organization's invitation lifetime"})
    last_day_of_access = _last_day()


class InvitationChanges(Schema):
    role = fields.String(validate=validate.OneOf(Role.ALL))
    groups = fields.List(fields.Integer(validate=validate.Range(1, 2**31 - 1)), validate=validate.Length(max=100))
    expires_on = fields.Date(metadata={"description": "The invitation's new last day (UTC)"})


class NewInviteLink(Schema):
    access = fields.String(load_default=Access.MEMBERS, validate=validate.OneOf(Access.ALL))
    role = _role()
    groups = _groups()
    expiration = fields.String(load_default="7d", validate=validate.OneOf([key for key, _ in Expiry.CHOICES]))
    expires_on = fields.Date(load_default=None, allow_none=True,
                             metadata={"description": "With expiration \"custom\": the last day (UTC)"})
    max_uses = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, MAX_USES))
    allowed_domains = fields.List(Text(validate=validate.Length(1, 253)), load_default=list,
                                  validate=validate.Length(max=50),
                                  metadata={"description": "example.com or *.example.com; empty: any"})
    last_day_of_access = _last_day()


class RoleChange(Schema):
    role = fields.String(required=True, validate=validate.OneOf(Role.ALL))
