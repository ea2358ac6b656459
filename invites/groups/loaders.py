from flask import abort

from invites.accounts.models import User
from invites.extensions import db
from invites.groups.models import Group


def load_group(org, group_id):
    """A group of ``org`` by id, or 404 — never another organization's group."""
    group = db.session.scalar(db.select(Group).filter_by(id=group_id, org_id=org.id))
    if group is None:
        abort(404)
    return group


def load_user(user_id):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user
