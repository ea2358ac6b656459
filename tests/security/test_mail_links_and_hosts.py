"""F2: no link in mail comes from a request's Host header; production refuses to start
without PUBLIC_URL and answers other hosts with a 400."""
import re

import pytest

from invites import create_app
from invites.extensions import db
from invites.mail.models import OutboxMessage
from tests.conftest import _make_app
from tests.support import CSRF_META

PUBLIC = "https://invites.example.com"


def production_app(database_url, **overrides):
    """The app as gunicorn runs it: not testing, not debug."""
    return _make_app(database_url, TESTING=False, DEBUG=False, **overrides)


def test_production_refuses_to_start_without_public_url(database_url, schema):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        production_app(database_url, PUBLIC_URL=None)
    assert production_app(database_url, PUBLIC_URL=PUBLIC).config["PUBLIC_URL"] == PUBLIC


def test_production_answers_a_forged_host_with_400(database_url, schema):
    app = production_app(database_url, PUBLIC_URL=PUBLIC)
    assert app.config["TRUSTED_HOSTS"] == ["invites.example.com"]
    with app.app_context():
        client = app.test_client()
        assert client.get("/login", base_url="https://invites.example.com").status_code == 200
        forged = client.get("/login", base_url="https://invites.example.com",
                            headers={"Host": "attacker.example"})
        assert forged.status_code == 400
        registered = client.post("/register", base_url="http://attacker.example", data={
            "name": "Squat", "username": "squat2", "email": "ceo@corp.test",
            "password": "long enough pw", "confirm": "long enough pw",
        })
        assert registered.status_code == 400
        assert db.session.scalar(db.select(OutboxMessage)) is None


def test_trusted_hosts_can_name_more_hosts(database_url, schema):
    app = production_app(database_url, PUBLIC_URL=PUBLIC, TRUSTED_HOSTS=["invites.example.com", ".internal"])
    with app.app_context():
        client = app.test_client()
        assert client.get("/login", headers={"Host": "lb.internal"}).status_code == 200
        assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400


def post_as(client, host, url, data, page=None):
    """GET ``page`` (default ``url``) and POST its form to ``url``, every request with
    ``Host: host``: the attacker's own session on a forged host, as in the review."""
    html = client.get(page or url, headers={"Host": host}).get_data(as_text=True)
    token = CSRF_META.search(html).group(1)
    return client.post(url, data={**data, "csrf_token": token},
                       headers={"Host": host, "X-Forwarded-Host": host})


def test_a_forged_host_does_not_reach_the_confirmation_mail(client):
    """The review's replay, where Host is not refused (testing): the mailed link is still
    on PUBLIC_URL."""
    response = post_as(client, "attacker.example", "/register", {
        "name": "Squat", "username": "squat2", "email": "ceo@corp.test",
        "password": "long enough pw", "confirm": "long enough pw",
    })
    assert response.status_code == 302
    message = db.session.scalar(db.select(OutboxMessage))
    assert message is not None and "attacker.example" not in message.text_body + message.html_body
    assert re.search(r"http://localhost/verify/\S+", message.text_body)


def test_a_forged_host_does_not_reach_an_invitation_mail(client, team, smtp):
    from tests.conftest import PASSWORD

    post_as(client, "evil.example", "/login", {"email": team.owner.email, "password": PASSWORD})
    url = f"/o/{team.org.slug}/invitations/new"
    assert post_as(client, "evil.example", url, {"addresses": "new@example.com", "role": "member"}).status_code == 302
    [mail] = smtp.to("new@example.com")
    links = smtp.links(mail)
    assert links and all(link.startswith("http://localhost/") for link in links)
    assert "evil.example" not in smtp.text(mail)


def test_links_in_mail_are_built_on_public_url_outside_requests_too(database_url, schema):
    from invites.mail.service import external_url

    app = _make_app(database_url, PUBLIC_URL="https://invites.example.com/team/")
    with app.app_context():
        assert external_url("invitations.respond", token="abc") == "https://invites.example.com/team/i/abc"


def test_behind_a_proxy_the_forwarded_host_is_checked_too(database_url, schema):
    app = production_app(database_url, PUBLIC_URL=PUBLIC, TRUSTED_PROXIES=1)
    with app.app_context():
        client = app.test_client()
        ok = client.get("/login", headers={"Host": "10.0.0.5", "X-Forwarded-Host": "invites.example.com"})
        assert ok.status_code == 200
        forged = client.get("/login", headers={"X-Forwarded-Host": "attacker.example"})
        assert forged.status_code == 400


def test_debug_and_testing_start_without_public_url(database_url, schema):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "PUBLIC_URL": None,
                      "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["PUBLIC_URL"].startswith("http://127.0.0.1")
