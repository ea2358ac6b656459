from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget
from invites.forms import access_until_field


class JoinPageForm(FlaskForm):
    enabled = BooleanField("Join Web Page is on")
    slug = StringField(
        "Address", validators=[DataRequired(), Length(max=60)],
        description="Letters, digits and hyphens. Changing it retires the old address.",
    )
    groups = SelectMultipleField(
        "Groups people join", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )
    allowed_domains = TextAreaField(
        "Allowed email domains",
        description="One per line, like example.com; *.example.com allows its subdomains. "
                    "Leave empty to let anyone join. With domains listed, only confirmed "
                    "addresses at them may join.",
        validators=[Length(max=5000)],
    )
    access_until = access_until_field()
