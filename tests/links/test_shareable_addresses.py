"""Links can be copied again (issue 22, point 5; seed 001): invite links and join request
links keep their token encrypted under a key derived from SECRET_KEY, beside the hash
that finds them, so those who manage a link see its address on any later visit, and
nobody else does. Personal invitations stay hash-only."""
import base64
import re

import pytest

from invites import tokens
from invites.extensions import db
from invites.groups.service import add_to_group, create_group
from invites.invitations.models import Invitation
from invites.join_requests.models import JoinLink, Notify
from invites.join_requests.service import create_join_link
from invites.links import service
from invites.links.models import Access, InviteLink
from invites.orgs.models import Role


def raw_row(model, row_id):
    """The stored values, read with plain SQL (not through the model)."""
    table = model.__table__
    return db.session.execute(
        db.select(table.c.token_hash, table.c.token_ciphertext).where(table.c.id == row_id)
    ).one()


def url_on(page):
    found = re.search(r'id="link-url" value="([^"]+)"', page)
    return found.group(1) if found else None


@pytest.fixture
def join_link(app, team):
    with app.test_request_context():
        link, token = create_join_link(team.org, team.owner, "Spring volunteers", Role.MEMBER, [], Notify.ALL, [])
        db.session.commit()
    return link, token


def test_the_database_holds_the_token_only_hashed_and_encrypted(app, team, make_link, join_link):
    link, token = make_link(team.org, team.owner)
    for model, row_id, secret in ((InviteLink, link.id, token), (JoinLink, join_link[0].id, join_link[1])):
        token_hash, sealed = raw_row(model, row_id)
        assert token_hash == tokens.hash_token(secret)
        assert sealed.startswith(tokens.SEAL_VERSION) and sealed != secret and secret not in sealed
        opened = base64.urlsafe_b64decode(sealed[len(tokens.SEAL_VERSION):])
        assert secret.encode() not in opened  # not merely encoded
        label = f"{model.__tablename__}:{token_hash}".encode()
        assert tokens.unseal(sealed, label) == secret  # the round trip
    assert link.shareable_token() == token and join_link[0].shareable_token() == join_link[1]
    # Two links never share a ciphertext, even for the same settings (a random nonce).
    other, _ = make_link(team.org, team.owner)
    assert raw_row(InviteLink, other.id)[1] != raw_row(InviteLink, link.id)[1]
    # Personal email invitations stay hash-only: no column for it at all.
    assert "token_ciphertext" not in Invitation.__table__.columns


def test_a_sealed_token_opens_only_with_its_key_and_row(app):
    label = b"invite_links:abc"
    sealed = tokens.seal("the-token", label)
    assert tokens.unseal(sealed, label) == "the-token"
    assert tokens.unseal(sealed, b"invite_links:another-row") is None
    assert tokens.unseal(sealed, b"join_links:abc") is None
    raw = bytearray(base64.urlsafe_b64decode(sealed[3:]))
    raw[-1] ^= 1
    assert tokens.unseal("v1." + base64.urlsafe_b64encode(bytes(raw)).decode(), label) is None
    assert tokens.unseal("v2." + sealed[3:], label) is None
    assert tokens.unseal("v1.not base64!", label) is None
    app.config["SECRET_KEY"] = "another secret key"
    assert tokens.unseal(sealed, label) is None
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]  # a rotated key still opens
    assert tokens.unseal(sealed, label) == "the-token"


def test_a_second_manager_copies_and_shares_the_link_on_a_later_visit(client, auth, team, make_link, smtp):
    link, token = make_link(team.org, team.owner, expiration="7d")
    auth.login(team.manager)
    page = client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True)
    assert url_on(page) == f"http://localhost/l/{token}"
    panel = client.get(f"/o/{team.org.slug}/manage/links").get_data(as_text=True)
    assert f'id="link-url-{link.id}" value="http://localhost/l/{token}"' in panel
    assert f'data-copy="#link-url-{link.id}"' in panel
    response = client.post_form(f"/o/{team.org.slug}/links/{link.id}/share", {"addresses": "friend@example.com"})
    assert response.status_code == 200 and "friend@example.com: sent" in response.get_data(as_text=True)
    [mail] = smtp.to("friend@example.com")
    assert f"http://localhost/l/{token}" in smtp.links(mail)


def test_the_member_who_made_a_link_sees_it_and_nobody_else_without_the_right(client, auth, team, make_link, add_member, make_user):
    group = create_group(team.org, team.owner, "Safety")
    add_to_group(team.org, team.owner, group, team.member)
    db.session.commit()
    link, token = make_link(team.org, team.member, access=Access.MEMBERS, groups=[group])
    url = f"/o/{team.org.slug}/links/{link.id}"
    auth.login(team.member)
    assert url_on(client.get(url).get_data(as_text=True)).endswith(token)
    auth.logout()
    other_member = make_user(name="Ned Neighbour")
    add_member(team.org, other_member, Role.MEMBER)
    for who, status in ((other_member, 403), (team.collaborator, 403), (team.outsider, 404)):
        auth.login(who)
        for address in (url, f"/o/{team.org.slug}/manage/links"):
            response = client.get(address)
            assert response.status_code == status and token not in response.get_data(as_text=True)
        auth.logout()


def test_a_changed_secret_key_says_the_address_cannot_be_shown_again(app, client, auth, team, make_link, join_link):
    link, token = make_link(team.org, team.owner)
    app.config["SECRET_KEY"] = "a new secret key"
    auth.login(team.manager)  # the old session cookie is void too: log in again
    page = client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True)
    assert "can't be shown again" in page and token not in page and url_on(page) is None
    assert "Make a new link" in page
    panel = client.get(f"/o/{team.org.slug}/manage/links").get_data(as_text=True)
    assert token not in panel and f"link-url-{link.id}" not in panel
    response = client.post_form(f"/o/{team.org.slug}/links/{link.id}/share", {"addresses": "friend@example.com"})
    assert response.status_code == 422 and "can't be shown again" in response.get_data(as_text=True)
    join_page = client.get(f"/o/{team.org.slug}/join-links/{join_link[0].id}").get_data(as_text=True)
    assert "can't be shown again" in join_page and join_link[1] not in join_page
    # The link itself still works: it is found by its hash.
    assert client.get(f"/l/{token}").status_code == 200
    # With the old key among SECRET_KEY_FALLBACKS, the address is back.
    app.config["SECRET_KEY_FALLBACKS"] = ["test-secret-key"]
    assert url_on(client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True)).endswith(token)


def test_links_made_before_the_column_say_so_and_offer_a_new_one(client, auth, team, make_link):
    group = create_group(team.org, team.owner, "Safety")
    db.session.commit()
    link, token = make_link(team.org, team.owner, groups=[group])
    db.session.execute(InviteLink.__table__.update().values(token_ciphertext=None))
    db.session.commit()
    auth.login(team.owner)
    page = client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True)
    assert "can't be shown again" in page and token not in page
    assert f'href="/o/{team.org.slug}/links/new?group={group.id}">Make a new link' in page
    assert client.get(f"/l/{token}").status_code == 200


def test_join_request_links_are_shown_again_to_managers_only(client, auth, team, join_link):
    link, token = join_link
    auth.login(team.manager)
    page = client.get(f"/o/{team.org.slug}/join-links/{link.id}").get_data(as_text=True)
    assert url_on(page) == f"http://localhost/r/{token}"
    panel = client.get(f"/o/{team.org.slug}/manage/join-links").get_data(as_text=True)
    assert f'id="join-link-url-{link.id}" value="http://localhost/r/{token}"' in panel
    auth.logout()
    for who, status in ((team.member, 403), (team.collaborator, 403), (team.outsider, 404)):
        auth.login(who)
        for address in (f"/o/{team.org.slug}/join-links/{link.id}", f"/o/{team.org.slug}/manage/join-links"):
            response = client.get(address)
            assert response.status_code == status and token not in response.get_data(as_text=True)
        auth.logout()


def test_a_new_links_address_is_not_kept_in_the_session(client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/join-links/new",
                                {"description": "Volunteers", "role": "member", "notify": "all", "save": "1"})
    assert response.status_code == 302
    token = url_on(client.get(response.location).get_data(as_text=True)).rsplit("/", 1)[1]
    with client.session_transaction() as session:
        assert "link_tokens" not in session and token not in repr(dict(session))
    assert service.find_link(token) is None  # a join request link, not an invite link
