"""A link with a maximum of 1 use, used by 20 (issue 4) and 50 (issue 8) people at the
same moment (PostgreSQL)."""
import threading

import pytest

from invites.extensions import db
from invites.links.models import InviteLink
from invites.orgs.models import Membership
from tests.conftest import PASSWORD


@pytest.mark.postgres_only
@pytest.mark.parametrize("crowd", [20, 50])
def test_many_people_at_once_on_a_one_use_link(app, team, make_user, make_link, crowd):
    link, token = make_link(team.org, team.owner, max_uses=1)
    people = [make_user() for _ in range(crowd)]
    emails = [p.email for p in people]
    org_id, link_id, person_ids = team.org.id, link.id, [p.id for p in people]
    db.session.remove()

    barrier = threading.Barrier(len(emails))
    answers = [None] * len(emails)

    def use(i, email):
        # In its own thread, so each request gets its own app context (the test's one
        # would share flask.g, and with it the logged-in user, between clients).
        client = app.test_client()
        response = client.post_form("/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 302
        csrf = client.csrf_token()
        barrier.wait()
        response = client.post(f"/l/{token}/join", data={"csrf_token": csrf})
        answers[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=use, args=(i, e)) for i, e in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    codes = sorted(code for code, _ in answers)
    assert codes.count(302) == 1 and codes.count(410) == crowd - 1, codes
    assert all("has been used up" in body for code, body in answers if code == 410)
    joined = db.session.scalar(
        db.select(db.func.count(Membership.id)).where(
            Membership.org_id == org_id, Membership.user_id.in_(person_ids)
        )
    )
    assert joined == 1
    assert db.session.get(InviteLink, link_id).uses == 1
