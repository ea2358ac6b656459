"""Security review F5: the group member actions loaded any account of the site by id, and
their confirm page and flash named it, so anyone who made an organization and a group
could read every tenant's user names. They now load the person through a membership of
the organization in the URL, and answer 404 for anyone else."""
import pytest

from invites.extensions import db
from invites.groups import service
from invites.groups.models import GroupMember

ACTIONS = [
    ("remove", {}),                    # no confirmed=yes: the confirm page named the person
    ("manager", {"is_manager": "yes"}),  # the flash said "<name> is not in <group>."
]


@pytest.fixture
def eve(make_user, make_org):
    """An outsider who made an organization "Eve Org" and a group "eg" in it."""
    person = make_user(name="Eve Evil", email="eve@evil.test")
    org = make_org(owner=person, name="Eve Org")
    group = service.create_group(org, person, "eg")
    db.session.commit()
    person.org, person.group = org, group
    return person


@pytest.fixture
def bob(make_user, make_org):
    """The owner of another tenant, "Beta Org"."""
    person = make_user(name="Bob Beta", email="bob@b.test")
    make_org(owner=person, name="Beta Org")
    return person


@pytest.mark.parametrize("action, data", ACTIONS)
@pytest.mark.parametrize("htmx", [False, True])
def test_another_tenants_user_is_404_and_unnamed(client, auth, eve, bob, team, action, data, htmx):
    auth.login(eve)
    for victim in (bob, team.owner, team.outsider):  # two other tenants' people, and someone in none
        url = f"/o/{eve.org.slug}/groups/{eve.group.id}/members/{victim.id}/{action}"
        response = client.post_form(url, data, htmx=htmx)
        body = response.get_data(as_text=True)
        assert response.status_code == 404, (victim.name, response.status_code, body[:300])
        assert victim.name not in body
        # Nor on the next page, through a flash message kept in the session.
        assert victim.name not in client.get(f"/o/{eve.org.slug}/groups/{eve.group.id}").get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(GroupMember)) == 0


def test_an_unknown_id_is_404_like_another_tenants(client, auth, eve):
    auth.login(eve)
    url = f"/o/{eve.org.slug}/groups/{eve.group.id}/members/999999/remove"
    assert client.post_form(url).status_code == 404


def test_members_of_the_organization_still_load(client, auth, team):
    group = service.create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    auth.login(team.manager)
    base = f"/o/{team.org.slug}/groups/{group.id}/members"
    # In the organization, not in the group: named, with the service's own message.
    response = client.post_form(f"{base}/{team.member.id}/manager", {"is_manager": "yes"}, htmx=True)
    assert response.status_code == 200 and "Mia Member is not in New Hires." in response.get_data(as_text=True)
    service.add_to_group(team.org, team.owner, group, team.member)
    db.session.commit()
    asking = client.post_form(f"{base}/{team.member.id}/remove")
    assert asking.status_code == 200 and "Remove Mia Member from New Hires?" in asking.get_data(as_text=True)
