"""Queries per page, measured as production runs them: each request in a fresh app context,
so nothing loaded by an earlier request (the user, the organization, a role) is reused.

Every list page and the Overview read a fixed number of queries, at most four, whatever
the numbers of rows: the account, its session, the bell's count, the organization and the
viewer's role in one (``invites.viewer``), then the page's rows with their bounded count,
and what the rows show (their groups) in one more.
"""
from datetime import timedelta

import pytest

from invites.accounts.models import User
from invites.activity.models import Activity
from invites.clock import now
from invites.extensions import db
from invites.groups.models import Group, GroupMember
from invites.imports.models import Import
from invites.invitations.models import Invitation
from invites.join_requests.models import JoinLink, JoinRequest
from invites.links.models import InviteLink
from invites.notifications.models import Notification
from invites.orgs.models import Membership, Role
from invites.tokens import hash_token, new_token
from tests.support import counting_queries

MAX_QUERIES = 4
STAFF_PAGES = [
    "/o/{slug}",
    "/o/{slug}/manage/members",
    "/o/{slug}/manage/members?q=person",
    "/o/{slug}/manage/members?q=zq",  # too short for a trigram
    "/o/{slug}/manage/members?q=person&page=9",  # past the end: the count on its own
    "/o/{slug}/groups",
    "/o/{slug}/groups/{group}",
    "/o/{slug}/manage/invitations",
    "/o/{slug}/manage/invitations?status=pending&group={group}",
    "/o/{slug}/manage/links",
    "/o/{slug}/manage/join-links",
    "/o/{slug}/manage/join-requests",
    "/o/{slug}/manage/activity",
    "/o/{slug}/manage/imports",
    "/notifications",
    "/orgs",
    "/",
]
MEMBER_PAGES = ["/o/{slug}", "/o/{slug}/groups", "/o/{slug}/groups/{group}", "/", "/orgs"]


def grow(org, owner, member, start, stop):
    """Add rows ``start`` to ``stop`` to everything the pages list, each with what its row shows."""
    at = now()
    group = None
    for i in range(start, stop):
        person = User(name=f"Person {i}", username=f"person-{i}-{org.id}", email=f"p{i}-{org.id}@example.com",
                      password_hash="x", email_verified_at=at)
        group = Group(org_id=org.id, name=f"Group {i}", join_method="open")
        db.session.add_all([person, group])
        db.session.flush()
        db.session.add_all([
            Membership(org_id=org.id, user_id=person.id, role=Role.MEMBER, joined_via="link",
                       created_at=at - timedelta(days=i)),
            GroupMember(group_id=group.id, user_id=person.id, is_manager=i % 2 == 0),
            GroupMember(group_id=group.id, user_id=member.id),
            Activity(org_id=org.id, actor_id=person.id, verb="test", summary=f"did {i}"),
            Import(org_id=org.id, created_by_id=owner.id, filename=f"f{i}.csv", status="done",
                   sent_count=1, failed_count=0),
            Notification(user_id=owner.id, org_id=org.id, kind="test", text=f"note {i}"),
            Notification(user_id=member.id, org_id=org.id, kind="test", text=f"note {i}"),
        ])
        invitation = Invitation(org_id=org.id, email=f"i{i}@example.com", role="member", status="pending",
                                token_hash=hash_token(new_token()), inviter_id=owner.id, message="",
                                expires_at=at + timedelta(days=1 + i % 5))
        invitation.groups = [group]
        link = InviteLink(org_id=org.id, token_hash=hash_token(new_token()), access="members", role="member",
                          uses=0, created_by_id=owner.id)
        link.groups = [group]
        join_link = JoinLink(org_id=org.id, token_hash=hash_token(new_token()), description=f"Link {i}",
                             role="member", notify="nobody", created_by_id=owner.id)
        db.session.add_all([invitation, link, join_link])
        db.session.flush()
        db.session.add(JoinRequest(org_id=org.id, link_id=join_link.id, user_id=person.id, message="hi",
                                   status="pending"))
    db.session.commit()
    return group


def count(app, client, path):
    """Queries that one GET of ``path`` runs in its own app context, as under gunicorn."""
    with app.app_context():
        with counting_queries(db.engine) as statements:
            response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(statements)


@pytest.mark.parametrize("who, pages", [("owner", STAFF_PAGES), ("member", MEMBER_PAGES)])
def test_pages_read_a_fixed_number_of_queries_whatever_the_rows(app, client, team, auth, who, pages):
    app.config["PAGE_SIZE"] = 10
    group = grow(team.org, team.owner, team.member, 0, 2)
    auth.login(getattr(team, who))
    paths = [page.format(slug=team.org.slug, group=group.id) for page in pages]
    small = {path: count(app, client, path) for path in paths}
    grow(team.org, team.owner, team.member, 2, 42)  # four pages' worth and more
    large = {path: count(app, client, path) for path in paths}
    assert large == small, "a page's query count grew with its rows"
    over = {path: queries for path, queries in large.items() if queries > MAX_QUERIES}
    assert over == {}, f"pages over {MAX_QUERIES} queries"


def test_the_invitations_poll_costs_two_queries_when_nothing_changed(app, client, team, auth):
    grow(team.org, team.owner, team.member, 0, 3)
    auth.login(team.owner)
    path = f"/o/{team.org.slug}/manage/invitations"
    with app.app_context():
        html = client.get(path).get_data(as_text=True)
    version = html.split("since=", 1)[1].split('"', 1)[0].replace("%3A", ":").replace("%2B", "+")
    with app.app_context():
        with counting_queries(db.engine) as statements:
            response = client.get(path, query_string={"since": version}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert len(statements) == 2  # the viewer, the panel's version
