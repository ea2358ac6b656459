"""`make bench`: how Invites performs, measured on this machine, printed as tables.

1. Query counts and median render time of every list page at 10, 1,000 and 100,000 rows.
2. Throughput under gunicorn (2 workers) on PostgreSQL: the invitations page (50 rows of
   100,000) and the accept page, against a bare endpoint of the same app (one indexed
   query, a short string), driven by a load generator on loopback for a bounded time.
3. Bulk send: a 500-row import (preview, then confirm-and-send) against plain smtplib
   sending the same 500 rendered messages over one connection to the same SMTP server
   (aiosmtpd in its own process): as message objects, and as their finished bytes.
4. Memory: the peak RSS of the gunicorn worker that ran a 500-row import over HTTP.
5. Spreadsheet uploads: the costliest file of each kind that the import's limits still let
   in (or refuse last), parsed by read_rows in a child process, against 2 s and 150 MB of
   peak RSS. Alone: ``python -m bench.run --only spreadsheet`` (no database needed).
6. The JSON API (bench/api.py): its list of invitations against the panel under gunicorn,
   and a 500-address create against the import's confirm-and-send; webhooks
   (bench/webhooks.py): events per second by one worker, and what an endpoint adds to
   accepting an invitation.
7. Member search (bench/search.py), send-reminders over 10,000 due invitations
   (bench/reminders.py), the CSV export of 100,000 members streamed through gunicorn with
   the worker's peak RSS (bench/exports.py), and expire-memberships over 10,000 ended
   memberships (bench/expiry.py), in that order: the last removes them.

It builds its own PostgreSQL database (on BENCH_DATABASE_SERVER, default the local
one) and drops it afterwards. Not part of `make test`.
"""
import argparse
import email
import email.policy
import http.client
import io
import os
import re
import smtplib
import statistics
import subprocess
import sys
import threading
import tempfile
import time
import uuid
import zipfile
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from invites import create_app  # noqa: E402
from invites.clock import now  # noqa: E402
from invites.extensions import db  # noqa: E402
from tests.support import SMTPSink, counting_queries, free_port, start_smtp_server  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
SIZES = (10, 1_000, 100_000)
PASSWORD = "bench-password"
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "8"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
# The Overview's joins per week read memberships by way in over the last 13 weeks.
WAYS_IN = ("invitation", "import", "link", "request", "join_page", None)


# --- the database -----------------------------------------------------------------------

@contextmanager
def fresh_database():
    name = f"invites_bench_{os.getpid()}"
    admin = SERVER.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The bench sends far more than a day's invitation mails (several 500-row imports).
UNCAPPED = {plan: {"organization": 10**6, "account": 10**6} for plan in ("free", "premium")}


def make_app(url, **extra):
    config = {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "MAIL_SERVER": None, "TESTING": False,
        "WTF_CSRF_ENABLED": True, "PUBLIC_URL": "http://localhost", "COOKIE_SECURE": False,
        "DAILY_INVITATION_MAILS": UNCAPPED, **extra,
    }
    return create_app(config)


# --- the data ---------------------------------------------------------------------------

class World:
    """One premium organization whose lists grow to each size in SIZES."""

    def __init__(self, app):
        from invites.accounts.service import register_user
        from invites.orgs.service import create_organization

        self.app = app
        with app.app_context():
            owner = register_user("Olivia Owner", "owner", "owner@bench.test", PASSWORD, verified=True)
            org = create_organization(owner, "Bench", "bench")
            org.plan = "premium"
            db.session.commit()
            self.owner_id, self.org_id, self.slug = owner.id, org.id, org.slug
            self.password_hash = owner.password_hash
        self.size = 0

    def grow_to(self, n):
        """Add rows to every listed table until each holds ``n``."""
        from invites.accounts.models import User
        from invites.activity.models import Activity
        from invites.groups.models import Group
        from invites.imports.models import Import
        from invites.invitations.models import Invitation
        from invites.join_requests.models import JoinLink, JoinRequest
        from invites.links.models import InviteLink
        from invites.notifications.models import Notification
        from invites.orgs.models import Membership, search_text

        start, at = self.size, now()
        with self.app.app_context():
            if start == 0:
                link = JoinLink(org_id=self.org_id, token_hash=uuid.uuid4().hex * 2, description="Bench",
                                role="member", notify="nobody", created_by_id=self.owner_id)
                db.session.add(link)
                db.session.commit()
                self.join_link_id = link.id
            for lo in range(start, n, 10_000):
                hi = min(n, lo + 10_000)
                ids = range(lo, hi)
                users = db.session.execute(insert(User).returning(User.id), [
                    {"name": f"Person {i}", "username": f"p{i}", "email": f"p{i}@bench.test",
                     "password_hash": self.password_hash, "created_at": at} for i in ids
                ]).scalars().all()
                table_rows = {
                    Membership: [{"org_id": self.org_id, "user_id": u, "role": "member", "role_order": 2,
                                  "sort_name": f"person {i}",
                                  "search_text": search_text(f"Person {i}", f"p{i}", f"p{i}@bench.test"),
                                  "joined_via": WAYS_IN[i % len(WAYS_IN)],
                                  "created_at": at - timedelta(days=i % 120)} for i, u in zip(ids, users)],
                    Group: [{"org_id": self.org_id, "name": f"Group {i}", "join_method": "open", "created_at": at} for i in ids],
                    Invitation: [{"org_id": self.org_id, "email": f"i{i}@bench.test", "role": "member",
                                  "status": "pending", "token_hash": uuid.uuid4().hex * 2, "inviter_id": self.owner_id,
                                  "message": "", "expires_at": at + timedelta(days=14), "created_at": at,
                                  "updated_at": at} for i in ids],
                    InviteLink: [{"org_id": self.org_id, "token_hash": uuid.uuid4().hex * 2, "access": "members",
                                  "role": "member", "uses": 0, "created_by_id": self.owner_id, "created_at": at} for _ in ids],
                    JoinRequest: [{"org_id": self.org_id, "link_id": self.join_link_id, "user_id": u, "message": "hi",
                                   "status": "pending", "created_at": at} for u in users],
                    Activity: [{"org_id": self.org_id, "actor_id": self.owner_id, "verb": "bench",
                                "summary": f"did thing {i}", "created_at": at} for i in ids],
                    Import: [{"org_id": self.org_id, "created_by_id": self.owner_id, "filename": f"f{i}.csv",
                              "status": "done", "created_at": at, "sent_count": 1, "failed_count": 0} for i in ids],
                    Notification: [{"user_id": self.owner_id, "org_id": self.org_id, "kind": "bench",
                                    "text": f"note {i}", "created_at": at} for i in ids],
                }
                for model, rows in table_rows.items():
                    db.session.execute(insert(model), rows)
                db.session.commit()
        # What autovacuum does on a live server: statistics and the visibility map, so the
        # pages' COUNT(*) can be answered from the index. Then what the checkpointer would
        # have done: the bulk load's dirty pages written out now, not while pages are timed.
        address = self.app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(address, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
        self.size = n


PAGES = [
    ("overview", "/o/{slug}"),
    ("members", "/o/{slug}/manage/members"),
    ("groups", "/o/{slug}/groups"),
    ("invitations", "/o/{slug}/manage/invitations"),
    ("invite links", "/o/{slug}/manage/links"),
    ("join requests", "/o/{slug}/manage/join-requests"),
    ("activity", "/o/{slug}/manage/activity"),
    ("import history", "/o/{slug}/manage/imports"),
    ("notifications", "/notifications"),
]


def login(client, email=None):
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": email or "owner@bench.test", "password": PASSWORD,
                                          "csrf_token": token})
    assert response.status_code == 302, response.status_code


@contextmanager
def timing_queries(engine):
    """``with timing_queries(engine) as spent:`` spent["queries"] and spent["seconds"] of SQL,
    from each statement's start to its cursor's return."""
    from sqlalchemy import event

    spent, started = {"queries": 0, "seconds": 0.0}, []

    def before(*args):
        started.append(time.perf_counter())

    def after(*args):
        spent["queries"] += 1
        spent["seconds"] += time.perf_counter() - started.pop()

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield spent
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def time_page(app, client, url, runs=25):
    """(queries, median ms, median ms in SQL) of GET ``url``, each request in a fresh app
    context and database session, as gunicorn serves it: nothing loaded by an earlier
    request (the user, the organization, the role) is reused."""
    timings, sql, counts = [], [], set()
    for n in range(runs + 3):
        with app.app_context():
            with timing_queries(db.engine) as spent:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        if n >= 3:  # the first few warm the caches (templates, statements, connections)
            timings.append(elapsed * 1000)
            sql.append(spent["seconds"] * 1000)
            counts.add(spent["queries"])
    return max(counts), statistics.median(timings), statistics.median(sql)


def measure_pages(app, world):
    """{page: {size: (queries, median ms, median SQL ms)}}"""
    results = {name: {} for name, _ in PAGES}
    for size in SIZES:
        world.grow_to(size)
        client = app.test_client()
        with app.app_context():
            login(client)
        for name, pattern in PAGES:
            results[name][size] = time_page(app, client, pattern.format(slug=world.slug))
    return results


# --- throughput under gunicorn ----------------------------------------------------------

@contextmanager
def gunicorn(url, env_extra=None):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "BENCH_ENDPOINTS": "1",
           "RATELIMIT_ENABLED": "0", "PAGE_SIZE": "50", "PUBLIC_URL": f"http://127.0.0.1:{port}",
           "COOKIE_SECURE": "0", **{f"DAILY_INVITATION_MAILS_{plan}_{who}": "1000000"
                                    for plan in ("FREE", "PREMIUM") for who in ("ORG", "ACCOUNT")},
           **(env_extra or {})}
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "--timeout", "120", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            conn.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield base, process
    finally:
        process.terminate()
        process.wait(10)


def http_login(base):
    """A session cookie for the owner, through the real login form."""
    host = urlsplit(base)
    conn = http.client.HTTPConnection(host.hostname, host.port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    body = f"email=owner%40bench.test&password={PASSWORD}&csrf_token={token}"
    conn.request("POST", "/login", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status
    cookie = response.getheader("Set-Cookie").split(";")[0]
    # Login starts a fresh session, so its CSRF token is made on the first page after it.
    conn.request("GET", "/", headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    return (response.getheader("Set-Cookie") or cookie).split(";")[0]


def load(base, path, seconds, clients, cookie=None, headers=None):
    """Requests per second of GET ``path`` by ``clients`` keep-alive connections, with the
    session ``cookie`` or these ``headers`` (an API token's)."""
    host = urlsplit(base)
    stop = time.monotonic() + seconds
    counts, failures = [0] * clients, [0] * clients
    headers = headers or ({"Cookie": cookie} if cookie else {})

    def worker(i):
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        while time.monotonic() < stop:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    counts[i] += 1
                else:
                    failures[i] += 1
            except (OSError, http.client.HTTPException):
                failures[i] += 1
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return sum(counts) / elapsed, sum(failures)


def pending_token(app, world, email="accept@bench.test"):
    """A real pending invitation with a known token, for the accept page."""
    from invites.invitations.models import Invitation

    with app.app_context():
        invitation = Invitation(org_id=world.org_id, email=email, role="member",
                                inviter_id=world.owner_id, message="", status="pending")
        token = invitation.renew(14)
        db.session.add(invitation)
        db.session.commit()
    return token


def measure_throughput(url, app, world):
    token = pending_token(app, world)
    with gunicorn(url) as (base, _):
        cookie = http_login(base)
        results = {}
        for name, path, auth in [
            ("bare endpoint", "/bench/bare", False),
            ("invitations page (50 of 100,000)", f"/o/{world.slug}/manage/invitations", True),
            ("accept page /i/<token>", f"/i/{token}", False),
        ]:
            load(base, path, 1, 2, cookie if auth else None)  # warm both workers
            results[name] = load(base, path, LOAD_SECONDS, CLIENTS, cookie if auth else None)
    return results


def measure_mixed_load(url, app, world, seconds, clients):
    """Issue 8's load test: ``clients`` concurrent users for ``seconds``, a mix of page
    views and actions. Returns (requests, failures, p50 ms, p99 ms)."""
    from invites.invitations.models import Invitation

    token = pending_token(app, world, "load-accept@bench.test")
    pending_token(app, world, "load-resend@bench.test")  # resent over and over below
    with app.app_context():
        resendable = db.session.scalar(
            db.select(Invitation.id).filter_by(org_id=world.org_id, email="load-resend@bench.test")
        )
    with gunicorn(url) as (base, _):
        host = urlsplit(base)
        latencies, failures, lock, kinds = [], [0], threading.Lock(), Counter()
        mix = (
            [("GET", f"/o/{world.slug}/manage/invitations", None)] * 4
            + [("GET", f"/i/{token}", None)] * 3
            + [("GET", "/notifications", None), ("GET", f"/o/{world.slug}/manage/join-requests", None)]
            + [("POST", f"/o/{world.slug}/invitations/{resendable}/resend", "")]
        )
        stop = time.monotonic() + seconds

        def user(i):
            try:
                visit(i)
            except Exception as error:  # counted: a user who could not even start failed
                print(f"load user {i} stopped: {error!r}")
                with lock:
                    failures[0] += 1

        def visit(i):
            cookie = http_login(base)
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            conn.request("GET", "/", headers={"Cookie": cookie})
            response = conn.getresponse()
            csrf = re.search(r'name="csrf-token" content="([^"]+)"', response.read().decode()).group(1)
            n = i
            while time.monotonic() < stop:
                method, path, body = mix[n % len(mix)]
                n += 7
                # The accept page is the invitee's: opened without the owner's session
                # (logged in as someone else it rightly answers 403).
                headers = {} if path.startswith("/i/") else {"Cookie": cookie}
                if method == "POST":
                    body = f"csrf_token={csrf}"
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                started = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status < 400
                    outcome = response.status
                except (OSError, http.client.HTTPException) as error:
                    ok, outcome = False, type(error).__name__
                    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
                if not ok:
                    with lock:
                        kinds[(method, path.split("/")[-1], outcome)] += 1
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    failures[0] += not ok

        threads = [threading.Thread(target=user, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if kinds:
        print("failed requests:", dict(kinds.most_common(5)))
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return len(latencies), failures[0], p(0.50), p(0.99)


# --- bulk send --------------------------------------------------------------------------

def csv_of(n, prefix):
    rows = ["email,groups,first name,last name"] + [f"{prefix}{i}@bulk.test,,F{i},L{i}" for i in range(n)]
    return ("\n".join(rows) + "\n").encode()


@contextmanager
def smtp_server_process():
    """aiosmtpd's Sink in its own process: the server's work is not timed with the client's."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                                "-l", f"127.0.0.1:{port}"])
    try:
        for _ in range(100):
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
                    smtp.noop()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def plain_send_message(port, wire):
    """Seconds for plain smtplib to send ``wire`` ((sender, recipients, bytes) of finished
    messages) as message objects over one connection: what Invites' sending is held to."""
    objects = [email.message_from_bytes(data, policy=email.policy.SMTP) for _, _, data in wire]
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for (sender, recipients, _), message in zip(wire, objects):
            smtp.send_message(message, from_addr=sender, to_addrs=recipients)
    return time.perf_counter() - started


def measure_bulk_send(url, rounds=5):
    """Medians over ``rounds`` fresh 500-row imports: (preview s, confirm-and-send s,
    smtplib.send_message of the same messages s, smtplib.sendmail of their bytes s)."""
    from flask_mail import email_dispatched

    from invites.accounts.models import User
    from invites.imports import service as imports
    from invites.orgs.models import Organization

    timings = []
    with smtp_server_process() as port:
        app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=30)
        dispatched = []

        def keep(sender, message, **extra):
            dispatched.append(message)

        email_dispatched.connect(keep, app)
        try:
            for n in range(rounds):
                dispatched.clear()
                with app.test_request_context(base_url="http://127.0.0.1:5000"):
                    org = db.session.scalar(db.select(Organization).filter_by(slug="bench"))
                    owner = db.session.scalar(db.select(User).filter_by(email="owner@bench.test"))
                    started = time.perf_counter()
                    imp = imports.preview_import(org, owner, "bulk.csv", csv_of(500, f"b{n}-"))
                    db.session.commit()
                    preview = time.perf_counter() - started
                    started = time.perf_counter()
                    imports.run_import(org, owner, imp, commit=db.session.commit)
                    db.session.commit()
                    send = time.perf_counter() - started
                    assert imp.sent_count == 500 and len(dispatched) == 500, (imp.sent_count, len(dispatched))
                    # The same 500 messages, by plain smtplib over one connection: as message
                    # objects (send_message writes each out), and as their finished bytes.
                    wire = [(m.sender, m.recipients, m.as_bytes()) for m in dispatched]
                    as_messages = plain_send_message(port, wire)
                    started = time.perf_counter()
                    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
                        for sender, recipients, data in wire:
                            smtp.sendmail(sender, recipients, data)
                    as_bytes = time.perf_counter() - started
                    db.session.remove()
                timings.append((preview, send, as_messages, as_bytes))
        finally:
            email_dispatched.disconnect(keep, app)
    return tuple(statistics.median(column) for column in zip(*timings))


def measure_memory(url):
    """Peak RSS (VmHWM) of the gunicorn worker that previews and runs a 500-row import."""
    sink = SMTPSink()
    controller = start_smtp_server(sink)
    try:
        with gunicorn(url, {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(controller.port)}) as (base, process):
            cookie = http_login(base)
            host = urlsplit(base)
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
            conn.request("GET", "/o/bench/manage/imports", headers={"Cookie": cookie})
            html = conn.getresponse().read().decode()
            token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
            boundary = "benchboundary"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n"
                    f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"mem.csv\"\r\n"
                    f"Content-Type: text/csv\r\n\r\n").encode() + csv_of(500, "m") + f"\r\n--{boundary}--\r\n".encode()
            conn.request("POST", "/o/bench/imports", body=body, headers={
                "Cookie": cookie, "Content-Type": f"multipart/form-data; boundary={boundary}"})
            response = conn.getresponse()
            response.read()
            location = response.getheader("Location")
            conn.request("POST", f"{location}/run", body=f"csrf_token={token}&confirmed=yes", headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            assert len(sink.messages) == 500, len(sink.messages)
            return max(_peak_rss_kb(pid) for pid in _children(process.pid)) / 1024
    finally:
        controller.stop()


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _peak_rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --- spreadsheet uploads ----------------------------------------------------------------

PARSE_IN_CHILD = """
import sys, time
from invites.errors import DomainError
from invites.imports.spreadsheet import read_rows

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

data = open(sys.argv[1], "rb").read()
before = peak_mb()
started = time.perf_counter()
try:
    outcome = f"{len(read_rows(sys.argv[1], data))} rows read"
except DomainError as error:
    outcome = "refused: " + error.message
print(time.perf_counter() - started, before, peak_mb(), outcome, sep="\\t")
"""


def hostile_uploads():
    """{kind: (filename, data)}: for each way to make the reader work, the costliest file
    within 1 MB that the package check lets in (found by bisection), and real-world files."""
    from invites.imports.spreadsheet import MAX_BYTES
    from tests.security.test_spreadsheet_bombs import HEADER, PERSON, noise, workbook, xlsx_package

    formula = "+".join(["A1"] * 2_000)  # 6,000 characters
    first_row = HEADER + PERSON
    growing = {
        "empty rows": lambda n: xlsx_package([first_row, "<row/>" * n]),
        "rows with attributes": lambda n: xlsx_package([first_row, '<row ht="1" customHeight="1"/>' * n]),
        "rows of 16,384 empty cells": lambda n: xlsx_package([first_row] + ["<row>" + "<c/>" * 16_384 + "</row>"] * n),
        "cells with values": lambda n: xlsx_package(
            [first_row] + ["<row>" + "<c><v>12345</v></c>" * 1_000 + "</row>"] * n),
        "cells with inline strings": lambda n: xlsx_package(
            [first_row] + ["<row>" + '<c t="inlineStr"><is><t>x</t></is></c>' * 1_000 + "</row>"] * n),
        "shared strings": lambda n: xlsx_package(
            HEADER + '<row r="2"><c r="A2" t="s"><v>0</v></c></row>', shared_strings=["<si><t>x</t></si>" * n]),
        "merged cells": lambda n: xlsx_package(first_row, after_data="<mergeCells>" + "".join(
            f'<mergeCell ref="A{i}:B{i}"/>' for i in range(3, n + 3)) + "</mergeCells>"),
        "ranges in attributes": lambda n: xlsx_package(first_row, after_data="".join(
            f'<conditionalFormatting sqref="{" ".join(f"C{i}" for i in range(j, j + 1_000))}"><cfRule '
            'type="expression" priority="1"><formula>A1</formula></cfRule></conditionalFormatting>'
            for j in range(1, n * 1_000, 1_000))),
        "a 6,000-character shared formula": lambda n: xlsx_package(
            HEADER + f'<row r="2"><c r="B2"><f t="shared" ref="B2:B9999" si="0">{formula}</f></c></row>'
            + "".join(f'<row r="{i}"><c r="B{i}"><f t="shared" si="0"/></c></row>' for i in range(3, n + 3))),
        "one sheet of 13,000 rows, listed n times": lambda n: xlsx_package([first_row, "<row/>" * 13_000], sheets=n),
    }
    uploads = {kind: ("upload.xlsx", build(_largest_accepted(build))) for kind, build in growing.items()}
    cells = "".join(f'<row r="{i}">' + "".join(f'<c r="{c}{i}" t="s"><v>0</v></c>' for c in "ABCD") + "</row>"
                    for i in range(2, 502))
    uploads["a 5 MB shared string in 2,000 cells"] = ("upload.xlsx", xlsx_package(
        HEADER + cells,
        shared_strings=["<si><t>\N{GRINNING FACE}", "x" * 5_000_000, noise(200_000), "</t></si>"]))
    uploads["500 people, 50 columns (real)"] = ("upload.xlsx", workbook(500, 50))
    uploads["CSV of blank lines"] = ("upload.csv", b"email\n" + b"\n" * (MAX_BYTES - 6))
    uploads["CSV of 500 people, 60 columns"] = ("upload.csv", (
        "email," + ",".join(f"c{j}" for j in range(59)) + "\n"
        + "".join(f"p{i}@example.com," + ",".join("y" * 28 for _ in range(59)) + "\n" for i in range(500))).encode())
    for kind, (_, data) in uploads.items():
        assert len(data) <= MAX_BYTES, (kind, len(data))
    return uploads


def _largest_accepted(build):
    """The largest n for which ``build(n)`` is at most 1 MB and passes check_package: doubling
    n until it does not, then bisecting."""
    from invites.imports.spreadsheet import MAX_BYTES, SpreadsheetError, check_package

    def accepted(n):
        data = build(n)
        if len(data) > MAX_BYTES:
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                check_package(archive)
        except SpreadsheetError:
            return False
        return True

    low = 1
    while accepted(2 * low):
        low *= 2
    high = 2 * low - 1
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if accepted(middle) else (low, middle - 1)
    return low


def measure_spreadsheets():
    """{kind: (seconds, peak RSS MB before parsing, peak RSS MB after, outcome, file size)},
    each file parsed by read_rows in a fresh child process."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind, (filename, data) in hostile_uploads().items():
            path = Path(folder) / filename
            path.write_bytes(data)
            output = subprocess.run([sys.executable, "-c", PARSE_IN_CHILD, str(path)], cwd=ROOT, check=True,
                                    capture_output=True, text=True).stdout
            seconds, before, after, outcome = output.rstrip("\n").split("\t")
            results[kind] = (float(seconds), float(before), float(after), outcome, len(data))
    return results


def report_spreadsheets():
    results = measure_spreadsheets()
    print("\nSpreadsheet uploads: the costliest of each kind within 1 MB, read_rows in a child process")
    for kind, (seconds, before, after, outcome, size) in results.items():
        print(f"{kind:<42}{size:>9,} B {seconds:>6.2f} s {after:>5.0f} MB   {outcome[:60]}")
    slowest = max(results, key=lambda kind: results[kind][0])
    largest = max(results, key=lambda kind: results[kind][2])
    print(f"Spreadsheet: worst upload within 1 MB parsed in {results[slowest][0]:.2f} s ({slowest}), "
          f"peak RSS {results[largest][2]:.0f} MB ({largest}; {results[largest][1]:.0f} MB before parsing) "
          "(limit 2 s, 150 MB)")


# --- main -------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description="How Invites performs on this machine.")
    parser.add_argument("--only", choices=["spreadsheet"], help="run this measurement alone")
    if parser.parse_args(argv).only == "spreadsheet":
        report_spreadsheets()
        return
    began = time.monotonic()
    print(f"Invites benchmark on {os.cpu_count()} CPUs, PostgreSQL at {SERVER.split('@')[-1]}")
    with fresh_database() as url:
        from flask_migrate import upgrade

        app = make_app(url)
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        world = World(app)

        pages = measure_pages(app, world)
        print("\nList pages: SQL queries per request and median in-process time, each request in a fresh")
        print("app context and database session (as under gunicorn); in brackets, the part spent in SQL")
        print(f"{'page':<16}" + "".join(f"{size:>28,}" for size in SIZES))
        constant = True
        for name, by_size in pages.items():
            cells = "".join(f"{q:>6} q {ms:>7.1f} ms [{sql:>5.1f} SQL]" for q, ms, sql in (by_size[s] for s in SIZES))
            constant &= len({by_size[s][0] for s in SIZES}) == 1
            print(f"{name:<16}{cells}")
        print(f"query counts constant across sizes: {'yes' if constant else 'NO'}; "
              f"most queries on a page: {max(q for by_size in pages.values() for q, _, _ in by_size.values())}")

        from bench.search import measure_member_search

        print("\nMember search at 100,000 members (PostgreSQL, median of 7 calls of the whole search)")
        for term, ms in measure_member_search(app, world).items():
            print(f"  {term!r:<14}{ms:>8.1f} ms")

        throughput = measure_throughput(url, app, world)
        bare = throughput["bare endpoint"][0]
        print(f"\nThroughput: gunicorn, 2 workers, PostgreSQL; {CLIENTS} keep-alive clients for {LOAD_SECONDS:.0f} s each")
        for name, (rps, failures) in throughput.items():
            print(f"{name:<36}{rps:>9.0f} req/s   {rps / bare:>5.0%} of bare   failures {failures}")
        queries, median, sql = pages["invitations"][SIZES[-1]]
        print(f"invitations page in-process: median {median:.1f} ms, {queries} queries; "
              f"database {sql / median:.0%}, rendering and the rest {1 - sql / median:.0%}")

        seconds, clients = float(os.environ.get("BENCH_MIXED_SECONDS", "60")), int(os.environ.get("BENCH_MIXED_CLIENTS", "50"))
        total, failed, p50, p99 = measure_mixed_load(url, app, world, seconds, clients)
        print(f"\nLoad: {clients} concurrent users for {seconds:.0f} s (page views, resend), gunicorn 2 workers")
        print(f"requests {total}   failed {failed}   p50 {p50:.0f} ms   p99 {p99:.0f} ms")

        preview, send, as_messages, as_bytes = measure_bulk_send(url)
        print("\nBulk send: 500 rows, one SMTP connection to aiosmtpd in its own process (median of 5)")
        print(f"preview of 500 rows                     {preview:>7.2f} s")
        print(f"confirm-and-send (Invites)              {send:>7.2f} s")
        print(f"smtplib.send_message, same messages     {as_messages:>7.2f} s   ratio {send / as_messages:.2f}x")
        print(f"smtplib.sendmail, their finished bytes  {as_bytes:>7.2f} s   ratio {send / as_bytes:.2f}x")

        from bench.api import measure_api_create, measure_api_throughput

        api = measure_api_throughput(url, app, world, LOAD_SECONDS, CLIENTS)
        print(f"\nJSON API beside the HTML panel: gunicorn, 2 workers; {CLIENTS} clients for {LOAD_SECONDS:.0f} s each")
        for name, (rps, failures) in api.items():
            print(f"{name:<36}{rps:>9.0f} req/s   failures {failures}")
        created = measure_api_create(url, world, make_app, smtp_server_process)
        print(f"API create of 500 addresses (mailed)    {created:>7.2f} s   "
              f"(the 500-row import's confirm-and-send: {send:.2f} s)")

        from bench.webhooks import ACCEPTS, measure_accept_cost, measure_delivery

        delivered, seconds = measure_delivery(url, world, make_app)
        print(f"\nWebhooks: one deliver-webhooks worker to a receiver on 127.0.0.1 (answers 204 at once)")
        print(f"deliver-webhooks                        {delivered / seconds:>7.0f} events/s   ({delivered:,} in {seconds:.1f} s)")
        plain, hooked, per_accept = measure_accept_cost(url, world, make_app)
        print(f"accepting an invitation, median of {ACCEPTS}: {plain:.2f} ms without an endpoint, {hooked:.2f} ms with one "
              f"(+{hooked - plain:.2f} ms; {per_accept:.0f} events written per accept)")

        from bench.reminders import measure_reminders

        sent, seconds, plain, first, overall = measure_reminders(url, world, make_app, smtp_server_process)
        print(f"\nReminders: flask send-reminders over {sent + 100:,} due invitations (one transaction each)")
        print(f"send-reminders                          {sent / seconds:>7.0f} messages/s")
        print(f"smtplib.send_message, same messages     {sent / plain:>7.0f} messages/s   ratio {seconds / plain:.2f}x")
        print(f"SQL queries per reminder: {first:.1f} over the first 100, {overall:.1f} over the rest")

        peak = measure_memory(url)
        print(f"\nMemory: peak RSS of the worker that ran a 500-row import: {peak:.0f} MB")

        from bench.exports import PEAK_LIMIT_MB, measure_member_export

        rows, megabytes, first, seconds, before, peak = measure_member_export(url, world, app)
        print(f"CSV export of {rows:,} members: {seconds:.1f} s ({megabytes:.1f} MB streamed, first bytes after "
              f"{first * 1000:.0f} ms), peak RSS {peak:.0f} MB (the worker had {before:.0f} MB before; limit {PEAK_LIMIT_MB} MB)")

        # Last: it removes 10,000 of the world's members.
        from bench.expiry import measure_expiry

        removed, seconds, per_removal = measure_expiry(url, world, make_app)
        print(f"\nAccess that ends: flask expire-memberships over {removed:,} ended memberships of 100,000")
        print(f"expire-memberships                      {removed / seconds:>7.0f} removals/s   "
              f"{seconds:.1f} s   {per_removal:.1f} SQL queries per removal")
    report_spreadsheets()
    print(f"\nbench finished in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
