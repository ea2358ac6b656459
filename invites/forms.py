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


def offer_roles_and_groups(form, user, org, fresh=False, preset_group=None):
    """Limit ``form.role`` to roles ``user`` may grant and ``form.groups`` to groups they
    may invite into (F5), so a forged value is a form error. Sets ``allowed_roles`` and
    ``allowed_groups`` on the form. A ``fresh`` (unsubmitted) form gets Member and the
    ``preset_group`` (an id) ticked."""
    from invites import policy
    from invites.groups.models import Group
    from invites.extensions import db
    from invites.orgs.models import Role

    roles = Role.choices(at_most=policy.role_of(user, org))
    form.role.choices = choices(roles)
    form.allowed_roles = [value for value, _ in roles]
    groups = db.session.scalars(db.select(Group).filter_by(org_id=org.id).order_by(Group.name)).all()
    allowed = [(g.id, g.name) for g in groups if policy.can(user, "groups.invite", org, g)]
    form.groups.choices = choices(allowed)
    form.allowed_groups = [gid for gid, _ in allowed]
    if fresh and form.allowed_roles:
        form.role.data = Role.MEMBER if Role.MEMBER in form.allowed_roles else form.allowed_roles[-1]
        form.groups.data = [preset_group] if preset_group in form.allowed_groups else []
    return form
