"""Concurrent answers to one invitation, on PostgreSQL (the row lock is what is tested)."""
import threading

import pytest

from invites.accounts.models import User
from invites.errors import DomainError
from invites.extensions import db
from invites.invitations import answering, sending
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Membership


def run_at_once(app, actions):
    """Run each of ``actions`` in its own thread, released together, each in its own app
    context (its own session and connection). Returns what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def worker(i, action):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = action()
                db.session.commit()
            except Exception as error:  # collected and asserted on by the test
                db.session.rollback()
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def accept_as(user_id, token):
    def accept():
        return answering.accept_invitation(answering.find_by_token(token), db.session.get(User, user_id), by_link=True)
    return accept


def cancel_as(user_id, token):
    def cancel():
        invitation = answering.find_by_token(token)
        return sending.cancel_invitation(invitation.org, db.session.get(User, user_id), invitation)
    return cancel


def memberships(org_id, user_id):
    return db.session.scalar(
        db.select(db.func.count(Membership.id)).filter_by(org_id=org_id, user_id=user_id)
    )


@pytest.mark.postgres_only
def test_twenty_accepts_at_once_make_one_membership(app, team, make_user, make_invitation):
    person_id, org_id = make_user(email="race@example.com").id, team.org.id
    invitation, token = make_invitation(team.org, team.owner, "race@example.com")
    invitation_id = invitation.id
    db.session.remove()

    results = run_at_once(app, [accept_as(person_id, token)] * 20)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert memberships(org_id, person_id) == 1
    assert db.session.get(Invitation, invitation_id).status == Status.ACCEPTED


@pytest.mark.postgres_only
def test_accept_and_cancel_at_once_end_consistent(app, team, make_user, make_invitation):
    person_id, owner_id, org_id = make_user(email="tie@example.com").id, team.owner.id, team.org.id
    for _ in range(5):
        invitation, token = make_invitation(db.session.get(type(team.org), org_id),
                                            db.session.get(User, owner_id), "tie@example.com")
        invitation_id = invitation.id
        db.session.remove()
        accepted, cancelled = run_at_once(app, [accept_as(person_id, token), cancel_as(owner_id, token)])
        final = db.session.get(Invitation, invitation_id)
        # One of the two won; the other was refused with a clear domain error, not a crash.
        if final.status == Status.ACCEPTED:
            assert isinstance(cancelled, DomainError) and memberships(org_id, person_id) == 1
            db.session.execute(db.delete(Membership).filter_by(org_id=org_id, user_id=person_id))
            db.session.commit()
        else:
            assert final.status == Status.CANCELLED
            assert isinstance(accepted, answering.InvitationUnavailable) and accepted.reason == "cancelled"
            assert memberships(org_id, person_id) == 0
