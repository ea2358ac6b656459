"""The JSON API is rate limited per token (issue 20): ``API_RATE_LIMIT`` requests each,
counted by the token's hash, so one busy or leaked token cannot use up another's budget;
requests without a token are counted per client address. Beyond it: a JSON 429."""
import pytest

from invites.api.service import create_token
from invites.extensions import db, limiter
from tests.conftest import _make_app


@pytest.fixture
def limited(app, database_url):
    """An app with rate limits on and a budget of 3 API requests a minute per token."""
    app = _make_app(database_url, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        limiter.reset()
        yield app
        limiter.reset()
        db.session.remove()


def _token(org, owner, name):
    _, token = create_token(org, owner, name, "read")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_each_token_has_its_own_budget_and_the_fourth_request_is_a_json_429(limited, team):
    busy, quiet = _token(team.org, team.owner, "busy"), _token(team.org, team.owner, "quiet")
    client = limited.test_client()
    codes = [client.get("/api/v1/groups", headers=busy).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.get("/api/v1/groups", headers=busy)
    assert refused.status_code == 429
    assert refused.is_json and refused.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in refused.headers
    # Another token of the same organization, from the same address, is untouched.
    assert client.get("/api/v1/groups", headers=quiet).status_code == 200


def test_requests_without_a_token_are_counted_per_address(limited):
    client = limited.test_client()

    def ask(address):
        return client.get("/api/v1/groups", environ_base={"REMOTE_ADDR": address}).status_code

    assert [ask("10.9.9.9") for _ in range(4)] == [401, 401, 401, 429]
    assert ask("10.9.9.10") == 401  # another address has its own budget
