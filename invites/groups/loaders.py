from invites.accounts.models import User
from invites.extensions import db
from invites.groups.models import Group


def load_group(org, group_id):
    """A group of ``org`` by id, or 404 — never another organization's group."""
    return db.first_or_404(db.select(Group).filter_by(id=group_id, org_id=org.id))


def load_user(user_id):
    return db.get_or_404(User, user_id)
