"""The JSON API under real concurrency (PostgreSQL): the same request sent twice at the
same moment, and a one-use invite link made through the API used by ten people at once.
Never a 500, and the database ends as if the requests had come one after the other."""
import threading

import pytest

from invites.accounts.models import User
from invites.extensions import db
from invites.invitations.models import Invitation, Status
from invites.join_requests.models import JoinRequest, RequestStatus
from invites.links.models import InviteLink
from invites.orgs.models import Membership, Organization
from tests.links.test_link_races import join_at_once

pytestmark = pytest.mark.postgres_only


def call_at_once(app, token, calls):
    """Each of ``calls`` ((method, path, json)) from its own thread and client, released
    together; returns their (status, JSON body) in order."""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def call(i, method, path, body):
        # Its own thread, so the request has its own app context (session and connection).
        client = app.test_client()
        barrier.wait()
        response = client.open(f"/api/v1{path}", method=method, json=body,
                               headers={"Authorization": f"Bearer {token}"})
        answers[i] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=call, args=(i, *c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(answer is not None for answer in answers), answers
    return answers


def test_two_accepts_of_one_join_request_at_once_make_one_member(app, team, make_user, make_token,
                                                                  make_join_request):
    token = make_token(team.org, team.owner)
    org_id, owner_id = team.org.id, team.owner.id
    for round_ in range(3):
        asker = make_user(name=f"Racing Asker {round_}")
        asker_id = asker.id
        request_id = make_join_request(db.session.get(Organization, org_id), db.session.get(User, owner_id), asker).id
        db.session.remove()

        answers = call_at_once(app, token, [("POST", f"/join-requests/{request_id}/accept", None)] * 2)

        codes = sorted(code for code, _ in answers)
        assert codes == [200, 409], answers
        ok = next(body for code, body in answers if code == 200)
        refused = next(body for code, body in answers if code == 409)
        assert ok["status"] == "accepted"
        assert set(refused) == {"error"} and refused["error"]["code"] in ("refused", "already_member")
        assert refused["error"]["field"] is None and refused["error"]["message"]
        assert db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(
            org_id=org_id, user_id=asker_id)) == 1
        assert db.session.get(JoinRequest, request_id).status == RequestStatus.ACCEPTED


def test_the_same_twenty_addresses_posted_twice_at_once_make_one_invitation_each(app, team, make_token):
    token = make_token(team.org, team.owner)
    org_id = team.org.id
    for round_ in range(3):
        addresses = [f"race{round_}-{i:02d}@example.com" for i in range(20)]
        db.session.remove()

        answers = call_at_once(app, token, [("POST", "/invitations", {"emails": addresses})] * 2)

        codes = [code for code, _ in answers]
        assert 500 not in codes, answers
        assert 200 in codes, answers
        for code, body in answers:
            if code == 200:
                outcomes = {r["email"]: r["outcome"] for r in body["results"]}
                assert list(outcomes) == addresses
                assert set(outcomes.values()) <= {"sent", "resent"}, outcomes
            else:
                assert code == 409 and body["error"]["code"] == "conflict", body
                assert "again" in body["error"]["message"]
        pending = db.session.execute(
            db.select(Invitation.email, db.func.count(Invitation.id))
            .where(Invitation.org_id == org_id, Invitation.email.in_(addresses), Invitation.status == Status.PENDING)
            .group_by(Invitation.email)
        ).all()
        assert dict(pending) == {address: 1 for address in addresses}
        # A 409 left nothing of its own behind: every row of these addresses is one of the pending ones.
        assert db.session.scalar(db.select(db.func.count(Invitation.id)).where(
            Invitation.org_id == org_id, Invitation.email.in_(addresses))) == 20


def test_a_one_use_link_made_through_the_api_lets_one_of_ten_in(app, client, team, make_user, make_token):
    token = make_token(team.org, team.owner)
    response = client.post("/api/v1/invite-links", json={"access": "anyone", "max_uses": 1},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    assert link["max_uses"] == 1 and link["access"] == "anyone"
    link_token = link["url"].rsplit("/l/", 1)[1]
    people = [make_user() for _ in range(10)]
    emails, person_ids, org_id = [p.email for p in people], [p.id for p in people], team.org.id
    db.session.remove()

    answers = join_at_once(app, link_token, emails)

    codes = sorted(code for code, _ in answers)
    assert codes.count(302) == 1 and codes.count(410) == 9, codes
    assert db.session.scalar(db.select(db.func.count(Membership.id)).where(
        Membership.org_id == org_id, Membership.user_id.in_(person_ids))) == 1
    assert db.session.get(InviteLink, link["id"]).uses == 1
    # The API reads it used up.
    with app.test_client() as reader:
        shown = reader.get(f"/api/v1/invite-links/{link['id']}", headers={"Authorization": f"Bearer {token}"})
    assert shown.get_json()["uses"] == 1 and shown.get_json()["state"] == "used_up"
