import re

import pytest

from invites.accounts.models import User
from invites.accounts.safety import safe_next
from invites.accounts.service import authenticate, normalize_email, register_user
from invites.errors import DomainError
from invites.extensions import db
from invites.mail.models import OutboxMessage
from tests.conftest import PASSWORD


def register(client, **overrides):
    data = {
        "name": "Ann Lee", "username": "annlee", "email": "Ann.Lee@Example.com",
        "password": PASSWORD, "confirm": PASSWORD,
    }
    data.update(overrides)
    return client.post_form("/register", data)


def test_register_logs_in_and_stores_a_lowercased_email_and_a_password_hash(client):
    response = register(client)
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).filter_by(username="annlee"))
    assert user.email == "ann.lee@example.com"
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)
    assert not user.is_verified
    assert "Hello, Ann Lee" in client.get("/").get_data(as_text=True)


def test_email_is_unique_case_insensitively(client, make_user):
    make_user(email="ann@example.com")
    response = register(client, email="ANN@example.com")
    assert response.status_code == 200
    assert "already exists" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("name", "", "This field is required."),
        ("name", "x" * 121, "Field cannot be longer than 120 characters."),
        ("username", "a b", "Use letters, digits"),
        ("email", "not-an-address", "An email address must have an @-sign."),
        ("password", "short", "Use at least 8 characters."),
        ("confirm", "different password", "The passwords do not match."),
    ],
)
def test_bad_registration_input_shows_a_form_error_and_creates_nothing(client, field, value, message):
    response = register(client, **{field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_login_with_wrong_password_or_unknown_email_says_the_same_thing(client, make_user):
    user = make_user(email="ann@example.com")
    wrong = client.post_form("/login", {"email": user.email, "password": "wrong password"})
    unknown = client.post_form("/login", {"email": "nobody@example.com", "password": "whatever1"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Email or password is not correct." in response.get_data(as_text=True)


def test_login_form_fields_are_labelled_email_and_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert re.search(r'<label for="email">Email</label>', html)
    assert re.search(r'<label for="password">Password</label>', html)


def test_login_then_logout(client, make_user, auth):
    user = make_user()
    auth.login(user)
    assert "My Organizations" in client.get("/").get_data(as_text=True)
    assert auth.logout().status_code == 302
    assert client.get("/orgs").status_code == 302  # back to the login page


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/orgs", "/orgs"),
        ("/o/acme/manage?x=1", "/o/acme/manage?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next_accepts_only_local_paths(target, expected):
    assert safe_next(target, "/") == expected


def test_login_follows_a_local_next_but_not_an_external_one(client, make_user):
    user = make_user()
    local = client.post_form("/login?next=/orgs", {"email": user.email, "password": PASSWORD})
    assert local.headers["Location"] == "/orgs"
    client.post_form("/logout")
    evil = client.post_form("/login?next=https://evil.example/", {"email": user.email, "password": PASSWORD})
    assert evil.headers["Location"] == "/"


def test_registration_mails_a_link_whose_post_marks_the_account_verified(client):
    register(client)
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.recipients == "ann.lee@example.com"
    link = re.search(r"http://localhost(/verify/\S+)", message.text_body).group(1)
    # Opening the link (GET) changes nothing: mail scanners pre-open links.
    assert client.get(link).status_code == 200
    assert not db.session.scalar(db.select(User)).is_verified
    response = client.post_form(link)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(db.select(User)).is_verified


def test_the_confirmation_mail_shows_no_link_in_the_chosen_name_and_the_links_real_lifetime(client):
    # Anyone can register someone else's address: the name they choose is mailed to it, so
    # it must not carry a clickable phishing address (security review F4's pattern).
    register(client, name="Account suspended, pay at evil.example/pay")
    message = db.session.scalar(db.select(OutboxMessage))
    for body in (message.text_body, message.html_body):
        assert "evil.example/pay" not in body and "evil.\u200bexample/\u200bpay" in body
        assert "The link works for 48 hours." in body


def test_a_forged_verification_token_is_refused_with_a_clear_page(client, make_user):
    response = client.post_form("/verify/not-a-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_services_refuse_duplicates_and_authenticate(app):
    register_user("Ann", "ann", "ann@example.com", PASSWORD)
    with pytest.raises(DomainError) as error:
        register_user("Ann Two", "ANN", "ann2@example.com", PASSWORD)
    assert error.value.field == "username"
    assert authenticate("ANN@example.com ", PASSWORD).username == "ann"
    assert authenticate("ann@example.com", "nope") is None
    assert normalize_email("  Bob <bob@example.com>".split("<")[1].rstrip(">")) == "bob@example.com"
