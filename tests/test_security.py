"""Security headers, cookies, and rate limits (Flask-Limiter) on public and sending
endpoints: the 429 page, and normal use never hitting them."""
import re

import pytest

from invites.extensions import db, limiter
from invites.orgs.models import Role
from tests.conftest import PASSWORD, _make_app


@pytest.fixture
def limited(app, database_url):
    """An app with rate limits on (the tests' default turns them off). Made after ``app``:
    the one Limiter object takes the settings of the app initialized last."""
    app = _make_app(database_url, RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()
        yield app
        limiter.reset()
        db.session.remove()


def test_every_page_sends_the_security_headers(client, auth, team):
    auth.login(team.owner)
    for url in ("/", "/login", f"/o/{team.org.slug}/manage/invitations", "/notifications", "/nowhere"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "HX-Request" in response.headers["Vary"]
        # No inline script or event handler: the strict CSP would block them (and htmx's
        # own attributes need none).
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\ssrc=)", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_hsts_and_secure_cookies_over_https(database_url, schema, make_user):
    app = _make_app(database_url, TESTING=False, PUBLIC_URL="https://invites.example.com")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    with app.app_context():
        client = app.test_client()
        response = client.get("/login", base_url="https://invites.example.com")
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
        cookie = response.headers.get("Set-Cookie", "")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_a_proxy_the_forwarded_client_and_scheme_are_trusted(database_url, schema):
    app = _make_app(database_url, TRUSTED_PROXIES=1)
    with app.app_context():
        response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in response.headers


def _login(client, email, password):
    return client.post_form("/login", {"email": email, "password": password})


def test_login_is_rate_limited_and_normal_use_is_not(limited, make_user):
    user = make_user(email="limit@example.com")
    client = limited.test_client()
    for _ in range(3):  # a person mistyping a few times, then logging in
        assert _login(client, user.email, "wrong").status_code == 200
    assert _login(client, user.email, PASSWORD).status_code == 302
    client.post_form("/logout")
    answers = [_login(client, user.email, "wrong").status_code for _ in range(10)]
    assert answers[-1] == 429 and answers.count(429) >= 1
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many requests" in body and "Invites" in body and "Traceback" not in body


def test_registration_is_rate_limited(limited):
    client = limited.test_client()
    codes = []
    for i in range(7):
        codes.append(client.post_form("/register", {
            "name": f"P {i}", "username": f"p{i}", "email": f"p{i}@example.com",
            "password": PASSWORD, "confirm": PASSWORD,
        }).status_code)
        client.post_form("/logout")
    assert codes[:5] == [302] * 5 and 429 in codes[5:]


def test_token_pages_are_rate_limited(limited, make_org, make_user):
    with limited.test_request_context():
        client = limited.test_client()
        codes = [client.get(f"/i/{'x' * 43}").status_code for _ in range(32)]
    assert codes[:30] == [404] * 30 and codes[-1] == 429


def test_sending_invitations_is_rate_limited(limited, make_org, make_user):
    owner = make_user(email="sender@example.com")
    org = make_org(owner=owner, name="Limits")
    client = limited.test_client()
    assert _login(client, owner.email, PASSWORD).status_code == 302
    codes = [
        client.post_form(f"/o/{org.slug}/invitations/new", {"addresses": f"x{i}@example.com", "role": Role.MEMBER}).status_code
        for i in range(21)
    ]
    assert codes[:20] == [302] * 20 and codes[20] == 429
