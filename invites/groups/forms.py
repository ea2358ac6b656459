from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from invites.forms import choices
from invites.groups.models import JoinMethod


class GroupForm(FlaskForm):
    name = StringField("Group name", validators=[DataRequired(), Length(max=80)])
    join_method = SelectField(
        "Join method",
        choices=choices(JoinMethod.LABELS.items()),
        default=JoinMethod.INVITE_ONLY,
        description="Open: members join by themselves. Invite only: managers add people. "
        "Request: members ask and managers decide.",
    )


class AddGroupMemberForm(FlaskForm):
    person = StringField(
        "Username or email of a member",
        validators=[DataRequired(), Length(max=254)],
    )
    is_manager = BooleanField("Group manager")
