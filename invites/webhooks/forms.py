from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from invites.forms import choices
from invites.webhooks.outbox import EVENT_TYPES
from invites.webhooks.service import MAX_DESCRIPTION
from invites.webhooks.transport import MAX_URL


def _events_field() -> SelectMultipleField:
    return SelectMultipleField(
        "Events to send", choices=choices((event, f"{event}: {about}") for event, about in EVENT_TYPES.items()),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="None chosen: every event, including those added in later versions.",
    )


class EndpointForm(FlaskForm):
    """"Add endpoint" on the Webhooks panel."""

    url = StringField("Receiver URL", description="An https:// address that answers POST requests with a 2xx status.",
                      validators=[DataRequired(), Length(max=MAX_URL)])
    description = StringField("Description (optional)", validators=[Optional(), Length(max=MAX_DESCRIPTION)])
    events = _events_field()


class EventsForm(FlaskForm):
    """The events an endpoint hears, on its page."""

    events = _events_field()
