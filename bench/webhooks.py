"""Webhooks (issue 21):

- events per second delivered by one ``deliver-webhooks`` worker (``deliver_due``: the
  events fanned out into deliveries, then each delivery leased, signed, POSTed and
  recorded in its own transactions) to a receiver on 127.0.0.1 in its own process that
  answers 204 at once;
- the time an organization with an endpoint adds to accepting an invitation (the outbox
  row per event written in the accept's transaction), against an organization without one:
  medians of ``accept_invitation`` and its commit, each in a fresh app context, after a
  warm-up of ``WARM_UP`` accepts each.
"""
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import insert

from invites.clock import now
from invites.extensions import db

EVENTS = 2_000
ACCEPTS = 400
WARM_UP = 20  # accepts of each organization run first and not counted

RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
print(server.server_port, flush=True)
server.serve_forever()
"""


@contextmanager
def receiver_process():
    process = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        yield int(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(10)


def _org_with_endpoint(app, world, url, name):
    """A new organization of the world's owner, with one endpoint hearing every event."""
    from invites.accounts.models import User
    from invites.orgs.service import create_organization
    from invites.webhooks.service import add_endpoint

    owner = db.session.get(User, world.owner_id)
    org = create_organization(owner, name, f"{name.lower()}-{uuid.uuid4().hex[:6]}")
    org.plan = "premium"
    if url:
        add_endpoint(org, owner, url, [])
    db.session.commit()
    return org.id


def measure_delivery(url, world, make_app, events=EVENTS):
    """(events delivered, seconds) by one worker, which fans the events out first (as the
    outbox leaves them: one row each) and then delivers them."""
    from invites.orgs.models import Organization
    from invites.webhooks.delivery import deliver_due
    from invites.webhooks.outbox import listening, write

    with receiver_process() as port:
        app = make_app(url, WEBHOOK_ALLOW_PRIVATE_URLS=True)
        with app.app_context():
            org = db.session.get(Organization, _org_with_endpoint(app, world, f"http://127.0.0.1:{port}/hook", "Hooked"))
            endpoint_ids = [endpoint_id for endpoint_id, _ in listening(org)]
            for start in range(0, events, 500):
                write(org, "invitation.created", [{"n": start + i} for i in range(min(500, events - start))],
                      endpoint_ids, deliveries=False)
            db.session.commit()
        with app.app_context():
            started = time.perf_counter()
            run = deliver_due()
            seconds = time.perf_counter() - started
        assert run.delivered == events and run.failed == 0, run
    return run.delivered, seconds


def _pending_invitations(org_id, inviter_id, n, tag):
    """``n`` pending invitations of ``org_id`` with accounts to accept them: [(invitation id, user id)]."""
    from invites.accounts.models import User
    from invites.invitations.models import Invitation

    at = now()
    users = [{"name": f"Accepter {tag}{i}", "username": f"acc_{tag}{i}", "email": f"acc-{tag}{i}@bench.test",
              "password_hash": "x", "email_verified_at": at, "created_at": at, "time_zone": "UTC"} for i in range(n)]
    db.session.execute(insert(User), users)
    ids = dict(db.session.execute(db.select(User.email, User.id).where(User.email.like(f"acc-{tag}%"))).all())
    db.session.execute(insert(Invitation), [
        {"org_id": org_id, "email": f"acc-{tag}{i}@bench.test", "role": "member", "status": "pending",
         "token_hash": uuid.uuid4().hex * 2, "inviter_id": inviter_id, "message": "",
         "expires_at": at + timedelta(days=7), "sent_at": at, "created_at": at, "updated_at": at}
        for i in range(n)])
    db.session.commit()
    invitations = dict(db.session.execute(
        db.select(Invitation.email, Invitation.id).where(Invitation.org_id == org_id)).all())
    return [(invitations[email], ids[email]) for email in sorted(ids)]


def measure_accept_cost(url, world, make_app, accepts=ACCEPTS):
    """(median ms of an accept without an endpoint, with one, events written per accept)."""
    from invites.accounts.models import User
    from invites.invitations.answering import accept_invitation
    from invites.invitations.models import Invitation
    from invites.invitations.queries import card_loading
    from invites.webhooks.models import WebhookEvent

    app = make_app(url, WEBHOOK_ALLOW_PRIVATE_URLS=True)
    medians = {}
    with app.app_context():
        plain = _org_with_endpoint(app, world, None, "Plain")
        hooked = _org_with_endpoint(app, world, "http://127.0.0.1:9/unused", "Listened")
        work = {org_id: _pending_invitations(org_id, world.owner_id, WARM_UP + accepts, tag)
                for org_id, tag in ((plain, "p"), (hooked, "h"))}
    timings: dict[int, list[float]] = {plain: [], hooked: []}
    # Alternate the two organizations, so the machine's noise falls on both alike.
    for pair in zip(work[plain], work[hooked]):
        for org_id, (invitation_id, user_id) in zip((plain, hooked), pair):
            with app.test_request_context():
                # As the accept page loads it (with its organization, inviter and groups).
                invitation = db.session.get(Invitation, invitation_id, options=card_loading())
                user = db.session.get(User, user_id)
                started = time.perf_counter()
                accept_invitation(invitation, user, by_link=True)
                db.session.commit()
                timings[org_id].append(time.perf_counter() - started)
                db.session.remove()
    with app.app_context():
        written = db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)
                                    .where(WebhookEvent.org_id == hooked))
    for org_id in (plain, hooked):
        medians[org_id] = statistics.median(timings[org_id][WARM_UP:]) * 1000
    return medians[plain], medians[hooked], written / (WARM_UP + accepts)
