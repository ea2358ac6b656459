"""The "API Tokens" panel (issue 20): owners make organization API tokens, see when each
was last used, and revoke them. A new token is shown once, on the answer that made it,
and the database keeps only its SHA-256."""
import hashlib
import re
from datetime import datetime, time, timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.api.models import ApiToken
from invites.api.service import create_token
from invites.extensions import db

NEW_TOKEN = re.compile(r'<input type="text" id="new-token" value="([^"]+)" readonly>')


def panel_url(org):
    return f"/o/{org.slug}/manage/api-tokens"


def revoke_url(org, token_id):
    return f"/o/{org.slug}/manage/api-tokens/{token_id}/revoke"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def tokens_of(org):
    db.session.expire_all()
    return db.session.scalars(db.select(ApiToken).filter_by(org_id=org.id).order_by(ApiToken.id)).all()


@pytest.fixture
def existing(app, team):
    """A read token of Acme made by its owner: (row id, token)."""
    with app.test_request_context():
        row, token = create_token(team.org, team.owner, "Reporting", "read")
        db.session.commit()
    return row.id, token


def row_html(html, token_id):
    match = re.search(rf'<tr id="api-token-{token_id}">(.*?)</tr>', html, flags=re.DOTALL)
    assert match, f"no row for token {token_id}"
    return match.group(1)


def every_value_in_the_database():
    """Every value of every row of every table, as text."""
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(db.select(table)):
            values.extend(str(value) for value in row if value is not None)
    return values


def test_the_panel_lists_tokens_with_when_each_was_last_used(client, auth, team, existing):
    token_id, token = existing
    auth.login(team.owner)
    html = client.get(panel_url(team.org)).get_data(as_text=True)
    assert "Last used" in html
    row = row_html(html, token_id)
    assert "Reporting" in row and "Read" in row and "Active" in row
    assert 'data-label="Last used">Never<' in row
    assert token not in html and token[:10] in row  # its first characters tell it apart

    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 200
    row = row_html(client.get(panel_url(team.org)).get_data(as_text=True), token_id)
    assert 'data-label="Last used">Never<' not in row
    assert re.search(r'data-label="Last used"><time datetime="[^"]+Z"', row), row
    assert tokens_of(team.org)[0].last_used_at is not None


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(client, auth, team):
    auth.login(team.owner)
    response = client.post_form(panel_url(team.org), {"name": "HR sync", "scope": "write"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    html = response.get_data(as_text=True)
    token = NEW_TOKEN.search(html).group(1)
    assert token.startswith("inv_") and len(token) > 40
    assert "shown only once" in html

    (row,) = tokens_of(team.org)
    assert row.name == "HR sync" and row.scope == "write" and row.created_by_id == team.owner.id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:10]
    # Nowhere in the database: not on the row, not in the activity log, not in a mail.
    assert not [value for value in every_value_in_the_database() if token in value]
    assert token[10:] not in " ".join(every_value_in_the_database())

    # Reloading the panel does not show it again; the token works.
    again = client.get(panel_url(team.org))
    assert again.status_code == 200 and token not in again.get_data(as_text=True)
    assert "no-store" not in again.headers.get("Cache-Control", "")
    assert client.get("/api/v1/groups", headers=bearer(token)).status_code == 200


def test_a_token_that_ends_on_a_day(client, auth, team):
    auth.login(team.owner)
    last_day = (clock.now() + timedelta(days=30)).date()
    response = client.post_form(panel_url(team.org), {"name": "Pilot", "scope": "read",
                                                      "last_day": last_day.isoformat()})
    assert response.status_code == 200
    (row,) = tokens_of(team.org)
    # It works through the whole last day (UTC), and not a moment longer.
    end = datetime.combine(last_day + timedelta(days=1), time())
    assert row.expires_at == end
    assert not row.is_expired(at=end - timedelta(seconds=1)) and row.is_expired(at=end)


@pytest.mark.parametrize("data, field_error", [
    ({"name": "", "scope": "read"}, "This field is required."),
    ({"name": "   ", "scope": "read"}, "This field is required."),
    ({"name": "x" * 81, "scope": "read"}, "80 characters"),
    ({"name": "HR sync", "scope": "admin"}, "Not a valid choice"),
    ({"name": "HR sync", "scope": "read", "last_day": "2001-01-01"}, "not in the past"),
])
def test_a_bad_form_is_answered_with_its_error_and_makes_nothing(client, auth, team, data, field_error):
    auth.login(team.owner)
    response = client.post_form(panel_url(team.org), data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error in html
    assert not NEW_TOKEN.search(html)
    assert tokens_of(team.org) == []
    assert db.session.scalar(db.select(db.func.count()).select_from(Activity)
                             .where(Activity.verb == "api_token.created")) == 0


def test_revoking_without_javascript_asks_first_then_the_api_refuses_the_token(client, auth, team, existing):
    token_id, token = existing
    auth.login(team.owner)
    asking = client.post_form(revoke_url(team.org, token_id))
    assert asking.status_code == 200
    assert "Revoke the token “Reporting”?" in asking.get_data(as_text=True)
    assert tokens_of(team.org)[0].revoked_at is None
    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 200

    done = client.post_form(revoke_url(team.org, token_id), {"confirmed": "yes"})
    assert done.status_code == 302 and done.location.endswith(panel_url(team.org))
    html = client.get(panel_url(team.org)).get_data(as_text=True)
    assert "The token “Reporting” was revoked." in html
    assert "Revoked" in row_html(html, token_id)
    assert tokens_of(team.org)[0].revoked_at is not None

    refused = client.get("/api/v1/members", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"


def test_revoking_with_htmx_answers_the_row(client, auth, team, existing):
    token_id, token = existing
    auth.login(team.owner)
    response = client.post_form(revoke_url(team.org, token_id), {"confirmed": "yes"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="api-token-{token_id}">')
    assert "<html" not in html and "Revoked" in html and ">Revoke<" not in html
    assert tokens_of(team.org)[0].revoked_at is not None
    assert client.get("/api/v1/members", headers=bearer(token)).status_code == 401

    # Once more (a second tab): nothing changes, no error page.
    revoked_at = tokens_of(team.org)[0].revoked_at
    again = client.post_form(revoke_url(team.org, token_id), {"confirmed": "yes"}, htmx=True)
    assert again.status_code == 200
    assert tokens_of(team.org)[0].revoked_at == revoked_at


def test_only_owners_see_the_panel(client, auth, team, existing):
    token_id, token = existing
    for person in (team.manager, team.member, team.collaborator):
        auth.login(person)
        assert client.get(panel_url(team.org)).status_code == 403
        assert client.post_form(panel_url(team.org), {"name": "Mine", "scope": "write"}).status_code == 403
        assert client.post_form(revoke_url(team.org, token_id), {"confirmed": "yes"}).status_code == 403
        auth.logout()
    auth.login(team.outsider)
    assert client.get(panel_url(team.org)).status_code == 404
    assert [t.name for t in tokens_of(team.org)] == ["Reporting"]
    assert tokens_of(team.org)[0].revoked_at is None


def test_the_activity_log_records_making_and_revoking(client, auth, team):
    auth.login(team.owner)
    html = client.post_form(panel_url(team.org), {"name": "LMS", "scope": "write"}).get_data(as_text=True)
    token = NEW_TOKEN.search(html).group(1)
    (row,) = tokens_of(team.org)
    # What the token does is logged as coming through it.
    made = client.post("/api/v1/invitations", json={"emails": ["new.learner@example.com"]}, headers=bearer(token))
    assert made.status_code == 200, made.get_data(as_text=True)
    client.post_form(revoke_url(team.org, row.id), {"confirmed": "yes"})

    lines = db.session.execute(
        db.select(Activity.verb, Activity.summary, Activity.actor_id, Activity.target_id)
        .filter_by(org_id=team.org.id).order_by(Activity.id)
    ).all()
    by_verb = {verb: (summary, actor, target) for verb, summary, actor, target in lines}
    assert by_verb["api_token.created"] == ("created the API token “LMS” (read and write)", team.owner.id, row.id)
    assert by_verb["api_token.revoked"] == ("revoked the API token “LMS”", team.owner.id, row.id)
    assert any("via API token “LMS”" in summary for _, summary, _, _ in lines), lines
    assert not any("via API token" in by_verb[verb][0] for verb in ("api_token.created", "api_token.revoked"))

    log = client.get(f"/o/{team.org.slug}/manage/activity").get_data(as_text=True)
    assert "created the API token “LMS” (read and write)" in log
    assert "revoked the API token “LMS”" in log
