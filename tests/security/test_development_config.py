"""F11: debug mode never signs sessions with a fixed, public key; hardening of the
production configuration (Secure cookies, SQL parameters kept out of logs)."""
import os
import stat

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import IntegrityError

import invites
from invites.accounts.models import User
from invites.extensions import db
from tests.conftest import _make_app


def forge_session(app, key, data):
    """A session cookie signed with ``key``, as an attacker who read it would make."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(
        type("A", (), {"secret_key": key, "config": app.config})()
    )
    return serializer.dumps(data)


def test_debug_mode_signs_with_a_random_key_of_this_install(database_url, schema, tmp_path, monkeypatch, make_user, make_org):
    monkeypatch.setattr(invites, "INSTANCE_DIR", tmp_path)
    app = _make_app(database_url, TESTING=False, DEBUG=True, SECRET_KEY=None)
    key = app.config["SECRET_KEY"]
    assert key != "development-only-secret" and len(key) >= 64
    kept = tmp_path / "development-secret-key"
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    # The same install keeps its key (sessions survive the reloader).
    assert _make_app(database_url, TESTING=False, DEBUG=True, SECRET_KEY=None).config["SECRET_KEY"] == key

    owner = make_user()
    org = make_org(owner=owner)
    with app.app_context():
        client = app.test_client()
        for guess in ("development-only-secret", "1"):
            cookie = forge_session(app, "development-only-secret", {"_user_id": guess, "_fresh": True})
            client.set_cookie("session", cookie, domain="localhost")
            response = client.get(f"/o/{org.slug}/manage/activity")
            assert response.status_code == 302 and "/login" in response.location


def test_production_cookies_are_secure_unless_switched_off(database_url, schema):
    plain = _make_app(database_url, TESTING=False, PUBLIC_URL="http://invites.example.com")
    assert plain.config["SESSION_COOKIE_SECURE"] and plain.config["REMEMBER_COOKIE_SECURE"]
    with plain.app_context():
        cookie = plain.test_client().get("/login", base_url="http://invites.example.com").headers["Set-Cookie"]
        assert "Secure" in cookie
    off = _make_app(database_url, TESTING=False, PUBLIC_URL="http://invites.example.com", COOKIE_SECURE=False)
    assert not off.config["SESSION_COOKIE_SECURE"]


def test_production_keeps_sql_parameters_out_of_errors_and_logs(database_url, schema, make_user, caplog):
    app = _make_app(database_url, TESTING=False, PUBLIC_URL="https://invites.example.com")
    existing = make_user(email="taken@example.com")
    with app.app_context():
        clash = User(name="x", username=existing.username, email="other@example.com",
                     password_hash="scrypt:32768:8:1$secret-hash")
        db.session.add(clash)
        with pytest.raises(IntegrityError) as error:
            db.session.flush()
        db.session.rollback()
        assert "secret-hash" not in str(error.value) and "hide_parameters" in str(error.value)
        db.session.remove()
        db.engine.dispose()
