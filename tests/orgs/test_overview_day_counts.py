"""The Overview's charts read counts per day that triggers keep (migration 0021). Whatever
is written, by the ORM or by bulk statements (inserts, updates of the counted columns,
deletes, an organization's deletion), the counts stay equal to a recount of the rows, and
joins per week and the funnel equal what the rows themselves say, minute by minute at the
edges: a window's first day, an invitation expiring today before or after now."""
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, select, update

from invites import clock
from invites.accounts.models import User
from invites.extensions import db
from invites.invitations.models import Invitation, InvitationDay, Status
from invites.orgs import overview
from invites.orgs.models import JoinedVia, Membership, MembershipDay, Organization

NOW = datetime(2026, 12, 9, 12, 0)  # a Wednesday, noon
WAYS = (*JoinedVia.ALL, None)
STORED = Status.STORED


def some_time(rng):
    """Mostly the edges: now, the windows' first days (30 and 90 days back) and the oldest
    week shown, give or take a few hours; else anywhere in the last 120 days."""
    edge = rng.choice([NOW, NOW - timedelta(days=30), NOW - timedelta(days=90),
                       overview.week_start(NOW) - timedelta(weeks=12), None])
    if edge is None:
        return NOW - timedelta(minutes=rng.randrange(120 * 24 * 60))
    return min(NOW, edge + timedelta(minutes=rng.randrange(-600, 600)))


def some_expiry(rng):
    """Around now (today, before and after noon), or days away."""
    return NOW + timedelta(minutes=rng.choice([rng.randrange(-720, 720), rng.randrange(-5 * 1440, 5 * 1440)]))


def membership_counts_match():
    kept = {(org, day, way): n for org, day, way, n in db.session.execute(
        select(MembershipDay.org_id, MembershipDay.day, MembershipDay.way, MembershipDay.members)
        .where(MembershipDay.members != 0))}
    rows = db.session.execute(select(Membership.org_id, Membership.created_at, Membership.joined_via)).all()
    counted = {}
    for org, at, way in rows:
        key = (org, at.date(), way or "")
        counted[key] = counted.get(key, 0) + 1
    return kept, counted


def invitation_counts_match():
    kept = {(org, day, status, expires): n for org, day, status, expires, n in db.session.execute(
        select(InvitationDay.org_id, InvitationDay.day, InvitationDay.status, InvitationDay.expires_day,
               InvitationDay.invitations).where(InvitationDay.invitations != 0))}
    rows = db.session.execute(
        select(Invitation.org_id, Invitation.created_at, Invitation.status, Invitation.expires_at)).all()
    counted = {}
    for org, at, status, expires in rows:
        key = (org, at.date(), status, expires.date())
        counted[key] = counted.get(key, 0) + 1
    return kept, counted


def weeks_from_rows(org):
    starts = [overview.week_start(NOW) - timedelta(weeks=n) for n in range(overview.WEEKS - 1, -1, -1)]
    weeks = [{} for _ in starts]
    for at, way in db.session.execute(
        select(Membership.created_at, Membership.joined_via).where(Membership.org_id == org.id)
    ):
        for index in range(len(starts) - 1, -1, -1):
            if at >= starts[index]:
                weeks[index][way] = weeks[index].get(way, 0) + 1
                break
    return weeks


def funnels_from_rows(org):
    result = []
    rows = db.session.execute(select(Invitation.created_at, Invitation.status, Invitation.expires_at)
                              .where(Invitation.org_id == org.id)).all()
    for days in overview.FUNNEL_WINDOWS:
        outcomes = {status: 0 for status in overview.OUTCOMES}
        for created, status, expires in rows:
            if created >= NOW - timedelta(days=days):
                shown = Status.EXPIRED if status == Status.PENDING and expires <= NOW else status
                outcomes[shown] += 1
        result.append((days, sum(outcomes.values()), outcomes))
    return result


def write_at_random(rng, orgs, users, rounds):
    """Memberships and invitations made, changed and removed, by the ORM and in bulk."""
    serial = 0
    for _ in range(rounds):
        org = rng.choice(orgs)
        action = rng.randrange(8)
        if action == 0:  # bulk insert of memberships (users not yet in org)
            taken = set(db.session.scalars(select(Membership.user_id).where(Membership.org_id == org.id)))
            free = [u for u in users if u not in taken]
            chosen = rng.sample(free, min(len(free), rng.randrange(1, 6)))
            if chosen:
                db.session.execute(insert(Membership), [
                    {"org_id": org.id, "user_id": u, "role": "member", "role_order": 2, "sort_name": "x",
                     "search_text": "x", "joined_via": rng.choice(WAYS), "created_at": some_time(rng)}
                    for u in chosen])
        elif action == 1:  # memberships leave, one by the ORM, some in bulk
            ids = db.session.scalars(select(Membership.id).where(Membership.org_id == org.id,
                                                                 Membership.role == "member")).all()
            if ids:
                db.session.delete(db.session.get(Membership, rng.choice(ids)))
                db.session.flush()
                db.session.execute(delete(Membership).where(Membership.id.in_(rng.sample(ids, len(ids) // 4))))
        elif action == 2:  # a membership's day or way in changes (as the ways-in migration did)
            ids = db.session.scalars(select(Membership.id).where(Membership.org_id == org.id)).all()
            db.session.execute(update(Membership).where(Membership.id == rng.choice(ids))
                               .values(created_at=some_time(rng), joined_via=rng.choice(WAYS)))
        elif action in (3, 4):  # invitations, in bulk and by the ORM
            rows = []
            for _ in range(rng.randrange(1, 8)):
                serial += 1
                created = some_time(rng)
                rows.append({"org_id": org.id, "email": f"r{serial}@example.com", "role": "member",
                             "status": rng.choice(STORED), "token_hash": f"{serial:064x}",
                             "inviter_id": users[0], "message": "", "created_at": created, "updated_at": created,
                             "expires_at": some_expiry(rng)})
            if action == 3:
                db.session.execute(insert(Invitation), rows)
            else:
                db.session.add_all(Invitation(**row) for row in rows)
                db.session.flush()
        elif action == 5:  # answered, cancelled, or sent again with a new expiry, by the ORM
            ids = db.session.scalars(select(Invitation.id).where(Invitation.org_id == org.id)).all()
            if ids:
                invitation = db.session.get(Invitation, rng.choice(ids))
                if rng.random() < 0.5:
                    invitation.status = rng.choice(STORED)
                else:
                    invitation.expires_at = some_expiry(rng)
                db.session.flush()
        elif action == 6:  # in bulk
            ids = db.session.scalars(select(Invitation.id).where(Invitation.org_id == org.id)).all()
            db.session.execute(update(Invitation).where(Invitation.id.in_(rng.sample(ids, len(ids) // 3)))
                               .values(status=rng.choice(STORED), expires_at=some_expiry(rng)))
        else:  # a change of columns that are not counted moves nothing
            db.session.execute(update(Invitation).where(Invitation.org_id == org.id).values(message="changed"))
        if rng.random() < 0.3:
            db.session.commit()
    db.session.commit()


@pytest.fixture
def frozen(app):
    clock.freeze(NOW)
    return NOW


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_counts_per_day_follow_every_write_and_the_charts_equal_the_rows(team, make_org, frozen, seed):
    rng = random.Random(seed)
    users = db.session.execute(insert(User).returning(User.id), [
        {"name": f"R {i}", "username": f"r{seed}-{i}", "email": f"r{seed}-{i}@example.com", "password_hash": "x",
         "created_at": NOW} for i in range(40)]).scalars().all()
    other = make_org(owner=team.manager, name="Other")
    doomed = make_org(owner=team.member, name="Doomed")
    write_at_random(rng, [team.org, other, doomed], users, rounds=120)

    # An organization deleted in the database: its rows go by cascade, their counts too.
    db.session.execute(delete(Organization).where(Organization.id == doomed.id))
    db.session.commit()

    kept, counted = membership_counts_match()
    assert kept == counted and kept
    kept, counted = invitation_counts_match()
    assert kept == counted and kept
    for counts in (MembershipDay, InvitationDay):
        assert not db.session.scalar(select(func.count()).select_from(counts).where(counts.org_id == doomed.id))
    for org in (team.org, other):
        assert [week.by_way for week in overview.joins_per_week(org)] == weeks_from_rows(org)
        assert [(f.days, f.sent, f.outcomes) for f in overview.funnels(org)] == funnels_from_rows(org)
        staff = overview.staff_overview(org)
        assert [week.by_way for week in staff.weeks] == weeks_from_rows(org)
        assert [(f.days, f.sent, f.outcomes) for f in staff.funnels] == funnels_from_rows(org)


def test_the_migration_counts_the_rows_already_there(app, team, frozen):
    """Down to 0020 (no counts, no triggers), rows written meanwhile, then up again: the
    counts are filled from the rows."""
    import flask_migrate

    org_id = team.org.id
    db.session.close()  # the migration alters the tables from another connection
    flask_migrate.downgrade(revision="0020")
    db.session.execute(update(Membership).where(Membership.org_id == org_id).values(created_at=NOW))
    db.session.commit()
    db.session.close()
    flask_migrate.upgrade()
    kept, counted = membership_counts_match()
    assert kept == counted
    members = db.session.scalar(select(func.count()).select_from(Membership).where(Membership.org_id == org_id))
    assert sum(n for (org, day, _), n in kept.items() if (org, day) == (org_id, NOW.date())) == members == 4
    kept, counted = invitation_counts_match()
    assert kept == counted
