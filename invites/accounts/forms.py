from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, EmailField, Field, HiddenField, PasswordField, SelectField, StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from invites.accounts.service import clean_name
from invites.forms import FixedSelect, choices
from invites.times import ZONE_CHOICES, known_zone

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"


# autocomplete lets phones and password managers fill in and suggest the right things.
def new_password_field(label: str) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), Length(min=8, max=200, message="Use at least 8 characters.")],
        render_kw={"autocomplete": "new-password"},
    )


def repeat_password_field(label: str) -> PasswordField:
    return PasswordField(
        label, validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me logged in")


def name_field() -> StringField:
    # Cleaned first (one line, no invisible characters), so the length is what is kept.
    return StringField("Full name", filters=[clean_name], validators=[DataRequired(), Length(max=120)],
                       render_kw={"autocomplete": "name"})


def _trimmed(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def username_field(**extra: Any) -> StringField:
    return StringField(
        "Username",
        filters=[_trimmed],
        validators=[
            DataRequired(),
            Length(min=2, max=40),
            Regexp(USERNAME_PATTERN, message="Use letters, digits, dots, dashes and underscores."),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
        **extra,
    )


class RegisterForm(FlaskForm):
    name = name_field()
    username = username_field()
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = new_password_field("Password")
    confirm = repeat_password_field("Repeat password")
    # Filled by static/app.js with the browser's zone; empty without JavaScript (UTC).
    time_zone = HiddenField()


class ProfileForm(FlaskForm):
    """The name and username others see (in member lists, invitations, @mentions)."""

    name = name_field()
    username = username_field(description="Others can find you by it when they invite people.")


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field("New password")
    confirm = repeat_password_field("Repeat new password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(FlaskForm):
    password = new_password_field("New password")
    confirm = repeat_password_field("Repeat new password")


def offered_zone(form: FlaskForm, field: Field) -> None:
    if known_zone(field.data) is None:
        raise ValidationError("Choose a time zone from the list.")


_ZONES = choices(ZONE_CHOICES)


class TimeZoneForm(FlaskForm):
    # Checked by offered_zone, whose message says what to do ("Not a valid choice" does not).
    time_zone = SelectField(
        "Time zone", choices=_ZONES, validate_choice=False, validators=[offered_zone], widget=FixedSelect(_ZONES),
        description="Dates and times on every page are shown in this zone.",
    )
