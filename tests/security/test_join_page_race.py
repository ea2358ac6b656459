"""Security review F9: 20 parallel "Join" presses on the Join Web Page by one account gave
1×302, 3×403 and 16×500 (``UniqueViolation uq_memberships_org_user``). The join now
answers a press that lost the race like the other join paths do: back to the
organization, nothing doubled, never a 500."""
import threading

import pytest

from invites.activity.models import Activity
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.join_page import service
from invites.orgs.models import Membership
from tests.conftest import PASSWORD


@pytest.fixture
def join_page(team):
    """Acme's Join Web Page, on, at /join/acme-join, with one default group."""
    team.org.plan = "premium"
    group = create_group(team.org, team.owner, "Learners")
    service.update_page(team.org, team.owner, service.page_of(team.org), enabled=True,
                        slug="acme-join", groups=[group], allowed_domains="")
    db.session.commit()
    return group


def count(model, **filters):
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))


@pytest.mark.postgres_only
def test_twenty_presses_at_once_make_one_membership_and_no_500(app, team, join_page, make_user):
    person = make_user(name="Quick Clicker")
    org_id, person_id, group_id, slug = team.org.id, person.id, join_page.id, team.org.slug
    email = person.email
    db.session.remove()

    presses = 20
    barrier = threading.Barrier(presses)
    answers = [None] * presses

    def press(i):
        # Its own client and session cookie, in its own thread, so each request gets its
        # own app context (the test's one would share flask.g between clients).
        client = app.test_client()
        response = client.post_form("/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 302
        csrf = client.csrf_token()
        barrier.wait()
        try:
            response = client.post("/join/acme-join", data={"csrf_token": csrf})
        except Exception as error:  # the error page itself failing: reported by the assert
            answers[i] = (repr(error)[:120], None, "")
        else:
            answers[i] = (response.status_code, response.location, response.get_data(as_text=True))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(presses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    codes = [answer[0] if answer else "no answer" for answer in answers]
    assert set(codes) <= {302, 403}, codes
    assert all(location == f"/o/{slug}" for code, location, _ in answers if code == 302)
    assert all("You are already a member of Acme Training." in body for code, _, body in answers if code == 403)
    assert count(Membership, org_id=org_id, user_id=person_id) == 1
    assert count(GroupMember, group_id=group_id, user_id=person_id) == 1
    assert count(Activity, org_id=org_id, verb="join_page.joined") == 1


def test_a_press_that_loses_the_race_is_sent_to_the_organization(client, auth, team, join_page, monkeypatch):
    """The loser's insert fails on the unique membership: stand in for the race on any
    database by letting a member past the "already a member" check and the admission's
    own look-up, as if their membership were committed a moment later."""
    from invites.orgs import admission

    monkeypatch.setattr(service, "check_may_join", lambda page, user: None)
    monkeypatch.setattr(admission, "_locked_membership", lambda org, user: None)
    auth.login(team.member)
    response = client.post_form("/join/acme-join")
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}"
    page = client.get(response.location).get_data(as_text=True)
    assert "You are already a member of Acme Training." in page
    assert count(Membership, org_id=team.org.id, user_id=team.member.id) == 1
    assert count(Activity, verb="join_page.joined") == 0
