"""The welcome after coming in, one sentence for every way in (issue 22, point 7): "You
joined Acme Training as Member, and the group Safety Training." It used to read "You joined
as Member and Safety Training"."""
import pytest

from invites.extensions import db
from invites.groups.service import create_group
from invites.links.models import Access
from invites.orgs.admission import welcome
from invites.orgs.models import Plan, Role


class Named:
    def __init__(self, name):
        self.name = name


@pytest.mark.parametrize("role, names, said", [
    ("Member", ["Safety Training"], "You joined Acme Training as Member, and the group Safety Training."),
    ("Member", ["A", "B"], "You joined Acme Training as Member, and the groups A and B."),
    ("Collaborator", ["A", "B", "C"], "You joined Acme Training as Collaborator, and the groups A, B and C."),
    ("Member", [], "You joined Acme Training as Member."),
    (None, ["A"], "You joined the group A."),
    (None, ["A", "B"], "You joined the groups A and B."),
])
def test_the_sentence(role, names, said):
    assert welcome(Named("Acme Training"), role, [Named(n) for n in names]) == said


def flashed_after(client, response):
    assert response.status_code == 302
    return client.get(response.location).get_data(as_text=True)


@pytest.fixture
def groups(team):
    made = [create_group(team.org, team.owner, "Safety Training"), create_group(team.org, team.owner, "New Hires")]
    db.session.commit()
    return made


def test_an_invitation_accepted_from_its_link(client, auth, team, groups, make_invitation, make_user):
    _, token = make_invitation(team.org, team.owner, "ivy@example.com", groups=groups)
    auth.login(make_user(name="Ivy Invitee", email="ivy@example.com"))
    page = flashed_after(client, client.post_form(f"/i/{token}/accept"))
    assert "You joined Acme Training as Member, and the groups New Hires and Safety Training." in page
    assert "You joined as" not in page


def test_an_invite_link(client, auth, team, groups, make_link, make_user):
    _, token = make_link(team.org, team.owner, access=Access.ANYONE, role=Role.COLLABORATOR, groups=groups[:1])
    auth.login(make_user(name="Nat Newcomer"))
    page = flashed_after(client, client.post_form(f"/l/{token}/join"))
    assert "You joined Acme Training as Collaborator, and the group Safety Training." in page


def test_the_join_web_page(client, auth, team, groups, make_user):
    team.org.plan = Plan.PREMIUM
    db.session.commit()
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/manage/join-page", {
        "enabled": "y", "slug": "acme-join", "allowed_domains": "", "groups": [str(g.id) for g in groups],
    })
    auth.logout()
    auth.login(make_user(name="Walk In"))
    page = flashed_after(client, client.post_form("/join/acme-join"))
    assert "You joined Acme Training as Member, and the groups New Hires and Safety Training." in page
