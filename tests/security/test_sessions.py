"""Security review F7: logging out ends the session. A copied session cookie or remember-me
cookie stops working after logout, after a password change and after "Log out of all
devices"; the CSRF token changes at login; cookies in the old format (a bare user id)
open nothing. Each test replays the review's probe with the test client's cookies."""
import re

import pytest
from flask_login.utils import encode_cookie

from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def person(make_user):
    return make_user(name="Carol Copy", email="carol@c.test")


def log_in(client, user, password=PASSWORD, remember=False):
    data = {"email": user.email, "password": password}
    if remember:
        data["remember"] = "y"
    response = client.post_form("/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def logged_in_as(client, user):
    """Whether ``client``'s cookies open ``user``'s dashboard."""
    return f"Hello, {user.name}" in client.get("/").get_data(as_text=True)


def replay(app, name, value):
    """A new browser that holds only the cookie ``name`` copied from another one."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief


def cookie(client, name):
    found = client.get_cookie(name)
    return found.value if found is not None else None


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, client, person):
    log_in(client, person)
    copied = cookie(client, "session")
    assert logged_in_as(replay(app, "session", copied), person)  # the copy works meanwhile
    assert client.post_form("/logout").status_code == 302
    thief = replay(app, "session", copied)
    assert not logged_in_as(thief, person)
    assert thief.get("/orgs").location.startswith("/login")


def test_a_remember_me_cookie_from_an_earlier_login_is_dead_after_logout(app, client, person):
    log_in(client, person, remember=True)
    copied = cookie(client, "remember_token")
    assert copied and logged_in_as(replay(app, "remember_token", copied), person)
    client.post_form("/logout")
    log_in(client, person)  # a later login does not bring the old cookie back
    client.post_form("/logout")
    assert not logged_in_as(replay(app, "remember_token", copied), person)


def test_logging_out_clears_the_remember_me_cookie_of_the_browser_itself(client, person):
    log_in(client, person, remember=True)
    client.post_form("/logout")
    assert cookie(client, "remember_token") in (None, "")
    assert not logged_in_as(client, person)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, person):
    laptop, phone = client, app.test_client()
    log_in(laptop, person, remember=True)
    log_in(phone, person, remember=True)
    laptop_before = cookie(laptop, "session")
    phone_remember = cookie(phone, "remember_token")

    response = laptop.post_form("/account/password", {
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 302

    assert logged_in_as(laptop, person)  # this browser stays logged in...
    assert not logged_in_as(phone, person)  # ...every other one is out
    assert not logged_in_as(replay(app, "remember_token", phone_remember), person)
    # Even a copy of this browser's own cookie from before the change is dead: its
    # session got a new key, which the cookies now carry.
    assert not logged_in_as(replay(app, "session", laptop_before), person)
    assert logged_in_as(replay(app, "remember_token", cookie(laptop, "remember_token")), person)
    # And the password is the new one.
    assert app.test_client().post_form(
        "/login", {"email": person.email, "password": PASSWORD}).status_code == 200
    log_in(app.test_client(), person, password=NEW_PASSWORD)


def test_a_wrong_current_password_changes_nothing_and_ends_no_session(app, client, person):
    other = app.test_client()
    log_in(client, person)
    log_in(other, person)
    response = client.post_form("/account/password", {
        "current_password": "not my password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
    })
    assert response.status_code == 200
    assert "This is not your current password." in response.get_data(as_text=True)
    assert logged_in_as(client, person) and logged_in_as(other, person)
    log_in(app.test_client(), person)  # the old password still works


def test_log_out_of_all_devices_asks_first_then_ends_every_session(app, client, person):
    laptop, phone = client, app.test_client()
    log_in(laptop, person)
    log_in(phone, person, remember=True)
    phone_remember = cookie(phone, "remember_token")

    asking = laptop.post_form("/account/log-out-everywhere")
    assert asking.status_code == 200
    assert "Log out of all devices?" in asking.get_data(as_text=True)
    assert logged_in_as(laptop, person) and logged_in_as(phone, person)  # nothing yet

    done = laptop.post_form("/account/log-out-everywhere", {"confirmed": "yes"})
    assert done.status_code == 302 and done.location.startswith("/login")
    assert not logged_in_as(laptop, person)
    assert not logged_in_as(phone, person)
    assert not logged_in_as(replay(app, "remember_token", phone_remember), person)
    log_in(laptop, person)  # the account itself is fine: a new login works


def test_the_csrf_token_changes_at_login(client, person):
    before = re.search(r'<meta name="csrf-token" content="([^"]+)"',
                       client.get("/login").get_data(as_text=True)).group(1)
    with client.session_transaction() as session:
        raw_before = session["csrf_token"]
    response = client.post("/login", data={"email": person.email, "password": PASSWORD,
                                           "csrf_token": before})
    assert response.status_code == 302
    client.get("/")
    with client.session_transaction() as session:
        assert session["csrf_token"] != raw_before
    # A token learned (or planted) before the login is refused after it.
    refused = client.post("/orgs/new", data={"name": "Planted Org", "csrf_token": before})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)


def test_cookies_in_the_old_format_a_bare_user_id_open_nothing(app, person):
    """Cookies signed with the right key but made before sessions had keys (and the F11
    forgery): ``{"_user_id": "<id>"}`` and a remember-me cookie of the bare id."""
    old_session = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": str(person.id), "_fresh": True}
    )
    assert not logged_in_as(replay(app, "session", old_session), person)
    with app.test_request_context():
        old_remember = encode_cookie(str(person.id))
    assert not logged_in_as(replay(app, "remember_token", old_remember), person)
