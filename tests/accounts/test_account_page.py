"""The account page: who you are, whether your address is confirmed, changing the password
and "Log out of all devices" (the F7 replays are in tests/security/test_sessions.py)."""
import pytest

from invites.accounts.models import User
from invites.extensions import db
from invites.mail.models import OutboxMessage
from tests.conftest import PASSWORD
from tests.test_security import limited  # noqa: F401  (the fixture: an app with limits on)

NEW_PASSWORD = "a brand new password"


def change(client, current=PASSWORD, new=NEW_PASSWORD, repeat=None, **kwargs):
    return client.post_form("/account/password", {
        "current_password": current, "password": new,
        "confirm": new if repeat is None else repeat,
    }, **kwargs)


def test_the_profile_menu_links_to_the_account_page(client, auth, make_user):
    auth.login(make_user())
    assert 'href="/account"' in client.get("/").get_data(as_text=True)


def test_the_page_shows_the_account_and_a_confirmed_address(client, auth, make_user):
    user = make_user(name="Ann Lee", email="ann@example.com")
    auth.login(user)
    html = client.get("/account").get_data(as_text=True)
    assert "Ann Lee" in html and "ann@example.com" in html and user.username in html
    assert "Confirmed" in html and "Send the link again" not in html
    assert "Change password" in html and "Log out of all devices" in html
    assert "Open logins on this account: 1" in html


def test_an_unconfirmed_address_offers_the_link_again_and_comes_back(client, auth, make_user):
    user = make_user(email="una@example.com", verified=False)
    auth.login(user)
    html = client.get("/account").get_data(as_text=True)
    assert "Not confirmed" in html and "Send the link again" in html
    response = client.post_form("/account/verify?next=/account")
    assert response.status_code == 302 and response.location == "/account"
    assert db.session.scalar(db.select(OutboxMessage).filter_by(recipients="una@example.com"))


def test_the_page_needs_a_login(client):
    assert client.get("/account").location.startswith("/login")


def test_a_password_change_sets_the_new_password(client, auth, make_user):
    user = make_user()
    auth.login(user)
    response = change(client)
    assert response.status_code == 302 and response.location == "/account"
    assert "Your password is changed" in client.get("/account").get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.check_password(NEW_PASSWORD) and not stored.check_password(PASSWORD)


@pytest.mark.parametrize("current, new, repeat, message", [
    ("wrong password", NEW_PASSWORD, NEW_PASSWORD, "This is not your current password."),
    (PASSWORD, "short", "short", "Use at least 8 characters."),
    (PASSWORD, NEW_PASSWORD, "something else", "The passwords do not match."),
    ("", NEW_PASSWORD, NEW_PASSWORD, "This field is required."),
])
def test_a_refused_change_says_why_and_keeps_the_password(client, auth, make_user,
                                                          current, new, repeat, message):
    user = make_user()
    auth.login(user)
    response = change(client, current, new, repeat)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)


def test_a_password_change_needs_the_csrf_token(client, auth, make_user):
    auth.login(make_user())
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 400


def test_password_changes_are_rate_limited(limited, make_user):  # noqa: F811
    user = make_user()
    client = limited.test_client()
    assert client.post_form("/login", {"email": user.email, "password": PASSWORD}).status_code == 302
    codes = [change(client, current="wrong guess").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


def test_log_out_of_all_devices_without_confirmation_changes_nothing(client, auth, make_user):
    user = make_user()
    auth.login(user)
    page = client.post_form("/account/log-out-everywhere")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="confirmed" value="yes"' in html
    assert 'href="/account"' in html  # Cancel goes back to the account page
    assert f"Hello, {user.name}" in client.get("/").get_data(as_text=True)
