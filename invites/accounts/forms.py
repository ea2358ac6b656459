from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


def new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), Length(min=8, max=200, message="Use at least 8 characters.")]
    )


def repeat_password_field(label: str) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in")


class RegisterForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=2, max=40),
            Regexp(USERNAME_PATTERN, message="Use letters, digits, dots, dashes and underscores."),
        ],
    )
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = new_password_field("Password")
    confirm = repeat_password_field("Repeat password")


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)]
    )
    password = new_password_field("New password")
    confirm = repeat_password_field("Repeat new password")
