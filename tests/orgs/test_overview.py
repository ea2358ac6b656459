"""The Overview (issue 16): each number from the service, the ways in kept on memberships,
a query count that does not grow with the organization, the page per role, and the
"Add people" entry (issue 22) wherever it is shown."""
import importlib.util
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from invites import clock
from invites.accounts.models import User
from invites.extensions import db
from invites.groups.service import add_to_group, create_group
from invites.imports import service as imports
from invites.invitations.answering import accept_invitation
from invites.invitations.models import Invitation, Status
from invites.join_page import service as join_page
from invites.join_requests import service as join_requests
from invites.join_requests.models import JoinRequest, Notify
from invites.links.models import Access, InviteLink
from invites.links.service import use_link
from invites.orgs import overview
from invites.orgs.admission import admit
from invites.orgs.charts import funnel_chart, weeks_chart
from invites.orgs.models import JoinedVia, Membership, Role

NOW = datetime(2026, 12, 9, 12, 0)  # a Wednesday


@pytest.fixture
def frozen(app):
    clock.freeze(NOW)
    return NOW


def bulk_users(n, tag, verified=True):
    return db.session.execute(insert(User).returning(User.id), [
        {"name": f"{tag} {i}", "username": f"{tag}{i}", "email": f"{tag}{i}@example.com",
         "password_hash": "x", "email_verified_at": NOW if verified else None, "created_at": NOW}
        for i in range(n)
    ]).scalars().all()


def bulk_invitations(org, inviter, rows):
    """rows: (email, status, created_at, expires_at[, delivery_error])"""
    db.session.execute(insert(Invitation), [
        {"org_id": org.id, "email": email, "role": "member", "status": status, "token_hash": f"{i:064x}",
         "inviter_id": inviter.id, "message": "", "created_at": created, "updated_at": created,
         "expires_at": expires, "delivery_error": rest[0] if rest else None}
        for i, (email, status, created, expires, *rest) in enumerate(rows, start=len(rows) * 7919)
    ])


def bulk_memberships(org, user_ids, ways_and_times):
    db.session.execute(insert(Membership), [
        {"org_id": org.id, "user_id": user_id, "role": "member", "role_order": 2, "sort_name": f"p{user_id}",
         "search_text": f"p{user_id}",
         "joined_via": way, "created_at": at}
        for user_id, (way, at) in zip(user_ids, ways_and_times)
    ])


# ---- the numbers -----------------------------------------------------------------------

def test_counts_are_what_each_panel_lists(team, frozen, make_link):
    org, owner = team.org, team.owner
    day = timedelta(days=1)
    bulk_invitations(org, owner, [
        ("open1@example.com", Status.PENDING, NOW - day, NOW + 5 * day),
        ("open2@example.com", Status.PENDING, NOW - day, NOW + 5 * day),
        ("late@example.com", Status.PENDING, NOW - 20 * day, NOW - day),  # expired
        ("bounced@example.com", Status.PENDING, NOW - day, NOW + 5 * day, "550 no such user"),
        ("done@example.com", Status.ACCEPTED, NOW - day, NOW + 5 * day),
    ])
    asker, rejected = bulk_users(2, "asker")
    db.session.execute(insert(JoinRequest), [
        {"org_id": org.id, "user_id": asker, "status": "pending", "message": "", "created_at": NOW},
        {"org_id": org.id, "user_id": rejected, "status": "rejected", "message": "", "created_at": NOW},
    ])
    db.session.commit()
    make_link(org, owner)  # active, 7 days
    make_link(org, owner, max_uses=1)
    gone, _ = make_link(org, owner)
    used_up, _ = make_link(org, owner, max_uses=1)
    expired, _ = make_link(org, owner)
    gone.deleted_at, used_up.uses, expired.expires_at = NOW, 1, NOW - day
    db.session.commit()

    counts = overview.counts(org)
    assert (counts.members, counts.pending_invitations, counts.waiting_requests, counts.active_links) == (4, 2, 1, 2)


def test_the_lists_are_the_first_few_of_what_needs_doing(team, frozen):
    org, owner = team.org, team.owner
    hours = lambda n: timedelta(hours=n)  # noqa: E731
    bulk_invitations(org, owner, [
        ("in2days@example.com", Status.PENDING, NOW - hours(300), NOW + hours(48)),
        ("in1hour@example.com", Status.PENDING, NOW - hours(300), NOW + hours(1)),
        ("in4days@example.com", Status.PENDING, NOW - hours(300), NOW + hours(96)),  # not soon
        ("gone@example.com", Status.PENDING, NOW - hours(300), NOW - hours(1)),  # expired already
        ("answered@example.com", Status.DECLINED, NOW - hours(300), NOW + hours(2)),
    ])
    people = bulk_users(7, "asker")
    db.session.execute(insert(JoinRequest), [
        {"org_id": org.id, "user_id": user_id, "status": "pending", "message": "",
         "created_at": NOW - hours(10 - i)} for i, user_id in enumerate(people)
    ])
    db.session.commit()

    expiring = overview.expiring_invitations(org)
    assert [i.email for i in expiring] == ["in1hour@example.com", "in2days@example.com"]
    waiting = overview.waiting_requests(org)
    assert [r.user_id for r in waiting] == list(people[:overview.LIST_LIMIT])  # longest waiting first
    recent = overview.recent_joins(org)
    assert recent[0].user_id == team.collaborator.id and len(recent) == 4


def test_the_funnel_counts_each_outcome_in_each_window(team, frozen):
    org, owner = team.org, team.owner
    day = timedelta(days=1)
    rows, n = [], 0

    def add(status, age_days, count, expired=False):
        nonlocal n
        for _ in range(count):
            n += 1
            expires = NOW - day if expired else NOW + 5 * day
            rows.append((f"x{n}@example.com", status, NOW - age_days * day, expires))

    add(Status.ACCEPTED, 5, 3)
    add(Status.DECLINED, 5, 1)
    add(Status.PENDING, 5, 2)
    add(Status.PENDING, 20, 1, expired=True)
    add(Status.CANCELLED, 29, 1)
    add(Status.ACCEPTED, 60, 4)
    add(Status.PENDING, 80, 2, expired=True)
    add(Status.ACCEPTED, 120, 9)  # outside both windows
    bulk_invitations(org, owner, rows)
    db.session.commit()

    last30, last90 = overview.funnels(org)
    assert (last30.days, last30.sent) == (30, 8)
    assert last30.outcomes == {"accepted": 3, "declined": 1, "expired": 1, "pending": 2, "cancelled": 1}
    assert (last90.days, last90.sent) == (90, 14)
    assert last90.outcomes == {"accepted": 7, "declined": 1, "expired": 3, "pending": 2, "cancelled": 1}
    assert [label for _, label, _ in last30.rows()] == ["Sent", "Accepted", "Declined", "Expired", "Pending", "Cancelled"]


def test_joins_per_week_by_way_in(team, frozen):
    org = team.org
    monday = datetime(2026, 12, 7)
    people = bulk_users(7, "joiner")
    bulk_memberships(org, people, [
        (JoinedVia.LINK, monday + timedelta(hours=1)),  # this week
        (JoinedVia.LINK, NOW - timedelta(minutes=5)),  # this week
        (JoinedVia.IMPORT, monday - timedelta(minutes=1)),  # the Sunday before: last week
        (None, monday - timedelta(days=6)),  # last week, way unknown
        (JoinedVia.REQUEST, monday - timedelta(weeks=12)),  # the oldest week shown
        (JoinedVia.JOIN_PAGE, monday - timedelta(weeks=12, minutes=1)),  # just before it
        (JoinedVia.INVITATION, monday - timedelta(weeks=30)),
    ])
    db.session.commit()
    db.session.execute(db.update(Membership).where(Membership.user_id.not_in(people)).values(created_at=NOW - timedelta(days=400)))

    weeks = overview.joins_per_week(org)
    assert len(weeks) == overview.WEEKS == 13
    assert weeks[-1].start == monday and weeks[0].start == monday - timedelta(weeks=12)
    assert weeks[-1].by_way == {JoinedVia.LINK: 2}
    assert weeks[-2].by_way == {JoinedVia.IMPORT: 1, None: 1} and weeks[-2].total == 2
    assert weeks[0].by_way == {JoinedVia.REQUEST: 1}
    assert sum(week.total for week in weeks) == 5
    staff = overview.staff_overview(org)
    assert staff.ways_seen == [JoinedVia.IMPORT, JoinedVia.LINK, JoinedVia.REQUEST, None]


def test_the_charts_say_in_words_what_they_draw(team, frozen):
    funnel = overview.Funnel(30, 10, {"accepted": 6, "declined": 1, "expired": 1, "pending": 2, "cancelled": 0})
    chart = funnel_chart(funnel)
    assert chart.title == "Invitations of the last 30 days"
    assert chart.desc == "10 sent; 6 accepted, 1 declined, 1 expired, 2 pending, 0 cancelled."
    widths = [rect.width for rect in chart.rects]
    assert widths[0] == max(widths) and widths[1] == pytest.approx(widths[0] * 0.6)
    week = overview.Week(datetime(2026, 12, 7), {JoinedVia.LINK: 3, JoinedVia.IMPORT: 1})
    chart = weeks_chart([overview.Week(datetime(2026, 11, 30)), week], [JoinedVia.IMPORT, JoinedVia.LINK])
    assert "4 joined in all; the most, 4, in the week of 7 Dec" in chart.desc
    assert "import 1, invite link 3" in chart.desc
    assert sorted(r.css for r in chart.rects if "bar" in r.css) == ["bar way-import", "bar way-link"]


def test_a_members_overview_is_their_groups_and_what_waits_for_them(team, frozen, make_invitation):
    org, member = team.org, team.member
    mine = create_group(org, team.owner, "Safety Training")
    create_group(org, team.owner, "Not Mine")
    add_to_group(org, team.owner, mine, member)
    db.session.commit()
    assert [g.name for g in overview.member_overview(org, member).groups] == ["Safety Training"]
    assert overview.member_overview(org, member).invitations == []
    extra = create_group(org, team.owner, "Forklifts")
    db.session.commit()
    invitation, _ = make_invitation(org, team.owner, member.email, groups=[extra])
    result = overview.member_overview(org, member)
    assert [i.id for i in result.invitations] == [invitation.id] and result.join_request is None


# ---- the way in, kept on the membership ------------------------------------------------

def joined_via(org, user):
    return db.session.scalar(db.select(Membership.joined_via).filter_by(org_id=org.id, user_id=user.id))


def test_each_way_in_records_itself(app, team, make_user, make_invitation, make_link):
    org, owner = team.org, team.owner
    org.plan = "premium"
    db.session.commit()

    invited = make_user(name="Ivy Invited")
    invitation, _ = make_invitation(org, owner, invited.email)
    accept_invitation(invitation, invited)
    db.session.commit()
    assert joined_via(org, invited) == JoinedVia.INVITATION

    imported = make_user(name="Ian Imported")
    with app.test_request_context():
        imp = imports.preview_import(org, owner, "people.csv", f"email,groups\n{imported.email},\n".encode())
        db.session.commit()
        imports.run_import(org, owner, imp, commit=db.session.commit)
        db.session.commit()
    from_import = db.session.scalar(db.select(Invitation).filter_by(email=imported.email))
    assert from_import.import_id == imp.id
    accept_invitation(from_import, imported)
    db.session.commit()
    assert joined_via(org, imported) == JoinedVia.IMPORT

    linked = make_user(name="Lee Linked")
    link, _ = make_link(org, owner, access=Access.ANYONE)
    use_link(link, linked)
    db.session.commit()
    assert joined_via(org, linked) == JoinedVia.LINK

    asker = make_user(name="Ada Asker")
    with app.test_request_context():
        join_link, _ = join_requests.create_join_link(org, owner, "Volunteers", Role.MEMBER, [], Notify.NOBODY, [])
        join_request = join_requests.request_to_join(join_link, asker, "hello")
        db.session.commit()
    join_requests.accept_request(org, owner, join_request)
    db.session.commit()
    assert joined_via(org, asker) == JoinedVia.REQUEST

    walker = make_user(name="Walt Walkin")
    join_page.join(join_page.page_of(org), walker)
    db.session.commit()
    assert joined_via(org, walker) == JoinedVia.JOIN_PAGE

    # Coming in again another way keeps the first way.
    group = create_group(org, owner, "More")
    db.session.commit()
    again, _ = make_link(org, owner, access=Access.MEMBERS, groups=[group])
    use_link(again, invited)
    db.session.commit()
    assert joined_via(org, invited) == JoinedVia.INVITATION

    # The recent joins say so.
    labels = {m.user.name: m.joined_via_label for m in overview.recent_joins(org, limit=10)}
    assert labels["Ian Imported"] == "Import" and labels["Walt Walkin"] == "Join Web Page"
    assert labels["Mia Member"] == "Earlier"  # added by the test factory, which records nothing


def test_the_org_created_verb_is_the_creators_way_in(team, make_org, make_user):
    founder = make_user()
    org = make_org(owner=make_user(), name="Other")
    admission = admit(org, founder, Role.OWNER, [], verb="org.created", describe=lambda a: "created it")
    assert admission.membership.joined_via == JoinedVia.CREATED
    assert admission.membership.joined_via_label == "Created the organization"


def load_migration():
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0010_membership_joined_via.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_reads_earlier_ways_in_back_from_the_activity_log(app, team, make_user, make_invitation, make_link):
    org, owner = team.org, team.owner
    invited, linked, asker = make_user(), make_user(), make_user()
    invitation, _ = make_invitation(org, owner, invited.email)
    accept_invitation(invitation, invited)
    link, _ = make_link(org, owner, access=Access.ANYONE)
    use_link(link, linked)
    with app.test_request_context():
        join_link, _ = join_requests.create_join_link(org, owner, "Volunteers", Role.MEMBER, [], Notify.NOBODY, [])
        join_request = join_requests.request_to_join(join_link, asker, "")
    join_requests.accept_request(org, owner, join_request)
    db.session.commit()
    # Memberships as they were before the column: no way kept.
    db.session.execute(db.update(Membership).values(joined_via=None))
    db.session.commit()

    load_migration().backfill(db.session.connection())
    db.session.commit()
    assert joined_via(org, invited) == JoinedVia.INVITATION
    assert joined_via(org, linked) == JoinedVia.LINK
    assert joined_via(org, asker) == JoinedVia.REQUEST  # the staff's line, about the requester
    assert joined_via(org, owner) == JoinedVia.CREATED  # from "org.created"
    assert joined_via(org, team.member) is None  # the log does not say: "Earlier"


# ---- the page: a fixed number of queries ----------------------------------------------

def grow(org, owner, start, n):
    """``n`` more of everything the Overview reads: members joined over the weeks by every
    way, invitations of every outcome (some expiring soon), join requests, links."""
    day = timedelta(days=1)
    users = bulk_users(n, f"g{start}-", verified=True)
    ways = [*JoinedVia.ALL, None]
    bulk_memberships(org, users, [(ways[i % len(ways)], NOW - (i % 80) * day) for i in range(n)])
    statuses = [Status.PENDING, Status.ACCEPTED, Status.DECLINED, Status.CANCELLED]
    bulk_invitations(org, owner, [
        (f"inv{start}-{i}@example.com", statuses[i % 4], NOW - (i % 100) * day, NOW + (i % 7 - 2) * day)
        for i in range(n)
    ])
    askers = bulk_users(n, f"a{start}-", verified=bool(start % 2))
    db.session.execute(insert(JoinRequest), [
        {"org_id": org.id, "user_id": u, "status": "pending", "message": "", "created_at": NOW - day} for u in askers
    ])
    db.session.execute(insert(InviteLink), [
        {"org_id": org.id, "token_hash": f"{start:08x}{i:056x}", "access": "members", "role": "member", "uses": 0,
         "created_by_id": owner.id, "created_at": NOW} for i in range(n)
    ])
    db.session.commit()


def test_the_overview_costs_the_same_queries_at_10_and_at_300_rows(client, team, auth, frozen, count_queries):
    org = team.org
    grow(org, team.owner, 1, 10)
    auth.login(team.owner)
    url = f"/o/{org.slug}"
    client.get(url)
    with count_queries() as small:
        html = client.get(url).get_data(as_text=True)
    assert "Accept<span" in html and "Resend<span" in html  # every list has rows at 10
    grow(org, team.owner, 2, 290)
    with count_queries() as large:
        html = client.get(url).get_data(as_text=True)
    assert "<strong>304</strong> members" in html  # the team's 4 and 300 more
    assert len(small) == len(large), "\n".join(large)


# ---- the page per role -----------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "manager"])
def test_owners_and_managers_get_the_staff_overview(client, team, auth, who, make_invitation):
    make_invitation(team.org, team.owner, "someone@example.com")
    auth.login(getattr(team, who))
    html = client.get(f"/o/{team.org.slug}").get_data(as_text=True)
    for heading in ("Join requests waiting", "Invitations expiring soon", "Recent joins",
                    "Invitation funnel", "Joins per week, by way in", "Add people"):
        assert heading in html
    assert f'href="/o/{team.org.slug}/manage/invitations?status=pending"><strong>1</strong> pending invitation<' in html
    assert f'href="/o/{team.org.slug}/manage/members"><strong>4</strong> members<' in html
    assert re.search(r'<svg class="chart [^>]*role="img"\s+aria-labelledby="funnel-30-title funnel-30-desc"', html)
    assert '<title id="funnel-30-title">Invitations of the last 30 days</title>' in html
    assert "<caption>Last 90 days</caption>" in html
    assert "Leave organization" in html and "style=" not in html


@pytest.mark.parametrize("who", ["member", "collaborator"])
def test_members_and_collaborators_get_their_own_overview(client, team, auth, who):
    group = create_group(team.org, team.owner, "Safety Training")
    add_to_group(team.org, team.owner, group, getattr(team, who))
    db.session.commit()
    auth.login(getattr(team, who))
    html = client.get(f"/o/{team.org.slug}").get_data(as_text=True)
    assert "Your groups" in html and "Safety Training" in html and "Nothing is waiting." in html
    assert "Invitation funnel" not in html and "Join requests waiting" not in html
    assert "/manage/members" not in html and "Leave organization" in html


def test_outsiders_get_404_for_the_overview(client, team, auth):
    auth.login(team.outsider)
    assert client.get(f"/o/{team.org.slug}").status_code == 404


# ---- Add people --------------------------------------------------------------------------

def ways_offered(html):
    """The link texts of the "Add people" entry, with a premium badge marked by a star."""
    block = re.search(r'<ul class="ways-in">(.*?)</ul>', html, re.S)
    if block is None:
        return []
    items = re.findall(r'<li>\s*<a href="[^"]+">([^<]+)</a>\s*(<span class="badge premium-badge">)?', block.group(1))
    return [name + (" *" if badge else "") for name, badge in items]


def test_add_people_on_a_free_plan_shows_the_premium_ways_with_their_gate(client, team, auth):
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}").get_data(as_text=True)
    assert ways_offered(html) == ["Invite Member", "Import Learners *", "Join Web Page *"]
    assert "Premium plan" in html
    team.org.plan = "premium"
    db.session.commit()
    html = client.get(f"/o/{team.org.slug}").get_data(as_text=True)
    assert ways_offered(html) == ["Invite Member", "Import Learners", "Join Web Page"]


def test_add_people_shows_only_the_ways_the_viewer_may_use(client, team, auth):
    group = create_group(team.org, team.owner, "Safety Training")
    add_to_group(team.org, team.owner, group, team.member, is_manager=True)
    db.session.commit()
    auth.login(team.manager)  # the Join Web Page is the owners'
    html = client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
    assert ways_offered(html) == ["Invite Member", "Import Learners *"]
    assert '<details class="add-people-menu">' in html
    assert re.search(rf'href="/o/{team.org.slug}/invitations/new" role="button"[^>]*>Invite Member</a>', html)
    auth.logout()
    auth.login(team.member)  # manages one group: invites into it, nothing else
    html = client.get(f"/o/{team.org.slug}/groups/{group.id}").get_data(as_text=True)
    assert ways_offered(html) == ["Invite Member"]
    assert f'href="/o/{team.org.slug}/invitations/new?group={group.id}"' in html
    other = create_group(team.org, team.owner, "Other")
    db.session.commit()
    html = client.get(f"/o/{team.org.slug}/groups/{other.id}").get_data(as_text=True)
    assert ways_offered(html) == [] and "Add people" not in html
    assert ways_offered(client.get(f"/o/{team.org.slug}").get_data(as_text=True)) == ["Invite Member"]
    auth.logout()
    auth.login(team.collaborator)
    assert "Add people" not in client.get(f"/o/{team.org.slug}").get_data(as_text=True)


def test_counts_stop_past_the_cap_so_they_cost_the_same_at_any_size(team, frozen, monkeypatch):
    monkeypatch.setattr(overview, "COUNT_CAP", 5)
    bulk_memberships(team.org, bulk_users(3, "extra"), [(None, NOW)] * 3)
    db.session.commit()
    counts = overview.counts(team.org)
    assert counts.members == 6 and counts.show(counts.members) == "5+"
    assert counts.show(counts.waiting_requests) == "0"
