from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from invites.forms import access_until_field, choices
from invites.links.models import Access, Expiry
from invites.links.service import MAX_USES


class LinkForm(FlaskForm):
    """F11 "New Invite". Role, group and access choices are set per request."""

    expiration = RadioField("Expiration", choices=choices(Expiry.CHOICES), default="7d")
    custom_date = DateField("Last day the link works", validators=[Optional()],
                            description="For a custom date: the link works until the end of this day (UTC).")
    access = RadioField("Who may use it", choices=choices(Access.LABELS.items()), default=Access.MEMBERS)
    role = SelectField("Role", description="For people who join the organization through the link.")
    groups = SelectMultipleField(
        "Groups", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    max_uses = IntegerField(
        "Maximum number of uses (optional)",
        validators=[Optional(), NumberRange(min=1, max=MAX_USES)],
        description="Leave empty for no limit.",
    )
    allowed_domains = TextAreaField(
        "Allowed email domains (optional)",
        description="One per line, like example.com; *.example.com allows its subdomains. "
                    "With domains listed, only confirmed addresses at them may use the link.",
        validators=[Length(max=5000)],
    )
    access_until = access_until_field()


class ShareForm(FlaskForm):
    addresses = TextAreaField(
        "Email addresses",
        description="Up to 10, separated by commas, semicolons, spaces or new lines.",
        validators=[DataRequired(message="Enter at least one email address."), Length(max=5000)],
    )
    note = TextAreaField("Message (optional)", validators=[Optional(), Length(max=2000)])
