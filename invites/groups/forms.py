"""Group forms, and the role and group choices every inviting form offers."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from invites import policy
from invites.accounts.models import User
from invites.forms import choices
from invites.groups.loaders import groups_of
from invites.groups.models import JoinMethod
from invites.orgs.models import Organization, Role


class GroupForm(FlaskForm):
    name = StringField("Group name", validators=[DataRequired(), Length(max=80)])
    join_method = SelectField(
        "Join method",
        choices=choices(JoinMethod.LABELS.items()),
        default=JoinMethod.INVITE_ONLY,
        description="Open: members join by themselves. Invite only: managers add people. "
        "Request: members ask and managers decide.",
    )
    description = TextAreaField(
        "Description", validators=[Length(max=1000)],
        description="Optional. Shown on the group's page and in the invitations into it.",
    )


class AddGroupMemberForm(FlaskForm):
    person = StringField(
        "Username or email of a member",
        validators=[DataRequired(), Length(max=254)],
    )
    is_manager = BooleanField("Group manager")


def offer_roles_and_groups(
    form: FlaskForm, user: User, org: Organization, fresh: bool = False,
    preset_group: int | None = None,
) -> FlaskForm:
    """Limit ``form.role`` to roles ``user`` may grant and ``form.groups`` to groups they
    may invite into (F5), so a forged value is a form error. Sets ``allowed_roles`` and
    ``allowed_groups`` on the form. A ``fresh`` (unsubmitted) form gets Member and the
    ``preset_group`` (an id) ticked."""
    roles = Role.choices(at_most=policy.role_of(user, org))
    form.role.choices = choices(roles)
    form.allowed_roles = [value for value, _ in roles]
    allowed = [(g.id, g.name) for g in groups_of(org) if policy.can(user, "groups.invite", org, g)]
    form.groups.choices = choices(allowed)
    form.allowed_groups = [gid for gid, _ in allowed]
    if fresh and form.allowed_roles:
        form.role.data = Role.MEMBER if Role.MEMBER in form.allowed_roles else form.allowed_roles[-1]
        form.groups.data = [preset_group] if preset_group in form.allowed_groups else []
    return form
