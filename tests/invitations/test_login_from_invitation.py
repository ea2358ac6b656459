"""Logging in or registering from an invitation's page: the invited address filled in,
back to the invitation afterwards, through a ``next`` that only takes local paths; and
nothing on those pages says whether an account exists."""
import re

import pytest

from invites import clock
from invites.accounts.service import find_user_by_email
from invites.extensions import db
from tests.conftest import PASSWORD

EMAIL_INPUT = re.compile(r'<input[^>]*name="email"[^>]*>')


def email_input(html):
    return EMAIL_INPUT.search(html).group(0)


def test_log_in_to_accept_fills_in_the_address_and_comes_back(client, team, make_user, make_invitation):
    erin = make_user(name="Erin Existing", email="erin@example.com")
    _, token = make_invitation(team.org, team.owner, "erin@example.com")
    invitation_page = client.get(f"/i/{token}").get_data(as_text=True)
    login_url = f"/login?next=/i/{token}"
    assert f'href="{login_url}" role="button">Log in to accept' in invitation_page

    html = client.get(login_url).get_data(as_text=True)
    assert 'value="erin@example.com"' in email_input(html)
    assert "Log in to answer the invitation to join Acme Training." in html
    assert re.search(r'<input[^>]*autofocus[^>]*name="password"', html)  # the password next
    assert f'href="/i/{token}/register"' in html  # "Create an account": the invitation's own

    response = client.post_form(login_url, {"email": "erin@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response.location == f"/i/{token}"
    assert "Accept" in client.get(f"/i/{token}").get_data(as_text=True)
    assert erin.email in client.get(f"/i/{token}").get_data(as_text=True)


def test_a_wrong_password_keeps_the_address_typed_and_the_way_back(client, team, make_user, make_invitation):
    make_user(email="erin@example.com")
    _, token = make_invitation(team.org, team.owner, "erin@example.com")
    response = client.post_form(f"/login?next=/i/{token}", {"email": "erin@example.com", "password": "nope"})
    html = response.get_data(as_text=True)
    assert "Email or password is not correct." in html
    assert 'value="erin@example.com"' in email_input(html)
    assert f'action="/login?next=/i/{token}"' in html


def test_the_login_page_looks_the_same_whether_or_not_an_account_exists(client, team, make_user, make_invitation):
    make_user(email="has@example.com")
    _, with_account = make_invitation(team.org, team.owner, "has@example.com")
    _, without = make_invitation(team.org, team.owner, "hasnot@example.com")

    def login_page(token):
        html = client.get(f"/login?next=/i/{token}").get_data(as_text=True)
        html = re.sub(r'<meta name="csrf-token"[^>]*>|<input id="csrf_token"[^>]*>', "", html)
        return html.replace(token, "TOKEN")

    assert login_page(with_account).replace("has@", "X@") == login_page(without).replace("hasnot@", "X@")


def test_registering_from_the_login_page_goes_to_the_invitations_form(client, team, make_invitation):
    _, token = make_invitation(team.org, team.owner, "newbie@example.com")
    response = client.get(f"/register?next=/i/{token}")
    assert response.status_code == 302 and response.location == f"/i/{token}/register"
    html = client.get(response.location).get_data(as_text=True)
    assert 'value="newbie@example.com"' in email_input(html) and "readonly" in email_input(html)
    assert "Create your account to join Acme Training" in html
    response = client.post_form(f"/i/{token}/register", {
        "name": "New Bie", "username": "newbie", "email": "someone-else@example.com",
        "password": "long enough password", "confirm": "long enough password",
    })
    assert response.status_code == 302 and response.location == f"/i/{token}"
    user = find_user_by_email("newbie@example.com")
    assert user is not None and user.is_verified  # the invited address, proven by the link
    assert find_user_by_email("someone-else@example.com") is None


def test_accepting_while_logged_out_leads_to_the_prefilled_login(client, team, make_user, make_invitation):
    make_user(email="erin@example.com")
    _, token = make_invitation(team.org, team.owner, "erin@example.com")
    response = client.post_form(f"/i/{token}/accept")
    assert response.status_code == 302
    html = client.get(response.location).get_data(as_text=True)
    assert 'value="erin@example.com"' in email_input(html)


@pytest.mark.parametrize("reason", ["unknown", "expired", "cancelled"])
def test_a_link_that_no_longer_works_fills_in_nothing(client, team, make_invitation, reason):
    invitation, token = make_invitation(team.org, team.owner, "gone@example.com")
    if reason == "unknown":
        token = "not-a-real-token"
    elif reason == "expired":
        clock.freeze(invitation.expires_at + (invitation.expires_at - invitation.created_at))
    else:
        invitation.status = "cancelled"
        db.session.commit()
    html = client.get(f"/login?next=/i/{token}").get_data(as_text=True)
    assert "gone@example.com" not in html and "invitation" not in html
    assert 'value=""' in email_input(html)
    assert client.get(f"/register?next=/i/{token}").status_code == 200  # the plain form


def test_other_next_paths_fill_in_nothing(client, team, make_invitation):
    _, token = make_invitation(team.org, team.owner, "erin@example.com")
    for target in (f"/i/{token}/register", f"/i/{token}/decline", "/account", "/no/such/page"):
        html = client.get(f"/login?next={target}").get_data(as_text=True)
        assert "erin@example.com" not in html


@pytest.mark.parametrize("target", [
    "https://evil.example/i/abc", "//evil.example/i/abc", "/\\evil.example", "\\\\evil.example",
    "https:/evil.example", "javascript:alert(1)", "/i/abc\r\nLocation: https://evil.example",
])
def test_an_open_redirect_through_next_is_refused(client, make_user, target):
    make_user(email="erin@example.com")
    response = client.post_form("/login", {"email": "erin@example.com", "password": PASSWORD},
                                query_string={"next": target})
    assert response.status_code == 302 and response.location == "/"
    assert "evil" not in response.headers["Location"]
