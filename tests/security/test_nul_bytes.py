"""Security review F8: a NUL byte in a path, query or form gave 500s (PostgreSQL refuses
NUL in text), some on unauthenticated routes; and after a failed write the error page
itself failed (the session was never rolled back), leaving Werkzeug's bare 500. Now one
guard answers 400 with the app's error page before any route runs, and the 500 page rolls
the session back before it renders the layout."""
import io

import pytest
from sqlalchemy.exc import IntegrityError

from invites.accounts.models import User
from invites.extensions import db
from invites.groups.models import Group
from invites.invitations.models import Invitation
from invites.orgs.models import Membership, Role

REFUSED = "The request holds a character that is not allowed"


def assert_refused(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 400, (response.status_code, body[:300])
    assert REFUSED in body and "Error 400" in body and "<main" in body  # the app's page


def test_the_join_page_path_unauthenticated(client):
    assert_refused(client.get("/join/a%00b"))


@pytest.mark.parametrize("path", ["/join/a%00b", "/o/%00/manage/members", "/o/a%00b/groups/1"])
def test_an_organization_slug_when_logged_in(client, auth, team, path):
    # The error page loads the viewer, with the URL's organization: that slug must not
    # reach the database (PostgreSQL refused it, and the error page became a bare 500).
    auth.login(team.owner)
    assert_refused(client.get(path))
    assert_refused(client.get(path, headers={"HX-Request": "true"}))
    assert_refused(client.post_form(path.replace("members", "webhooks"), {}))


def test_registering_with_a_nul_in_the_name(client):
    response = client.post_form("/register", {
        "name": "a\x00b", "username": "nully", "email": "nully@example.com",
        "password": "a long new password", "confirm": "a long new password",
    })
    assert_refused(response)
    assert db.session.scalar(db.select(User).filter_by(username="nully")) is None


@pytest.mark.parametrize("path", [
    "/o/{slug}/manage/members?q=%00",
    "/o/{slug}/manage/invitations?q=%00",
    "/o/{slug}/invitations/people?person=%00",
    "/o/{slug}/manage/members?q%00=x",  # in a name, not only in a value
])
def test_staff_searches(client, auth, team, path):
    auth.login(team.owner)
    assert_refused(client.get(path.format(slug=team.org.slug)))
    assert_refused(client.get(path.format(slug=team.org.slug), headers={"HX-Request": "true"}))


def test_an_invitation_message(client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new", {
        "addresses": "new.person@example.com", "role": Role.MEMBER, "message": "a\x00b",
    })
    assert_refused(response)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_a_group_name(client, auth, team):
    auth.login(team.owner)
    assert_refused(client.post_form(f"/o/{team.org.slug}/groups", {"name": "g\x00", "join_method": "open"}))
    assert db.session.scalar(db.select(db.func.count(Group.id))) == 0


def test_an_uploaded_files_name(client, auth, team):
    team.org.plan = "premium"
    db.session.commit()
    auth.login(team.owner)
    upload = (io.BytesIO(b"email\nann@example.com\n"), "people\x00.csv")
    assert_refused(client.post_form(f"/o/{team.org.slug}/imports", {"file": upload},
                                    content_type="multipart/form-data"))


def test_ordinary_text_still_passes(client):
    response = client.post_form("/register", {
        "name": "Zoë Ünïcode 😀", "username": "zoe", "email": "zoe@example.com",
        "password": "a long new password", "confirm": "a long new password",
    })
    assert response.status_code == 302
    assert db.session.scalar(db.select(User.name).filter_by(username="zoe")) == "Zoë Ünïcode 😀"


def test_the_500_page_still_renders_after_a_failed_write(app, client, auth, team):
    """A route that lets a failed flush go by and then fails (what a NUL in an imported
    file did on PostgreSQL): the 500 page renders in the layout, with the user's name and
    bell, instead of failing on the broken session."""
    owner_id, org_id = team.owner.id, team.org.id

    @app.route("/test-only/failed-write")
    def failed_write():
        db.session.add(Membership(org_id=org_id, user_id=owner_id, role=Role.MEMBER))  # a duplicate
        try:
            db.session.flush()
        except IntegrityError:
            pass  # careless: the session now refuses every query until it is rolled back
        raise RuntimeError("something after the failed write")

    auth.login(team.owner)
    response = client.get("/test-only/failed-write")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body and "Error 500" in body
    assert "Olivia Owner" in body and 'id="bell"' in body  # the layout, with the user
    assert db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(org_id=org_id)) == 4


def test_an_id_past_what_a_column_holds_is_a_404_page_not_a_500(client, auth, team):
    """SQLite cannot bind an integer past 64 bits: such an id never reaches a query."""
    auth.login(team.owner)
    for url in (f"/o/{team.org.slug}/invitations/{10**30}/edit", f"/o/{team.org.slug}/links/{2**63}",
                f"/o/{team.org.slug}/groups/{2**31}"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Not found" in response.get_data(as_text=True)
