"""What a request knows of its viewer (``invites.viewer``: the account, the organization,
the role and the bell, read in one query) is read again on every request: a change made
elsewhere counts on the very next request. Each request here runs in its own app context,
as under gunicorn, so nothing an earlier request loaded is reused."""
from invites.extensions import db
from invites.orgs.models import Membership, Role


def get(app, client, path):
    with app.app_context():
        return client.get(path)


def change_elsewhere(app, membership_id, role=None, remove=False):
    """An owner's change in another request (another app context, another session)."""
    with app.app_context():
        membership = db.session.get(Membership, membership_id)
        if remove:
            db.session.delete(membership)
        else:
            membership.role = role
        db.session.commit()


def test_a_demoted_manager_is_refused_on_the_next_request(app, client, team, auth):
    auth.login(team.manager)
    panel = f"/o/{team.org.slug}/manage/invitations"
    assert get(app, client, panel).status_code == 200
    change_elsewhere(app, team.memberships[Role.MANAGER].id, role=Role.MEMBER)
    assert get(app, client, panel).status_code == 403
    assert get(app, client, f"/o/{team.org.slug}").status_code == 200  # still a member


def test_a_promoted_member_is_let_in_on_the_next_request(app, client, team, auth):
    auth.login(team.member)
    panel = f"/o/{team.org.slug}/manage/members"
    assert get(app, client, panel).status_code == 403
    change_elsewhere(app, team.memberships[Role.MEMBER].id, role=Role.MANAGER)
    assert get(app, client, panel).status_code == 200


def test_a_removed_member_gets_not_found_on_the_next_request(app, client, team, auth):
    auth.login(team.member)
    overview = f"/o/{team.org.slug}"
    assert get(app, client, overview).status_code == 200
    change_elsewhere(app, team.memberships[Role.MEMBER].id, remove=True)
    assert get(app, client, overview).status_code == 404
    assert get(app, client, "/").status_code == 200  # the account itself still works


def test_an_unknown_organization_is_not_found_for_a_logged_in_viewer(app, client, team, auth):
    auth.login(team.owner)
    assert get(app, client, "/o/no-such-org").status_code == 404
    assert get(app, client, "/o/no-such-org/manage/members").status_code == 404


def test_the_bell_counts_what_arrived_since_the_last_request(app, client, team, auth):
    from invites.notifications.service import notify

    auth.login(team.member)
    assert "bell-count" not in get(app, client, "/").get_data(as_text=True)
    with app.app_context():
        entry = notify(db.session.get(type(team.member), team.member.id), "test", "Something happened")
        db.session.commit()
        entry_id = entry.id
    assert 'bell-count">1<' in get(app, client, "/").get_data(as_text=True)
    with app.app_context():  # read with the account, then marked read: the answer's bell is 0
        response = client.post_form(f"/notifications/{entry_id}/read", htmx=True)
    assert response.status_code == 200
    assert 'id="bell"' in response.get_data(as_text=True) or "hx-swap-oob" in response.get_data(as_text=True)
    assert "bell-count" not in response.get_data(as_text=True)
