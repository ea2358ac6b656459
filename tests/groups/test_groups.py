import pytest

from invites.activity.models import Activity
from invites.extensions import db
from invites.groups import service
from invites.groups.models import Group, GroupMember, JoinMethod
from invites.errors import DomainError


def groups_url(team):
    return f"/o/{team.org.slug}/groups"


def entry(group, user):
    db.session.expire_all()
    return db.session.get(GroupMember, (group.id, user.id))


@pytest.fixture
def group(team):
    g = service.create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    return g


def test_manager_creates_a_group_and_it_is_recorded(client, team, auth):
    auth.login(team.manager)
    response = client.post_form(groups_url(team), {"name": "Safety", "join_method": "open"})
    assert response.status_code == 302
    created = db.session.scalar(db.select(Group).filter_by(name="Safety"))
    assert created.org_id == team.org.id and created.join_method == JoinMethod.OPEN
    assert response.headers["Location"] == f"{groups_url(team)}/{created.id}"
    assert db.session.scalar(db.select(Activity.summary).filter_by(verb="group.created")) == "created the group Safety"


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "", "join_method": "open"}, "This field is required."),
        ({"name": "new hires", "join_method": "open"}, "There is already a group called new hires."),
        ({"name": "x" * 81, "join_method": "open"}, "Field cannot be longer than 80 characters."),
        ({"name": "Fine", "join_method": "anarchy"}, "Not a valid choice."),
    ],
)
def test_bad_group_input_is_a_form_error_and_creates_nothing(client, team, auth, group, data, message):
    auth.login(team.owner)
    response = client.post_form(groups_url(team), data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Group)) == 1


@pytest.mark.parametrize("who", ["member", "collaborator"])
def test_members_and_collaborators_cannot_manage_groups(client, team, auth, group, who):
    auth.login(getattr(team, who))
    assert client.get(groups_url(team)).status_code == 200  # they may look
    assert client.post_form(groups_url(team), {"name": "Mine", "join_method": "open"}).status_code == 403
    assert client.post_form(f"{groups_url(team)}/{group.id}", {"name": "Renamed", "join_method": "open"}).status_code == 403
    assert client.post_form(f"{groups_url(team)}/{group.id}/delete", {"confirmed": "yes"}).status_code == 403
    assert client.post_form(f"{groups_url(team)}/{group.id}/members", {"person": team.member.username}).status_code == 403
    db.session.expire_all()
    assert group.name == "New Hires" and entry(group, team.member) is None


def test_rename_and_change_join_method(client, team, auth, group):
    auth.login(team.owner)
    response = client.post_form(f"{groups_url(team)}/{group.id}", {"name": "Starters", "join_method": "request"})
    assert response.status_code == 302
    db.session.expire_all()
    assert (group.name, group.join_method) == ("Starters", JoinMethod.REQUEST)
    summaries = db.session.scalars(db.select(Activity.summary).filter_by(verb="group.updated")).all()
    assert summaries == ["renamed the group New Hires to Starters", "set Starters's join method to Request"]


def test_rename_to_an_existing_name_is_refused(client, team, auth, group):
    service.create_group(team.org, team.owner, "Safety")
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(f"{groups_url(team)}/{group.id}", {"name": "SAFETY", "join_method": "open"})
    assert response.status_code == 422 and "There is already a group called SAFETY" in response.get_data(as_text=True)


def test_add_remove_and_make_manager(client, team, auth, group):
    auth.login(team.manager)
    base = f"{groups_url(team)}/{group.id}"
    assert client.post_form(f"{base}/members", {"person": team.member.email.upper()}).status_code == 302
    assert entry(group, team.member) is not None and not entry(group, team.member).is_manager

    row = client.post_form(f"{base}/members/{team.member.id}/manager", {"is_manager": "yes"}, htmx=True)
    assert row.status_code == 200 and "Group manager" in row.get_data(as_text=True)
    assert entry(group, team.member).is_manager

    gone = client.post_form(f"{base}/members/{team.member.id}/remove", {"confirmed": "yes"}, htmx=True)
    assert "<tr" not in gone.get_data(as_text=True)
    assert entry(group, team.member) is None
    verbs = db.session.scalars(db.select(Activity.verb).order_by(Activity.id)).all()
    assert verbs[-3:] == ["group.member_added", "group.manager_changed", "group.member_removed"]


def test_removing_from_a_group_without_javascript_asks_first(client, team, auth, group):
    service.add_to_group(team.org, team.owner, group, team.member)
    db.session.commit()
    auth.login(team.manager)
    url = f"{groups_url(team)}/{group.id}/members/{team.member.id}/remove"
    page = client.post_form(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Remove Mia Member from New Hires?" in html
    assert f'action="{url}"' in html and 'name="confirmed" value="yes"' in html
    assert entry(group, team.member) is not None  # only asked
    assert client.post_form(url, {"confirmed": "yes"}).status_code == 302
    assert entry(group, team.member) is None
    from invites import policy
    assert policy.role_of(team.member, team.org) == "member"  # still in the organization


def test_only_organization_members_can_be_added(client, team, auth, group):
    auth.login(team.owner)
    response = client.post_form(f"{groups_url(team)}/{group.id}/members", {"person": team.outsider.username})
    assert response.status_code == 422
    assert "No member of this organization" in response.get_data(as_text=True)
    assert entry(group, team.outsider) is None


def test_adding_twice_is_a_clear_error(team, group):
    service.add_to_group(team.org, team.owner, group, team.member)
    with pytest.raises(DomainError, match="already in New Hires"):
        service.add_to_group(team.org, team.owner, group, team.member)


def test_delete_asks_then_removes_the_group_but_not_its_people(client, team, auth, group):
    service.add_to_group(team.org, team.owner, group, team.member)
    db.session.commit()
    auth.login(team.owner)
    url = f"{groups_url(team)}/{group.id}/delete"
    assert "Delete the group New Hires?" in client.post_form(url).get_data(as_text=True)
    assert client.post_form(url, {"confirmed": "yes"}).status_code == 302
    assert db.session.scalar(db.select(Group)) is None
    assert db.session.scalar(db.select(GroupMember)) is None
    from invites import policy
    assert policy.role_of(team.member, team.org) == "member"


def test_members_join_open_groups_only(client, team, auth, group):
    auth.login(team.member)
    response = client.post_form(f"{groups_url(team)}/{group.id}/join", follow_redirects=True)
    assert "This group is not open" in response.get_data(as_text=True)
    assert entry(group, team.member) is None
    group.join_method = JoinMethod.OPEN
    db.session.commit()
    client.post_form(f"{groups_url(team)}/{group.id}/join")
    assert entry(group, team.member) is not None
    client.post_form(f"{groups_url(team)}/{group.id}/leave")
    assert entry(group, team.member) is None


def test_another_organizations_group_is_404(client, team, auth, make_org, make_user):
    other = make_org(owner=make_user(), name="Elsewhere")
    foreign = service.create_group(other, None, "Theirs")
    db.session.commit()
    auth.login(team.owner)
    assert client.get(f"{groups_url(team)}/{foreign.id}").status_code == 404
    assert client.post_form(f"{groups_url(team)}/{foreign.id}/delete", {"confirmed": "yes"}).status_code == 404
    assert db.session.get(Group, foreign.id) is not None


def test_group_list_shows_member_counts(client, team, auth, group):
    service.add_to_group(team.org, team.owner, group, team.member)
    service.add_to_group(team.org, team.owner, group, team.manager)
    service.create_group(team.org, team.owner, "Empty")
    db.session.commit()
    auth.login(team.member)
    html = client.get(groups_url(team)).get_data(as_text=True)
    assert "<td>2</td>" in html and "<td>0</td>" in html


def test_a_group_has_a_description_that_staff_set_and_invitations_carry(client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/groups", {
        "name": "Forklift", "join_method": "invite_only",
        "description": "Certification for warehouse staff.",
    })
    assert response.status_code == 302
    group = db.session.scalar(db.select(Group).filter_by(org_id=team.org.id, name="Forklift"))
    assert group.description == "Certification for warehouse staff."
    page = client.get(f"/o/{team.org.slug}/groups/{group.id}").get_data(as_text=True)
    assert "Certification for warehouse staff." in page
    response = client.post_form(f"/o/{team.org.slug}/groups/{group.id}", {
        "name": "Forklift", "join_method": "invite_only", "description": "x" * 1001,
    })
    assert response.status_code == 422
    db.session.refresh(group)
    assert group.description == "Certification for warehouse staff."
    response = client.post_form(f"/o/{team.org.slug}/groups/{group.id}", {
        "name": "Forklift", "join_method": "invite_only", "description": "  Level 2.  ",
    })
    assert response.status_code == 302
    db.session.refresh(group)
    assert group.description == "Level 2."
    assert "changed the description of the group Forklift" in set(
        db.session.scalars(db.select(Activity.summary)))
