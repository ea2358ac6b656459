import pytest

from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import add_to_group, create_group
from invites.orgs import service
from invites.orgs.models import Organization, Role
from tests.support import role_in


def verbs(org):
    return db.session.scalars(
        db.select(Activity.verb).filter_by(org_id=org.id).order_by(Activity.id)
    ).all()


# ---- creating and listing ------------------------------------------------------------

def test_creating_an_organization_makes_the_creator_its_owner(client, make_user, auth):
    user = make_user()
    auth.login(user)
    response = client.post_form("/orgs/new", {"name": "Acme Training", "description": "We teach."})
    assert response.status_code == 302
    org = db.session.scalar(db.select(Organization))
    assert org.slug == "acme-training" and org.plan == "free"
    assert response.headers["Location"] == f"/o/{org.slug}/manage"
    assert role_in(org, user) == Role.OWNER
    assert verbs(org) == ["org.created"]
    page = client.get("/orgs").get_data(as_text=True)
    assert "Acme Training" in page and "Owner" in page


def test_same_name_gets_a_distinct_slug_and_a_taken_slug_is_refused(client, make_user, auth):
    auth.login(make_user())
    client.post_form("/orgs/new", {"name": "Acme"})
    client.post_form("/orgs/new", {"name": "Acme"})
    assert sorted(db.session.scalars(db.select(Organization.slug))) == ["acme", "acme-2"]
    response = client.post_form("/orgs/new", {"name": "Other", "slug": "acme"})
    assert response.status_code == 200 and "This short name is taken" in response.get_data(as_text=True)
    response = client.post_form("/orgs/new", {"name": "Other", "slug": "new"})
    assert "reserved" in response.get_data(as_text=True)


def test_a_new_organization_never_takes_the_address_of_another_ones_join_page(client, make_user, auth, team):
    # Acme's join page is at /join/bigcorp; an organization made later as "BigCorp" must not
    # get that slug, or /join/bigcorp would show Acme's page as BigCorp's (security review F12).
    from invites.join_page import service as join_page

    team.org.plan = "premium"
    join_page.update_page(team.org, team.owner, join_page.page_of(team.org), enabled=True, slug="bigcorp",
                          groups=[], allowed_domains="")
    db.session.commit()
    auth.login(make_user())
    response = client.post_form("/orgs/new", {"name": "Other", "slug": "bigcorp"})
    assert response.status_code == 200 and "This short name is taken" in response.get_data(as_text=True)
    assert client.post_form("/orgs/new", {"name": "BigCorp"}).status_code == 302
    assert db.session.scalar(db.select(Organization.slug).filter_by(name="BigCorp")) == "bigcorp-2"
    assert "Acme" in client.get("/join/bigcorp").get_data(as_text=True)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"name": "Fine", "slug": "Not A Slug!"}, "Use lower-case letters"),
        ({"name": "Fine", "description": "d" * 2001}, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_organization_input_is_a_form_error(client, make_user, auth, data, message):
    auth.login(make_user())
    response = client.post_form("/orgs/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Organization)) == 0


def test_my_organizations_lists_each_role(client, team, auth, make_org):
    make_org(owner=team.manager, name="Manager's Own")
    auth.login(team.manager)
    html = client.get("/orgs").get_data(as_text=True)
    assert "Acme Training" in html and "Manager" in html
    assert "Manager&#39;s Own" in html and "Owner" in html


# ---- the organization page and Manage --------------------------------------------------

def test_manage_tab_lands_on_the_overview_and_the_panels_list_every_setting_for_owners(client, team, auth):
    auth.login(team.owner)
    response = client.get(f"/o/{team.org.slug}/manage")
    assert response.status_code == 302 and response.headers["Location"] == f"/o/{team.org.slug}"
    html = client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
    for label in ("Members", "Groups", "Invitations", "Invite Links", "Join Request Links",
                  "Join Requests", "Join Web Page", "Import Learners", "Permissions", "Activity"):
        assert label in html
    assert "Organization Settings" in html


def test_managers_see_manage_without_permissions_or_activity(client, team, auth):
    auth.login(team.manager)
    assert client.get(f"/o/{team.org.slug}/manage").headers["Location"] == f"/o/{team.org.slug}"
    html = client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
    assert "Members" in html and "/manage/permissions" not in html and "/manage/activity" not in html
    assert client.get(f"/o/{team.org.slug}/manage/permissions").status_code == 403
    assert client.get(f"/o/{team.org.slug}/manage/activity").status_code == 403


@pytest.mark.parametrize("who", ["member", "collaborator"])
def test_members_and_collaborators_have_no_manage_tab(client, team, auth, who):
    auth.login(getattr(team, who))
    page = client.get(f"/o/{team.org.slug}").get_data(as_text=True)
    assert ">Manage<" not in page
    assert client.get(f"/o/{team.org.slug}/manage").status_code == 403
    assert client.get(f"/o/{team.org.slug}/manage/members").status_code == 403


def test_outsiders_and_unknown_slugs_get_404_pages_in_the_layout(client, team, auth):
    auth.login(team.outsider)
    for url in (f"/o/{team.org.slug}", f"/o/{team.org.slug}/manage", "/o/no-such-org"):
        response = client.get(url)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "Not found" in html and "<main" in html and "Traceback" not in html


def test_anonymous_visitors_are_sent_to_log_in(client, team):
    response = client.get(f"/o/{team.org.slug}/manage/members")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


# ---- roles ------------------------------------------------------------------------------

def role_url(team, role):
    return f"/o/{team.org.slug}/members/{team.memberships[role].id}/role"


def test_owner_changes_a_role_inline_with_htmx_and_gets_the_row(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(role_url(team, Role.MEMBER), {"role": "manager"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="member-{team.memberships[Role.MEMBER].id}"')
    assert '<option value="manager" selected>' in html
    assert 'hx-swap-oob="true"' in html and "Mia Member is now Manager." in html
    assert "HX-Request" in response.headers["Vary"]
    assert role_in(team.org, team.member) == Role.MANAGER
    entry = db.session.scalar(db.select(Activity).filter_by(verb="member.role_changed"))
    assert entry.actor_id == team.owner.id
    assert entry.summary == "changed Mia Member's role from Member to Manager"


def test_the_same_change_without_htmx_redirects_back_to_members(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(role_url(team, Role.MEMBER), {"role": "collaborator"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/o/{team.org.slug}/manage/members"
    assert role_in(team.org, team.member) == Role.COLLABORATOR


@pytest.mark.parametrize("who", ["manager", "member", "collaborator", "outsider"])
def test_only_owners_change_roles(client, team, auth, who):
    auth.login(getattr(team, who))
    response = client.post_form(role_url(team, Role.MEMBER), {"role": "owner"})
    assert response.status_code == (404 if who == "outsider" else 403)
    assert role_in(team.org, team.member) == Role.MEMBER


def test_an_unknown_role_changes_nothing(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(role_url(team, Role.MEMBER), {"role": "emperor"})
    assert response.status_code == 302
    assert role_in(team.org, team.member) == Role.MEMBER


def test_the_last_owner_cannot_be_demoted(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(role_url(team, Role.OWNER), {"role": "manager"}, htmx=True)
    assert response.status_code == 200
    assert "at least one owner" in response.get_data(as_text=True)
    assert role_in(team.org, team.owner) == Role.OWNER
    assert "member.role_changed" not in verbs(team.org)


def test_with_a_second_owner_the_first_may_step_down(client, team, auth):
    service.change_role(team.org, team.owner, team.memberships[Role.MANAGER], Role.OWNER)
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(role_url(team, Role.OWNER), {"role": "member"}, htmx=True)
    assert role_in(team.org, team.owner) == Role.MEMBER
    # No longer allowed on the Members panel, the page is sent to the organization.
    assert response.headers["HX-Redirect"] == f"/o/{team.org.slug}"


def test_the_last_owner_can_neither_be_removed_nor_leave(team):
    owner_membership = team.memberships[Role.OWNER]
    with pytest.raises(DomainError):
        service.remove_member(team.org, team.owner, owner_membership)
    with pytest.raises(DomainError):
        service.leave_organization(team.org, owner_membership)
    with pytest.raises(DomainError):
        service.change_role(team.org, team.owner, owner_membership, Role.COLLABORATOR)
    db.session.rollback()
    assert role_in(team.org, team.owner) == Role.OWNER


def test_a_manager_cannot_grant_a_role_above_their_own(team):
    with pytest.raises(DomainError) as error:
        service.change_role(team.org, team.manager, team.memberships[Role.MEMBER], Role.OWNER)
    assert error.value.field == "role"


# ---- removing and leaving ---------------------------------------------------------------

def remove_url(team, role):
    return f"/o/{team.org.slug}/members/{team.memberships[role].id}/remove"


def test_remove_without_javascript_asks_for_confirmation_first(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(remove_url(team, Role.MEMBER))
    assert response.status_code == 200
    assert "Remove Mia Member?" in response.get_data(as_text=True)
    assert role_in(team.org, team.member) == Role.MEMBER
    response = client.post_form(remove_url(team, Role.MEMBER), {"confirmed": "yes"})
    assert response.status_code == 302
    assert role_in(team.org, team.member) is None


def test_remove_with_htmx_empties_the_row_and_takes_group_places_too(client, team, auth):
    group = create_group(team.org, team.owner, "Safety")
    add_to_group(team.org, team.owner, group, team.member)
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(remove_url(team, Role.MEMBER), {"confirmed": "yes"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<tr" not in html and "was removed from Acme Training" in html
    assert role_in(team.org, team.member) is None
    assert db.session.scalar(db.select(GroupMember).filter_by(user_id=team.member.id)) is None
    assert "member.removed" in verbs(team.org)


def test_managers_cannot_remove_members(client, team, auth):
    auth.login(team.manager)
    assert client.post_form(remove_url(team, Role.MEMBER), {"confirmed": "yes"}).status_code == 403
    assert role_in(team.org, team.member) == Role.MEMBER


def test_another_organizations_member_id_is_404_here(client, team, auth, make_org, make_user, add_member):
    other_org = make_org(owner=make_user(), name="Elsewhere")
    stranger = add_member(other_org, make_user(name="Stranger"), Role.MEMBER)
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/members/{stranger.id}/role"
    assert client.post_form(url, {"role": "collaborator"}).status_code == 404
    assert client.post_form(f"/o/{team.org.slug}/members/{stranger.id}/remove", {"confirmed": "yes"}).status_code == 404
    assert role_in(other_org, stranger.user) == Role.MEMBER


def test_a_member_leaves_after_confirming(client, team, auth):
    auth.login(team.member)
    assert "Leave " in client.post_form(f"/o/{team.org.slug}/leave").get_data(as_text=True)
    response = client.post_form(f"/o/{team.org.slug}/leave", {"confirmed": "yes"})
    assert response.status_code == 302 and response.headers["Location"] == "/orgs"
    assert role_in(team.org, team.member) is None


def test_the_last_owner_is_told_why_they_cannot_leave(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/leave", {"confirmed": "yes"}, follow_redirects=True)
    assert "You are the last owner" in response.get_data(as_text=True)
    assert role_in(team.org, team.owner) == Role.OWNER


# ---- CSRF ---------------------------------------------------------------------------------

def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(client, team, auth):
    auth.login(team.owner)
    response = client.post(role_url(team, Role.MEMBER), data={"role": "manager"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert role_in(team.org, team.member) == Role.MEMBER


def test_htmx_sends_the_token_in_a_header(client, team, auth):
    auth.login(team.owner)
    token = client.csrf_token()
    response = client.post(
        role_url(team, Role.MEMBER), data={"role": "manager"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert role_in(team.org, team.member) == Role.MANAGER


# ---- Permissions ---------------------------------------------------------------------------

def test_owner_changes_who_may_add_new_people_and_it_is_recorded(client, team, auth):
    auth.login(team.owner)
    response = client.post_form(
        f"/o/{team.org.slug}/manage/permissions",
        {"members_may_add_people": "y", "invitation_lifetime_days": "7"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert team.org.members_may_add_people and not team.org.managers_may_add_people
    assert team.org.invitation_lifetime_days == 7
    entry = db.session.scalar(db.select(Activity).filter_by(verb="settings.changed"))
    assert "managers may add new people: on → off" in entry.summary
    assert "members may add new people: off → on" in entry.summary


@pytest.mark.parametrize("days", ["0", "366", "abc", ""])
def test_bad_permission_values_are_form_errors(client, team, auth, days):
    auth.login(team.owner)
    response = client.post_form(
        f"/o/{team.org.slug}/manage/permissions", {"invitation_lifetime_days": days}
    )
    assert response.status_code == 200
    assert "field-error" in response.get_data(as_text=True)
    db.session.expire_all()
    assert team.org.invitation_lifetime_days == 14 and team.org.managers_may_add_people


# ---- members panel ---------------------------------------------------------------------------

def test_members_panel_searches_and_answers_htmx_with_the_table(client, team, auth):
    auth.login(team.manager)
    page = client.get(f"/o/{team.org.slug}/manage/members?q=mia").get_data(as_text=True)
    assert "Mia Member" in page and "Cole Collaborator" not in page and "<html" in page
    fragment = client.get(
        f"/o/{team.org.slug}/manage/members?q=cole", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="members-table">')
    assert "Cole Collaborator" in fragment and "<html" not in fragment
    # Managers see roles but no role selects (only owners change roles).
    assert "<select" not in fragment


def test_members_panel_paginates(client, team, auth, app):
    app.config["PAGE_SIZE"] = 3
    auth.login(team.owner)
    first = client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
    assert "Page 1 of 2 (4 in all)" in first
    assert first.count('<tr id="member-') == 3
    last = client.get(f"/o/{team.org.slug}/manage/members?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in last and last.count('<tr id="member-') == 1
    assert client.get(f"/o/{team.org.slug}/manage/members?page=abc").status_code == 200


def test_members_are_listed_owners_first_then_by_name_and_follow_changes(team, make_user, add_member):
    org = team.org
    for name in ("zoë Zed", "Ann Young", "bob Brown"):
        add_member(org, make_user(name=name), Role.MEMBER)

    def order():
        db.session.expire_all()
        return [m.user.name for m in service.page_of_members(org, 1, 50).items]

    assert order() == ["Olivia Owner", "Max Manager", "Ann Young", "bob Brown", "Mia Member",
                       "zoë Zed", "Cole Collaborator"]
    service.change_role(org, team.owner, team.memberships[Role.COLLABORATOR], Role.MANAGER)
    team.member.name = "Aaron Member"  # a rename (no page offers one yet) keeps its place
    db.session.commit()
    assert order() == ["Olivia Owner", "Cole Collaborator", "Max Manager", "Aaron Member",
                       "Ann Young", "bob Brown", "zoë Zed"]


def test_the_members_order_migration_fills_existing_rows(app, team):
    import flask_migrate
    from sqlalchemy import text

    owner, manager, member, collaborator = (u.id for u in (team.owner, team.manager, team.member, team.collaborator))
    db.session.close()  # the migration alters the table from another connection
    flask_migrate.downgrade(revision="0005")
    try:
        db.session.execute(text("UPDATE users SET name = 'Zed Manager' WHERE id = :id"), {"id": manager})
        db.session.commit()
    finally:
        flask_migrate.upgrade()
    rows = dict(db.session.execute(text("SELECT user_id, role_order FROM memberships")).all())
    names = dict(db.session.execute(text("SELECT user_id, sort_name FROM memberships")).all())
    assert rows == {owner: 0, manager: 1, member: 2, collaborator: 3}
    assert names[manager] == "zed manager" and names[owner] == "olivia owner"
