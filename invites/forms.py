"""Form pieces shared by every concept."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import render_template, request
from flask_wtf import FlaskForm
from wtforms import SelectChoice

class EmptyForm(FlaskForm):
    """For button-only POSTs: it carries nothing but the CSRF token."""


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def unconfirmed(
    form: FlaskForm, *, title: str, message: str, action: str, button: str, cancel: str
) -> str | None:
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
