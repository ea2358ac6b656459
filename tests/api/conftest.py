"""Fixtures of the JSON API's tests: tokens made through the service (as the API Tokens
panel makes them), a client that presents one, and join requests to decide."""
import pytest

from invites.api.service import create_token
from invites.extensions import db
from invites.join_requests import service as join_requests
from invites.join_requests.models import JoinLink, Notify
from invites.orgs.models import Role


@pytest.fixture
def make_token(app):
    """``make_token(org, owner, scope="write", name="HR sync", last_day=None)`` → the token
    string (committed). ``owner`` must be an owner of ``org``."""

    def make(org, owner, scope="write", name="HR sync", last_day=None):
        with app.test_request_context():
            _, token = create_token(org, owner, name, scope, last_day)
            db.session.commit()
        return token

    return make


class ApiClient:
    """The test client presenting a bearer token on every request (or none)."""

    def __init__(self, client, token=None):
        self.client = client
        self.token = token

    def headers(self, token=None):
        token = token if token is not None else self.token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, token=None, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers(token), **kwargs)

    def post(self, path, json=None, token=None, **kwargs):
        return self.client.post(f"/api/v1{path}", json=json, headers=self.headers(token), **kwargs)

    def patch(self, path, json=None, token=None, **kwargs):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self.headers(token), **kwargs)

    def delete(self, path, token=None, **kwargs):
        return self.client.delete(f"/api/v1{path}", headers=self.headers(token), **kwargs)


@pytest.fixture
def api(client, team, make_token):
    """A write token of ``team.org`` made by its owner, presented by the test client."""
    return ApiClient(client, make_token(team.org, team.owner))


@pytest.fixture
def read_api(client, team, make_token):
    return ApiClient(client, make_token(team.org, team.owner, scope="read", name="Reporting"))


@pytest.fixture
def make_join_request(app):
    """``make_join_request(org, staff, user, message="Hello")`` → the pending request,
    made through a join request link as the Join page makes it."""
    links = {}

    def make(org, staff, user, message="Hello"):
        with app.test_request_context():
            link = db.session.get(JoinLink, links[org.id]) if org.id in links else None
            if link is None:
                link, _ = join_requests.create_join_link(org, staff, "Volunteers", Role.MEMBER, [], Notify.NOBODY)
                db.session.commit()
                links[org.id] = link.id
            join_request = join_requests.request_to_join(link, user, message)
            db.session.commit()
        return join_request

    return make


def assert_error(response, status, code=None, field=None):
    """The API's error shape, exactly: ``{"error": {"code", "message", "field"}}``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip(), body
    if code is not None:
        assert body["error"]["code"] == code, body
    assert body["error"]["field"] == field, body
    return body["error"]
