"""The JSON API (issue 20) beside the HTML it stands in for:

- list invitations (50 of the world's 100,000) under gunicorn: GET /api/v1/invitations
  with a read token against the Invitations panel with a session, same rows, same load;
- a 500-address create (POST /api/v1/invitations, one SMTP connection to aiosmtpd in its
  own process) against the 500-row import's confirm-and-send (bench.run.measure_bulk_send).
"""
import statistics
import time

from invites.extensions import db


def make_token(app, world, scope):
    """An API token of the world's organization, made by its owner."""
    from invites.accounts.models import User
    from invites.api.service import create_token
    from invites.orgs.models import Organization

    with app.app_context():
        org = db.session.get(Organization, world.org_id)
        owner = db.session.get(User, world.owner_id)
        _, token = create_token(org, owner, f"bench {scope}", scope)
        db.session.commit()
    return token


def measure_api_throughput(url, app, world, seconds, clients):
    """{name: (requests/s, failures)} for the panel and the API's list of the same rows."""
    from bench.run import gunicorn, http_login, load

    token = make_token(app, world, "read")
    bearer = {"Authorization": f"Bearer {token}"}
    with gunicorn(url) as (base, _):
        cookie = http_login(base)
        results = {}
        for name, path, headers in [
            ("invitations page (50 of 100,000)", f"/o/{world.slug}/manage/invitations", {"Cookie": cookie}),
            ("API list invitations (50)", "/api/v1/invitations?limit=50", bearer),
        ]:
            load(base, path, 1, 2, headers=headers)  # warm both workers
            results[name] = load(base, path, seconds, clients, headers=headers)
    return results


def measure_api_create(url, world, make_app, smtp_server_process, rounds=5):
    """Median seconds of POST /api/v1/invitations with 500 new addresses, mailed to aiosmtpd
    in its own process; each round's request in a fresh app context, as in production."""
    timings = []
    with smtp_server_process() as port:
        app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=30)
        token = make_token(app, world, "write")
        client = app.test_client()
        for n in range(rounds):
            emails = [f"api{n}-{i}@bulk.test" for i in range(500)]
            started = time.perf_counter()
            response = client.post("/api/v1/invitations", json={"emails": emails},
                                   headers={"Authorization": f"Bearer {token}"})
            timings.append(time.perf_counter() - started)
            results = response.get_json()["results"]
            assert response.status_code == 200 and [r["outcome"] for r in results] == ["sent"] * 500, \
                (response.status_code, results[:2])
    return statistics.median(timings)
