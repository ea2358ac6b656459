"""A link with a maximum of 1 use, used by 20 (issue 4) and 50 (issue 8) people at the
same moment, and the last uses of a domain-bound link (issue 19) (PostgreSQL)."""
import threading

import pytest

from invites.extensions import db
from invites.links.models import InviteLink
from invites.orgs.models import Membership
from tests.conftest import PASSWORD


def join_at_once(app, token, emails):
    """Each of ``emails`` logs in, then all press Join on the link at the same moment;
    returns their (status, body) in order."""
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
    return answers


@pytest.mark.postgres_only
@pytest.mark.parametrize("crowd", [20, 50])
def test_many_people_at_once_on_a_one_use_link(app, team, make_user, make_link, crowd):
    link, token = make_link(team.org, team.owner, max_uses=1)
    people = [make_user() for _ in range(crowd)]
    emails = [p.email for p in people]
    org_id, link_id, person_ids = team.org.id, link.id, [p.id for p in people]
    db.session.remove()

    answers = join_at_once(app, token, emails)

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


@pytest.mark.postgres_only
def test_twenty_at_once_on_the_last_uses_of_a_domain_bound_link(app, team, make_user, make_link):
    """Domains, a use limit and an expiry on one link (issue 19): of 20 people pressing
    Join at once, those at another domain are refused with the rule whatever the count,
    and of the 15 allowed exactly the 3 remaining uses get in."""
    from invites.links.service import use_link

    link, token = make_link(team.org, team.owner, max_uses=4, expiration="7d", allowed_domains="example.com")
    first = make_user()
    with app.test_request_context():
        use_link(link, first)
        db.session.commit()
    allowed = [make_user() for _ in range(15)]  # make_user's addresses are at example.com
    outside = [make_user(email=f"outsider{i}@elsewhere.test") for i in range(5)]
    people = allowed + outside
    emails, org_id, link_id = [p.email for p in people], team.org.id, link.id
    allowed_ids, outside_ids = [p.id for p in allowed], [p.id for p in outside]
    db.session.remove()

    answers = join_at_once(app, token, emails)

    inside, refused = answers[:15], answers[15:]
    # An outsider is refused by the rule, or by the used-up link if it read the link after
    # the last use went: never let in.
    assert all((code == 403 and "accepts people with an email address at example.com" in body)
               or (code == 410 and "has been used up" in body) for code, body in refused), refused
    codes = sorted(code for code, _ in inside)
    assert codes.count(302) == 3 and codes.count(410) == 12, codes
    joined = db.session.scalar(
        db.select(db.func.count(Membership.id)).where(
            Membership.org_id == org_id, Membership.user_id.in_(allowed_ids)
        )
    )
    assert joined == 3
    outsiders = db.session.scalar(db.select(db.func.count(Membership.id)).where(
        Membership.org_id == org_id, Membership.user_id.in_(outside_ids)))
    assert outsiders == 0
    assert db.session.get(InviteLink, link_id).uses == 4
