"""Form pieces shared by every concept."""
from flask_wtf import FlaskForm
from wtforms import SelectChoice


class EmptyForm(FlaskForm):
    """For button-only POSTs: it carries nothing but the CSRF token."""


def choices(pairs):
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]
