"""Fixtures of the webhook tests: a real HTTP receiver on 127.0.0.1 (http.server in a
thread) that records every request and answers what the test says, and helpers to add
endpoints and run the worker (``flask deliver-webhooks``) in its own app context."""
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from invites import clock
from invites.extensions import db
from invites.webhooks import service
from invites.webhooks.delivery import deliver_due
from invites.webhooks.models import WebhookEvent


def real_now():
    """The wall clock's UTC time, naive (as invites.clock gives it): signatures verify
    against it (Standard Webhooks allows five minutes either way)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    status: int  # what the receiver answered

    @property
    def ok(self):
        return 200 <= self.status < 300

    @property
    def id(self):
        return self.headers.get("webhook-id")

    @property
    def json(self):
        return json.loads(self.body)

    def verify(self, secret):
        """The body as Webhook(secret).verify() returns it (raises when it does not verify)."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """What the receiver was sent, and how it answers: ``status`` (200; 503 while "down"),
    ``delay`` seconds before answering (longer than the app's read timeout: a timeout)."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.statuses = {}  # path (with its query) -> status, overriding ``status``
        self.delay = 0.0
        self.url = None
        self._lock = threading.Lock()

    def down(self, status=503, path=None):
        """Answer ``status`` (to every path, or to ``path``'s requests only)."""
        if path is None:
            self.status = status
        else:
            self.statuses[path] = status

    def up(self, path=None):
        if path is None:
            self.status = 200
            self.statuses.clear()
        else:
            self.statuses.pop(path, None)

    def record(self, path, headers, body):
        with self._lock:
            entry = Received(path, headers, body, self.statuses.get(path, self.status))
            self.requests.append(entry)
            return entry

    @property
    def delivered(self):
        """The requests answered 2xx, in the order received."""
        with self._lock:
            return [r for r in self.requests if r.ok]

    def delivered_ids(self):
        return [r.id for r in self.delivered]

    def of_type(self, event_type):
        return [r for r in self.delivered if r.json["type"] == event_type]

    def to(self, path):
        """Every request to ``path`` (with its query), answered or not."""
        with self._lock:
            return [r for r in self.requests if r.path == path]


def _handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as most receivers answer

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            entry = receiver.record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            if receiver.delay:
                time.sleep(receiver.delay)
            try:
                self.send_response(entry.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender timed out and went away
                pass

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(app):
    """A real HTTP server on 127.0.0.1 receiving webhooks at ``receiver.url``; the app's
    timeouts are made short so that a slow receiver fails quickly."""
    rec = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_port}/hooks/invites"
    app.config.update(WEBHOOK_CONNECT_TIMEOUT=1.0, WEBHOOK_READ_TIMEOUT=0.5)
    yield rec
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def make_endpoint(app):
    """Add an endpoint through the service (committed); returns (endpoint, secret)."""

    def make(org, owner, url, events=(), description=""):
        with app.test_request_context():
            endpoint, secret = service.add_endpoint(org, owner, url, list(events), description)
            db.session.commit()
        return endpoint, secret

    return make


@pytest.fixture
def worker(app):
    """One run of ``deliver_due`` as the command runs it: in its own app context (its own
    session and connection), at the clock's time (``at``: frozen there first)."""

    def run(at=None, limit=None, action=deliver_due):
        if at is not None:
            clock.freeze(at)
        db.session.commit()
        with app.app_context():
            result = action(limit) if limit is not None else action()
            db.session.remove()
        db.session.expire_all()
        return result

    return run


def events_of(org, event_type=None):
    """``org``'s events in the order they were written, fanned out or not."""
    db.session.expire_all()
    return list(db.session.scalars(
        db.select(WebhookEvent)
        .where(WebhookEvent.org_id == org.id, *([WebhookEvent.type == event_type] if event_type else []))
        .order_by(WebhookEvent.created_at, WebhookEvent.id)
    ))


ONE_SECOND = timedelta(seconds=1)
