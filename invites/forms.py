"""Form pieces shared by every concept."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import DateField, Field, SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import Select, html_params


class EmptyForm(FlaskForm):
    """For button-only POSTs: it carries nothing but the CSRF token."""


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class FixedSelect(Select):
    """A ``<select>`` over a list of choices that never changes (the time zones): its
    options are written once, then each render marks the chosen one. WTForms' own widget
    writes each of the ~500 zones on every render, most of the Account page's time. The
    markup is WTForms' (``<option selected value="UTC">UTC</option>``)."""

    def __init__(self, choices: list[SelectChoice]) -> None:
        super().__init__()
        self.options = {c.value: html_params(value=c.value, **c.render_kw) for c in choices}
        self.written = "".join(
            f"<option {params}>{escape(c.label)}</option>" for c, params in zip(choices, self.options.values())
        )

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = getattr(field.flags, flag)
        options = self.written
        params = self.options.get(field.data) if isinstance(field.data, str) else None
        if params is not None:
            options = options.replace(f"<option {params}>", f"<option selected {params}>", 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def confirm_first(*, title: str, message: str, button: str, cancel: str) -> ResponseReturnValue | None:
    """The server-side confirmation of a destructive POST: None once it is confirmed, else
    the answer to return (the page that asks, or back to ``cancel`` without a valid form).

    With JavaScript the button's ``hx-confirm`` asks and ``hx-vals`` sends
    ``confirmed=yes``; without it the first POST answers this page, whose form posts
    again to the same address with ``confirmed=yes``.
    """
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(cancel)
    if request.form.get("confirmed") == "yes":
        return None
    return render_template(
        "confirm.html", title=title, message=message, button=button, cancel=cancel, form=form,
        action=request.full_path if request.query_string else request.path,
    )


def access_until_field() -> DateField:
    """"Last day of access" of a way in (issue 19): the people it admits lose access at
    the end of that day; empty, never. The services read it with invites.orgs.access.end_of."""
    return DateField(
        "Last day of access (optional)", validators=[Optional()],
        description="People who join this way are removed at the end of this day (UTC), "
                    "after a warning a week before. Leave empty for access without an end.",
    )
