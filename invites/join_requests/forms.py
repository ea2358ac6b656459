from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from invites.forms import choices
from invites.join_requests.models import LINK_ROLES, Notify
from invites.orgs.models import Role


class JoinLinkForm(FlaskForm):
    """F12 "Create Link" and "Edit". Group and recipient choices are set per request."""

    description = StringField(
        "Description", validators=[DataRequired(message="Describe the link."), Length(max=200)],
        description="People who follow the link see it, e.g. “Volunteers for the spring fair”.",
    )
    role = RadioField("Role", choices=choices([(r, Role.LABELS[r]) for r in LINK_ROLES]), default=Role.MEMBER)
    # The groups chosen so far travel as hidden inputs; "Add" and "Remove" change them.
    groups = SelectMultipleField("Groups", coerce=int)
    group_to_add = SelectField("Add accepted people to", validate_choice=False)
    notify = RadioField("Who is notified", choices=choices(Notify.LABELS.items()), default=Notify.ALL)
    recipients = SelectMultipleField(
        "Owners and managers to notify", coerce=int,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    active = BooleanField("Active", default=True)


class RequestForm(FlaskForm):
    message = TextAreaField("Message (optional)", validators=[Optional(), Length(max=2000)],
                            description="Tell the organization who you are and why you would like to join.")
