from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from invites.forms import choices
from invites.orgs.models import Role
from invites.orgs.service import MAX_MEMBER_LIMIT

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class OrganizationForm(FlaskForm):
    name = StringField("Organization name", validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        "Short name for addresses",
        description="Lower-case letters, digits and hyphens. Leave empty to derive it from the name.",
        validators=[
            Optional(),
            Length(min=2, max=60),
            Regexp(SLUG_PATTERN, message="Use lower-case letters, digits and single hyphens."),
        ],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=choices(Role.choices()))


class AccessForm(FlaskForm):
    """A member's last day of access, on the Members panel (issue 19); empty: no end."""

    access_until = DateField("Access until", validators=[Optional()])


class PermissionsForm(FlaskForm):
    managers_may_add_people = BooleanField("Managers")
    members_may_add_people = BooleanField("Members")
    require_group_on_invite = BooleanField("Invitations must add people to at least one group")
    invitation_lifetime_days = IntegerField(
        "Invitations expire after (days)",
        validators=[DataRequired(), NumberRange(min=1, max=365)],
    )
    reminder_days_before = SelectField(
        "Remind invitees who have not answered",
        choices=choices([(0, "No reminders"), (1, "1 day before the invitation expires")]
                        + [(days, f"{days} days before the invitation expires") for days in (2, 3, 5, 7)]),
        coerce=int,
        description="One reminder email (and a notification, for people with an account), with a fresh link. "
                    "Answering, cancelling or resending stops it.",
    )
    reminder_halfway = BooleanField("Also remind them halfway through the invitation's life")
    member_limit = IntegerField(
        "Member limit (optional)", validators=[Optional(), NumberRange(min=1, max=MAX_MEMBER_LIMIT)],
        description="The most members, owners included. When every seat is taken, nobody new joins: "
                    "people accepting an invitation or using an invite link go on the waiting list "
                    "under Join Requests. Leave empty for no limit.",
    )
