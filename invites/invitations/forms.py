"""Email invitations: the "Invite Member" form, editing a pending invitation, and the
invitation email settings."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from invites.invitations.addresses import MAX_ADDRESSES
from invites.invitations.messages import MAX_MESSAGE
from invites.forms import access_until_field


class InviteForm(FlaskForm):
    """F7 "Invite Member". Role and group choices are set per request from the policy."""

    addresses = TextAreaField(
        "Email addresses or members",
        description=f"Up to {MAX_ADDRESSES}, separated by commas, semicolons, spaces or new lines. "
                    "Type @username (or use Find a member) for someone already in the organization.",
        validators=[DataRequired(message="Enter at least one email address or member."), Length(max=5000)],
    )
    role = SelectField("Role")
    groups = SelectMultipleField(
        "Groups", coerce=int,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    message = TextAreaField(
        "Personal message (optional)", validators=[Optional(), Length(max=MAX_MESSAGE)]
    )
    access_until = access_until_field()


class EditInvitationForm(FlaskForm):
    """Editing a pending invitation (issue 18). Role and group choices are set per request
    from the policy, as for :class:`InviteForm`."""

    role = SelectField("Role")
    groups = SelectMultipleField(
        "Groups", coerce=int,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    expires_on = DateField(
        "Last day to answer", validators=[DataRequired(message="Pick the last day to answer.")],
        description="The invitation can be answered until the end of this day (UTC).",
    )


class InvitationEmailForm(FlaskForm):
    """F7: the owners' per-organization onboarding paragraph. The subject is the
    platform's own ("<inviter> invited you to join <organization>"), never free text."""

    invitation_intro = TextAreaField(
        "Onboarding message",
        description="A paragraph shown near the top of every invitation email. Plain text.",
        validators=[Optional(), Length(max=2000)],
    )
