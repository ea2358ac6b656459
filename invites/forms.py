"""Form pieces shared by every concept."""
from flask import render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectChoice


class EmptyForm(FlaskForm):
    """For button-only POSTs: it carries nothing but the CSRF token."""


def choices(pairs):
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def unconfirmed(form, *, title, message, action, button, cancel):
    """The server-side confirmation of a destructive POST, or None once confirmed.

    With JavaScript the button's ``hx-confirm`` asks and ``hx-vals`` sends
    ``confirmed=yes``; without it the first POST answers this page, whose form posts
    again with ``confirmed=yes``.
    """
    if request.form.get("confirmed") == "yes":
        return None
    return render_template(
        "confirm.html", title=title, message=message, action=action, button=button,
        cancel=cancel, form=form,
    )
