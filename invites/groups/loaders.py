from invites.accounts.models import User
from invites.extensions import db
from invites.groups.models import Group
from invites.orgs.models import Membership


def load_group(org, group_id):
    """A group of ``org`` by id, or 404 — never another organization's group."""
    return db.first_or_404(db.select(Group).filter_by(id=group_id, org_id=org.id))


def load_user(org, user_id):
    """A member of ``org`` by account id, or 404: an account of another organization (or
    of none) is never loaded, so its name cannot be read through a group's URLs."""
    return db.first_or_404(
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.org_id == org.id)
    )
