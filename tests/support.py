"""Helpers the fixtures in conftest.py are built from."""
import email
import email.policy
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from flask.testing import FlaskClient

AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
URL = re.compile(r"https?://[^\s<>\"']+")


@contextmanager
def counting_queries(engine):
    """``with counting_queries(engine) as statements:`` collects the SQL the block runs."""
    from sqlalchemy import event

    statements = []

    def collect(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", collect)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", collect)


def role_in(org, user):
    """``user``'s role in ``org`` as the database has it now (None if not a member)."""
    from invites.extensions import db
    from invites.orgs.models import Membership

    db.session.expire_all()
    return db.session.scalar(db.select(Membership.role).filter_by(org_id=org.id, user_id=user.id))


def on_live_server(url, live_server):
    """A link as shown or mailed, pointed at the live server whatever host it was built for."""
    parts = urlsplit(url)
    return f"{live_server}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def new_page(browser, browser_context_args):
    """A browser page in a context of its own: its own cookies, so its own session."""
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FormClient(FlaskClient):
    """A test client that fills in the CSRF token the way a browser's form would.

    The ``app`` fixture keeps an app context pushed, and Flask reuses it for requests, so
    ``flask.g`` (Flask-Login's current user, Flask-WTF's CSRF token) would carry over from
    one request to the next. Each request starts with an empty ``g``, as in production.
    """

    def open(self, *args, **kwargs):
        from flask import g, has_app_context

        if has_app_context():
            vars(g).clear()
        return super().open(*args, **kwargs)

    def csrf_token(self):
        html = self.get("/").get_data(as_text=True)
        return CSRF_META.search(html).group(1)

    def post_form(self, url, data=None, htmx=False, headers=None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        headers = dict(headers or {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.post(url, data=data, headers=headers, **kwargs)


class SMTPSink:
    """What a real SMTP server (aiosmtpd) received, and switches to make it misbehave.

    ``fail_with(rule)``: ``rule(n, envelope)`` returns an SMTP reply such as
    ``"550 mailbox unavailable"`` to refuse the n-th message (1-based), or None to accept.
    """

    def __init__(self):
        self.messages = []
        self.sessions = []
        self.attempts = 0
        self._rule = None
        self._lock = threading.Lock()

    def fail_with(self, rule):
        self._rule = rule

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.attempts += 1
            n = self.attempts
        if self._rule is not None:
            reply = self._rule(n, envelope)
            if reply:
                return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.sessions.append(id(session))
        return "250 Message accepted for delivery"

    @property
    def connection_count(self):
        return len(set(self.sessions))

    def to(self, address):
        """Messages whose To header contains ``address``."""
        return [m for m in self.messages if address in m["To"]]

    def arrived(self, address, timeout=5.0):
        """Messages to ``address`` once at least one has come (or ``timeout`` seconds have
        passed): mail sent after a response (``invites/after_response.py``) comes a moment
        after the page."""
        deadline = time.monotonic() + timeout
        while not self.to(address) and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.to(address)

    @staticmethod
    def text(message):
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message):
        return message.get_body(preferencelist=("html",)).get_content()

    @classmethod
    def links(cls, message):
        return URL.findall(cls.text(message))


def start_smtp_server(sink):
    from aiosmtpd.controller import Controller

    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def finish_after_response_work(timeout=10):
    """Wait for the work responses started once sent (``invites/after_response.py``): a
    test that closed a response then sees what it did, or that it did nothing."""
    for thread in threading.enumerate():
        if thread.name == "after-response":
            thread.join(timeout)


def serve_in_thread(app, threaded=True):
    """Serve ``app`` on a free loopback port; returns (base_url, stop). ``threaded`` False:
    one request at a time, as a gunicorn sync worker serves them."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop


def wider_than_screen(page):
    """What in the page is wider than the screen, once it has loaded: [] when nothing is,
    else the elements of <main> that are, named for the failure's message. Only once the
    page has loaded: right after a click the new page's text can show before its
    stylesheets, and an unstyled table is wider than a phone (seen in CI)."""
    page.wait_for_load_state("load")
    if page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        return []
    return page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.scrollWidth > window.innerWidth)
        .map(e => `${e.tagName}#${e.id}.${e.className}: ${e.scrollWidth}px`)""") or ["the page"]


def axe_violations(page):
    """Run axe-core in the page; the list of violations (each with id, impact, nodes).
    Once the page has loaded: right after a form's POST the new page can already show its
    heading while its stylesheets are still on their way, and axe then sees what they hide
    (both the wide and the compact settings menus: "landmark-unique")."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE_PATH))
    return page.evaluate("async () => (await axe.run(document)).violations")


def describe_violations(violations):
    lines = []
    for v in violations:
        targets = ", ".join(str(n.get("target")) for n in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


