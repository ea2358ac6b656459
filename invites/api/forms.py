from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from invites.api.models import Scope
from invites.api.service import MAX_NAME
from invites.forms import choices


class TokenForm(FlaskForm):
    """"New token" on the API Tokens panel."""

    name = StringField("Name", description="What will use it, e.g. “HR sync” or “LMS”.",
                       validators=[DataRequired(), Length(max=MAX_NAME)])
    scope = RadioField("It may", choices=choices(list(Scope.LABELS.items())), default=Scope.READ)
    last_day = DateField("Last day (optional)", validators=[Optional()],
                         description="The token stops working after this day (UTC). Leave empty for no end.")
