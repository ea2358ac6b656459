"""Groups inside an organization (F4)."""
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func
from sqlalchemy.orm import joinedload

from invites import policy
from invites.accounts.models import User
from invites.activity.service import record
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import Group, GroupMember, JoinMethod
from invites.orgs.models import Membership, Organization
from invites.pagination import paginate


def _check_name(org: Organization, name: str | None, group: Group | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the group a name.", "name")
    if len(name) > 80:
        raise DomainError("Use at most 80 characters.", "name")
    query = db.select(Group.id).where(Group.org_id == org.id, func.lower(Group.name) == name.lower())
    if group is not None:
        query = query.where(Group.id != group.id)
    if db.session.scalar(query) is not None:
        raise DomainError(f"There is already a group called {name}.", "name")
    return name


def _check_join_method(join_method: str) -> str:
    if join_method not in JoinMethod.ALL:
        raise DomainError("Choose one of the listed join methods.", "join_method")
    return join_method


def _clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > 1000:
        raise DomainError("Keep the description under 1,000 characters.", "description")
    return description


def create_group(
    org: Organization, actor: User, name: str | None, join_method: str = JoinMethod.INVITE_ONLY,
    description: str | None = "",
) -> Group:
    """Create a group. Refuses an empty or duplicate name (case-insensitively)."""
    group = Group(org_id=org.id, name=_check_name(org, name), join_method=_check_join_method(join_method),
                  description=_clean_description(description))
    db.session.add(group)
    db.session.flush()
    record(org, actor, "group.created", f"created the group {group.name}", group)
    return group


def update_group(
    org: Organization, actor: User, group: Group, name: str | None, join_method: str,
    description: str | None = None,
) -> list[str]:
    """Rename a group, change its join method and (unless None) its description.
    Refuses duplicate names."""
    name = _check_name(org, name, group)
    join_method = _check_join_method(join_method)
    changes = []
    if description is not None and _clean_description(description) != group.description:
        group.description = _clean_description(description)
        changes.append(f"changed the description of the group {group.name}")
    if name != group.name:
        changes.append(f"renamed the group {group.name} to {name}")
        group.name = name
    if join_method != group.join_method:
        group.join_method = join_method
        changes.append(f"set {name}'s join method to {group.join_method_label}")
    for change in changes:
        record(org, actor, "group.updated", change, group)
    return changes


def delete_group(org: Organization, actor: User, group: Group) -> None:
    name = group.name
    db.session.execute(db.delete(GroupMember).where(GroupMember.group_id == group.id))
    db.session.delete(group)
    policy.forget_roles(actor)  # and every group entry read this request
    record(org, actor, "group.deleted", f"deleted the group {name}", group)


def find_member(org: Organization, username_or_email: str | None) -> User:
    """The organization member with this username or email, else DomainError."""
    key = (username_or_email or "").strip().lower()
    user = db.session.scalar(
        db.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.org_id == org.id)
        .where((func.lower(User.username) == key) | (User.email == key))
    )
    if user is None:
        raise DomainError("No member of this organization has that username or email.", "person")
    return user


def _entry(group: Group, user: User) -> GroupMember | None:
    return db.session.get(GroupMember, (group.id, user.id))


def _is_org_member(org: Organization, user: User) -> bool:
    return db.session.scalar(
        db.select(Membership.id).filter_by(org_id=org.id, user_id=user.id)
    ) is not None


def add_to_group(
    org: Organization, actor: User, group: Group, user: User, is_manager: bool = False
) -> None:
    """Add an organization member to the group. Refuses non-members and duplicates."""
    if not _is_org_member(org, user):
        raise DomainError("Only members of the organization can be added to its groups.", "person")
    if _entry(group, user) is not None:
        raise DomainError(f"{user.name} is already in {group.name}.", "person")
    db.session.add(GroupMember(group_id=group.id, user_id=user.id, is_manager=bool(is_manager)))
    policy.forget_roles(user)  # the groups they manage, cached for this request
    verb = "as a manager " if is_manager else ""
    record(org, actor, "group.member_added", f"added {user.name} {verb}to {group.name}", group)


def remove_from_group(org: Organization, actor: User, group: Group, user: User) -> None:
    entry = _entry(group, user)
    if entry is None:
        raise DomainError(f"{user.name} is not in {group.name}.")
    db.session.delete(entry)
    policy.forget_roles(user)  # the groups they manage, cached for this request
    record(org, actor, "group.member_removed", f"removed {user.name} from {group.name}", group)


def set_group_manager(
    org: Organization, actor: User, group: Group, user: User, is_manager: bool
) -> None:
    entry = _entry(group, user)
    if entry is None:
        raise DomainError(f"{user.name} is not in {group.name}.")
    if entry.is_manager != bool(is_manager):
        entry.is_manager = bool(is_manager)
        policy.forget_roles(user)  # the groups they manage, cached for this request
        what = "made {} a manager of {}" if is_manager else "made {} no longer a manager of {}"
        record(org, actor, "group.manager_changed", what.format(user.name, group.name), group)


def join_open_group(org: Organization, user: User, group: Group) -> None:
    """A member joins an open group by themselves. Refuses other join methods."""
    if group.join_method != JoinMethod.OPEN:
        raise DomainError("This group is not open: ask one of its managers to add you.")
    if _entry(group, user) is not None:
        raise DomainError(f"You are already in {group.name}.")
    db.session.add(GroupMember(group_id=group.id, user_id=user.id))
    policy.forget_roles(user)  # their group entries, read for this request
    record(org, user, "group.joined", f"joined {group.name}", group)


def leave_group(org: Organization, user: User, group: Group) -> None:
    remove_from_group(org, user, group, user)


def page_of_groups(org: Organization, page: int, per_page: int) -> Pagination:
    """Groups by name, each with ``member_count``; a fixed three queries per page."""
    query = (
        db.select(Group)
        .where(Group.org_id == org.id)
        .order_by(func.lower(Group.name), Group.id)
    )
    pagination = paginate(query, page, per_page)
    ids = [group.id for group in pagination.items]
    counts = dict(
        db.session.execute(
            db.select(GroupMember.group_id, func.count())
            .where(GroupMember.group_id.in_(ids))
            .group_by(GroupMember.group_id)
        ).all()
    ) if ids else {}
    for group in pagination.items:
        group.member_count = counts.get(group.id, 0)
    return pagination


def page_of_group_members(group: Group, page: int, per_page: int) -> Pagination:
    query = (
        db.select(GroupMember)
        .options(joinedload(GroupMember.user))
        .join(GroupMember.user)
        .where(GroupMember.group_id == group.id)
        .order_by(GroupMember.is_manager.desc(), func.lower(User.name), User.id)
    )
    return paginate(query, page, per_page)


def is_in_group(group: Group, user: User) -> bool:
    known, is_manager = policy.group_entry(user, group)
    return is_manager is not None if known else _entry(group, user) is not None
