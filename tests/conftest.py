"""Fixtures every test uses: a real database (built by the Alembic migration), a real
SMTP server, a live server and a real browser. See docs/architecture.md, Testing."""
import os
import shutil
from contextlib import contextmanager

import flask_migrate
import pytest
from sqlalchemy import text

from invites import clock, create_app
from invites.accounts.service import register_user
from invites.config import TestConfig
from invites.extensions import db, mail
from invites.orgs.models import Membership, Role
from invites.orgs.service import create_organization
from tests.support import (
    FormClient,
    SMTPSink,
    axe_violations,
    counting_queries,
    describe_violations,
    serve_in_thread,
    start_smtp_server,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id):
    """TEST_DATABASE_URL (PostgreSQL in CI) or a SQLite file for this run. With pytest-xdist
    (``make test`` runs ``-n auto``) each worker has its own: a SQLite file in its own
    temporary directory, or a PostgreSQL database named after TEST_DATABASE_URL's and the
    worker, made here and dropped at the end."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    elif worker_id == "master":
        yield url
    else:
        with worker_database(url, worker_id) as own:
            yield own


@contextmanager
def worker_database(url, worker_id):
    """A fresh PostgreSQL database beside ``url``'s for one xdist worker."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker_id}")
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{own.database}"')
    try:
        yield own.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)')


def _make_app(database_url, **overrides):
    config = {
        key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()
    }
    config.update(SQLALCHEMY_DATABASE_URI=database_url, **overrides)
    app = create_app(config)
    app.test_client_class = FormClient
    return app


@pytest.fixture(scope="session")
def schema(database_url):
    """Build the schema once per run with the migrations, exactly as production does."""
    app = _make_app(database_url)
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        flask_migrate.upgrade()
    yield
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        db.engine.dispose()


def _empty_all_tables():
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(schema, database_url):
    """A fresh app on an empty database; its app context is pushed for the test."""
    app = _make_app(database_url)
    with app.app_context():
        _empty_all_tables()
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()
    clock.unfreeze()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def smtp(app):
    """A real SMTP server on 127.0.0.1; the app sends to it. Yields the SMTPSink."""
    sink = SMTPSink()
    controller = start_smtp_server(sink)
    app.config.update(
        MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_SUPPRESS_SEND=False,
        MAIL_USE_TLS=False, MAIL_TIMEOUT=5,
    )
    mail.init_app(app)
    yield sink
    controller.stop()


# ---- factories ---------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    counter = {"n": 0}

    def make(name=None, email=None, verified=True, password=PASSWORD):
        counter["n"] += 1
        n = counter["n"]
        name = name or f"Person {n}"
        username = f"user{n}-{os.urandom(3).hex()}"
        user = register_user(name, username, email or f"{username}@example.com", password, verified)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_org(app, make_user):
    def make(owner=None, name="Acme", **settings):
        owner = owner or make_user(name="Olivia Owner")
        org = create_organization(owner, name)
        for key, value in settings.items():
            setattr(org, key, value)
        db.session.commit()
        return org

    return make


@pytest.fixture
def add_member(app):
    def add(org, user, role=Role.MEMBER):
        membership = Membership(org_id=org.id, user_id=user.id, role=role)
        db.session.add(membership)
        db.session.commit()
        return membership

    return add


@pytest.fixture
def team(make_user, make_org, add_member):
    """An organization with one person of each role (and an outsider in no org)."""

    class Team:
        pass

    t = Team()
    t.owner = make_user(name="Olivia Owner")
    # Managers may add new people here, said explicitly: a new organization starts with
    # it off (seed 001), and most tests show what a manager does with it on.
    t.org = make_org(owner=t.owner, name="Acme Training", managers_may_add_people=True)
    t.manager = make_user(name="Max Manager")
    t.member = make_user(name="Mia Member")
    t.collaborator = make_user(name="Cole Collaborator")
    t.outsider = make_user(name="Otto Outsider")
    t.memberships = {
        Role.MANAGER: add_member(t.org, t.manager, Role.MANAGER),
        Role.MEMBER: add_member(t.org, t.member, Role.MEMBER),
        Role.COLLABORATOR: add_member(t.org, t.collaborator, Role.COLLABORATOR),
    }
    t.memberships[Role.OWNER] = db.session.scalar(
        db.select(Membership).filter_by(org_id=t.org.id, user_id=t.owner.id)
    )
    return t


@pytest.fixture
def auth(client):
    """Log the test client in and out as a given user."""

    class Auth:
        def login(self, user, password=PASSWORD):
            response = client.post_form("/login", {"email": user.email, "password": password})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
            return response

        def logout(self):
            return client.post_form("/logout")

    return Auth()


# ---- browser -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (Playwright's own download cannot reach its servers here)."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs it.")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe-core is injected as a script tag, which the app's strict CSP would refuse.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def live_server(app):
    """The app served on a loopback port in a thread; yields its base URL, which is also
    the app's PUBLIC_URL meanwhile (links shown and mailed point at it)."""
    base_url, stop = serve_in_thread(app)
    app.config["PUBLIC_URL"] = base_url
    yield base_url
    stop()


@pytest.fixture
def assert_accessible():
    """Fails with a readable list when axe-core finds any violation on the page."""

    def check(page):
        violations = axe_violations(page)
        assert violations == [], f"axe-core on {page.url}:\n{describe_violations(violations)}"

    return check


@pytest.fixture
def browser_login(live_server):
    def login(page, user, password=PASSWORD):
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login" not in url)

    return login


@pytest.fixture
def count_queries(app):
    """``with count_queries() as statements:`` collects the SQL the block runs."""
    return lambda: counting_queries(db.engine)


@pytest.fixture
def page(page):
    """Playwright's page, failing in 10 s rather than 30 when something is missing."""
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def make_invitation(app):
    """Invite ``email`` into ``org`` through the service (mail goes where the app is set
    to send it); returns (invitation, token) so tests can follow the link."""
    from invites.invitations import sending

    def make(org, inviter, email, role=Role.MEMBER, groups=(), message=""):
        with app.test_request_context():
            outcomes = sending.send_invitations(org, inviter, email, role, list(groups), message, commit=db.session.commit)
            db.session.commit()
        outcome = outcomes[0]
        assert outcome.invitation is not None, outcome
        return outcome.invitation, outcome.token

    return make


def pytest_collection_modifyitems(config, items):
    """``postgres_only`` tests (row locks under real concurrency) run in CI's PostgreSQL
    pass; on SQLite, which serializes every writer, they would prove nothing."""
    if (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the TEST_DATABASE_URL pass of .ci/run")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def make_link(app):
    """Create an invite link through the service; returns (link, token)."""
    from invites.links import service
    from invites.links.models import Access

    def make(org, creator, expiration="7d", access=Access.ANYONE, role=Role.MEMBER, groups=(),
             max_uses=None, custom_date=None, allowed_domains=None):
        with app.test_request_context():
            link, token = service.create_link(
                org, creator, expiration=expiration, custom_date=custom_date, access=access,
                role=role, groups=list(groups), max_uses=max_uses, allowed_domains=allowed_domains,
            )
            db.session.commit()
        return link, token

    return make
