"""Invite links (F11): expiration presets with a controllable clock, access scopes, use
limits, deletion, sharing by email, and every refusal page."""
import re
from datetime import date, datetime, timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import add_to_group, create_group
from invites.links import service
from invites.links.models import Access, InviteLink
from invites.orgs.models import Membership, Role

START = datetime(2026, 11, 23, 12, 0, 0)


@pytest.fixture
def at_start(app):
    clock.freeze(START)
    yield START
    clock.unfreeze()


@pytest.mark.parametrize("choice, lifetime", [
    ("1h", timedelta(hours=1)), ("6h", timedelta(hours=6)),
    ("1d", timedelta(days=1)), ("7d", timedelta(days=7)),
])
def test_each_expiration_preset(at_start, client, team, make_user, make_link, choice, lifetime):
    link, token = make_link(team.org, team.owner, expiration=choice)
    assert link.expires_at == START + lifetime
    clock.freeze(START + lifetime - timedelta(seconds=1))
    assert client.get(f"/l/{token}").status_code == 200
    clock.freeze(START + lifetime)
    response = client.get(f"/l/{token}")
    assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)


def test_never_expires(at_start, client, team, make_link):
    link, token = make_link(team.org, team.owner, expiration="never")
    assert link.expires_at is None
    clock.freeze(START + timedelta(days=3650))
    assert client.get(f"/l/{token}").status_code == 200


def test_a_custom_date_lasts_to_the_end_of_that_day_and_a_past_date_is_refused(at_start, team, make_link):
    link, _ = make_link(team.org, team.owner, expiration="custom", custom_date=date(2026, 12, 1))
    assert link.expires_at == datetime(2026, 12, 2, 0, 0)
    with pytest.raises(DomainError) as error:
        service.expiry_from("custom", date(2026, 11, 22))
    assert error.value.field == "custom_date"
    with pytest.raises(DomainError):
        service.expiry_from("custom", None)
    with pytest.raises(DomainError):
        service.expiry_from("forever")
    assert service.expiry_from("custom", date(2026, 11, 23)) == datetime(2026, 11, 24)


def test_past_date_on_the_form_is_a_form_error(at_start, client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "custom", "custom_date": "2026-11-01", "access": "members", "role": "member",
    })
    assert response.status_code == 422 and "not in the past" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0


def test_tokens_are_kept_hashed_and_encrypted_and_shown_to_every_manager_of_the_link(client, auth, team, app):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "7d", "access": "anyone", "role": "member",
    })
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    url = re.search(r'id="link-url" value="([^"]+)"', page).group(1)
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43
    link = db.session.scalar(db.select(InviteLink))
    assert link.token_hash != token and token not in link.token_hash
    assert link.token_ciphertext and token not in link.token_ciphertext
    with client.session_transaction() as session:  # the signed cookie no longer carries it
        assert token not in repr(dict(session))
    # Another manager's browser, later: the address again, to copy.
    auth.logout()
    auth.login(team.manager)
    page = client.get(response.location).get_data(as_text=True)
    assert "Max Manager" in page  # really the manager's session
    assert f'id="link-url" value="{url}"' in page and "Copy link" in page
    assert "Uses so far" in page and "Olivia Owner" in page
    # A plain member who did not make it: refused, and the address is nowhere.
    auth.logout()
    auth.login(team.member)
    response = client.get(response.location)
    assert response.status_code == 403 and token not in response.get_data(as_text=True)


def test_anyone_with_the_link_lets_a_new_person_join_with_role_and_groups(client, auth, team, make_user, make_link):
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    link, token = make_link(team.org, team.manager, role=Role.COLLABORATOR, groups=[group])
    newcomer = make_user(name="Nat Newcomer")
    auth.login(newcomer)
    page = client.get(f"/l/{token}").get_data(as_text=True)
    assert "Join Acme Training" in page and "New Hires" in page and "Collaborator" in page
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}/groups/{group.id}"
    membership = db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=newcomer.id))
    assert membership.role == Role.COLLABORATOR
    assert db.session.get(GroupMember, (group.id, newcomer.id)) is not None
    db.session.refresh(link)
    assert link.uses == 1
    # Using it again adds nothing and uses nothing.
    client.post_form(f"/l/{token}/join")
    db.session.refresh(link)
    assert link.uses == 1
    assert "link.used" in set(db.session.scalars(db.select(Activity.verb)))


def test_members_only_links_add_members_to_groups_and_refuse_others(client, auth, team, make_user, make_link):
    group = create_group(team.org, team.owner, "Safety")
    db.session.commit()
    _, token = make_link(team.org, team.manager, access=Access.MEMBERS, groups=[group], role=Role.MANAGER)
    auth.login(team.collaborator)
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 302
    assert db.session.get(GroupMember, (group.id, team.collaborator.id)) is not None
    assert team.memberships[Role.COLLABORATOR].role == Role.COLLABORATOR  # role unchanged
    auth.logout()
    auth.login(team.outsider)
    response = client.get(f"/l/{token}")
    assert response.status_code == 403 and "for existing members only" in response.get_data(as_text=True)
    assert "ask Olivia Owner" not in response.get_data(as_text=True)  # names the link's creator
    assert "Max Manager" in response.get_data(as_text=True)
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 403
    assert db.session.scalar(db.select(Membership).filter_by(user_id=team.outsider.id)) is None


def test_anyone_access_only_for_those_who_may_add_new_people(client, auth, team, make_link):
    group = create_group(team.org, team.owner, "Safety")
    add_to_group(team.org, team.owner, group, team.member, is_manager=True)
    db.session.commit()
    auth.login(team.member)
    form = client.get(f"/o/{team.org.slug}/links/new?group={group.id}").get_data(as_text=True)
    assert 'value="members"' in form and 'value="anyone"' not in form
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "1d", "access": "anyone", "role": "member", "groups": [str(group.id)],
    })
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0
    with pytest.raises(DomainError) as error:
        service.create_link(team.org, team.member, expiration="1d", access=Access.ANYONE,
                            role=Role.MEMBER, groups=[group])
    assert error.value.field == "access"
    db.session.rollback()
    # Members-only into the group they manage is fine, and they may see their own link.
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "1d", "access": "members", "role": "member", "groups": [str(group.id)],
    })
    assert response.status_code == 302
    assert client.get(response.location).status_code == 200
    assert client.get(f"/o/{team.org.slug}/manage/links").status_code == 403


def test_collaborators_and_outsiders_cannot_make_links(client, auth, team):
    for who, status in ((team.collaborator, 403), (team.outsider, 404)):
        auth.login(who)
        assert client.get(f"/o/{team.org.slug}/links/new").status_code == status
        response = client.post_form(f"/o/{team.org.slug}/links/new",
                                    {"expiration": "1d", "access": "members", "role": "collaborator"})
        assert response.status_code == status
        auth.logout()
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0


def test_a_role_above_ones_own_is_refused(client, auth, team):
    auth.login(team.manager)
    response = client.post_form(f"/o/{team.org.slug}/links/new",
                                {"expiration": "1d", "access": "anyone", "role": "owner"})
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0


def test_use_limits(client, auth, team, make_user, make_link):
    link, token = make_link(team.org, team.owner, max_uses=2)
    for n in range(2):
        person = make_user()
        auth.login(person)
        assert client.post_form(f"/l/{token}/join").status_code == 302
        auth.logout()
    late = make_user()
    auth.login(late)
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 410 and "has been used up" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Membership).filter_by(user_id=late.id)) is None
    db.session.refresh(link)
    assert link.uses == 2 and link.state == "used_up"
    with pytest.raises(DomainError):
        service.create_link(team.org, team.owner, expiration="1d", access=Access.ANYONE,
                            role=Role.MEMBER, groups=[], max_uses=0)


def test_deleting_a_link(client, auth, team, make_user, make_link):
    link, token = make_link(team.org, team.owner)
    auth.login(team.manager)
    url = f"/o/{team.org.slug}/links/{link.id}/delete"
    page = client.post_form(url).get_data(as_text=True)
    assert "Delete this invite link?" in page  # asked first, without JavaScript
    response = client.post_form(url, {"confirmed": "yes"}, htmx=True)
    assert response.status_code == 200 and "<tr" not in response.get_data(as_text=True)
    assert "Invite link deleted." in response.get_data(as_text=True)
    panel = client.get(f"/o/{team.org.slug}/manage/links").get_data(as_text=True)
    assert f"link-{link.id}" not in panel
    auth.logout()
    response = client.get(f"/l/{token}")
    assert response.status_code == 410 and "was deleted" in response.get_data(as_text=True)
    assert "link.deleted" in set(db.session.scalars(db.select(Activity.verb)))


def test_unknown_and_forged_tokens(client, auth, team, make_user):
    for token in ("x" * 43, "short", "y" * 300):
        response = client.get(f"/l/{token}")
        assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
    auth.login(make_user())
    assert client.post_form(f"/l/{'x' * 43}/join").status_code == 404


def test_following_changes_nothing_and_visitors_are_sent_to_log_in(client, team, make_link):
    link, token = make_link(team.org, team.owner)
    page = client.get(f"/l/{token}").get_data(as_text=True)
    assert "Create an account" in page and f"next=/l/{token}" in page.replace("%2F", "/")
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 302 and "/login" in response.location
    db.session.refresh(link)
    assert link.uses == 0


def test_another_organizations_manager_cannot_touch_a_link_by_id(client, auth, team, make_org, make_user, make_link):
    link, _ = make_link(team.org, team.owner)
    rival = make_user(name="Rival")
    rival_org = make_org(owner=rival, name="Rival Org")
    auth.login(rival)
    assert client.get(f"/o/{rival_org.slug}/links/{link.id}").status_code == 404
    assert client.post_form(f"/o/{rival_org.slug}/links/{link.id}/delete", {"confirmed": "yes"}).status_code == 404
    assert client.post_form(f"/o/{team.org.slug}/links/{link.id}/delete", {"confirmed": "yes"}).status_code == 404
    db.session.refresh(link)
    assert link.deleted_at is None


def test_share_by_email_says_when_it_expires_and_whom_to_ask(client, auth, team, smtp):
    auth.login(team.manager)
    response = client.post_form(f"/o/{team.org.slug}/links/new",
                                {"expiration": "7d", "access": "anyone", "role": "member", "max_uses": "5"})
    link_page = response.location
    response = client.post_form(f"{link_page}/share", {"addresses": "a@example.com; b@example.com, nope", "note": "Join us"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count(": sent") == 2 and "not sent" in page
    assert smtp.connection_count == 1
    [mail] = smtp.to("a@example.com")
    text = smtp.text(mail)
    assert "Max Manager shared a link to join Acme Training" in text
    assert "The link works until" in text and "5 times" in text
    assert "ask Max Manager or an owner of Acme Training" in text
    [url] = [u for u in smtp.links(mail) if "/l/" in u]
    assert client.get(url.split("localhost", 1)[1]).status_code == 200
    # A link whose address cannot be read back (made before links kept it): refused,
    # with a clear message, nothing sent.
    link = db.session.scalar(db.select(InviteLink))
    link.token_ciphertext = None
    with pytest.raises(DomainError, match="can't be shown again"):
        service.share_link(team.org, team.manager, link, "c@example.com")
    assert not smtp.to("c@example.com")


def test_the_panel_lists_active_and_lapsed_links_in_fixed_queries(at_start, client, auth, team, make_link, count_queries):
    group = create_group(team.org, team.owner, "G")
    db.session.commit()
    auth.login(team.owner)
    make_link(team.org, team.owner, expiration="1h", groups=[group])
    make_link(team.org, team.owner, expiration="never", max_uses=3)

    def measure():
        with count_queries() as statements:
            page = client.get(f"/o/{team.org.slug}/manage/links").get_data(as_text=True)
        return len(statements), page

    clock.freeze(START + timedelta(hours=2))
    few, page = measure()
    assert "Expired" in page and "Active" in page and "0 of 3" in page
    for _ in range(20):
        make_link(team.org, team.owner, groups=[group])
    assert measure()[0] == few
