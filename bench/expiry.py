"""``flask expire-memberships`` over 10,000 memberships whose access has ended (issue 19):
removals per second (each its own transaction: claim, conditional DELETE, group rows,
activity line, bell) and SQL queries per removal, in an organization of 100,000 members.
"""
import time

from invites.clock import now
from invites.extensions import db
from tests.support import counting_queries

DUE = 10_000


def measure_expiry(url, world, make_app, due=DUE):
    """(memberships removed, seconds, queries per removal)."""
    from datetime import timedelta

    from invites.orgs.expiry import expire_memberships
    from invites.orgs.models import Membership, Role

    app = make_app(url)
    with app.app_context():
        ids = db.session.scalars(
            db.select(Membership.id).where(Membership.org_id == world.org_id, Membership.role != Role.OWNER)
            .order_by(Membership.id).limit(due)
        ).all()
        db.session.execute(db.update(Membership).where(Membership.id.in_(ids))
                           .values(access_until=now() - timedelta(hours=1)))
        db.session.commit()
        with counting_queries(db.engine) as queries:
            started = time.perf_counter()
            run = expire_memberships()
            seconds = time.perf_counter() - started
    assert run.removed == len(ids) == due, (run.removed, len(ids))
    return run.removed, seconds, len(queries) / run.removed
