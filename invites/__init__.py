"""Invites: bring people into organizations. ``create_app`` reads as a list of steps."""
from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, request
from flask_login import current_user
from werkzeug.wrappers import Response

from invites.config import INSTANCE_DIR, Config

if TYPE_CHECKING:
    from invites.accounts.models import User
    from invites.orgs.models import Organization

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` is a Config subclass or a dict of overrides.

    Start-up does no network, migration or prompt.
    """
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    configure(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_response_headers(app)
    from invites.errors import register_error_handlers
    from invites.cli import register_commands

    register_error_handlers(app)
    register_commands(app)
    return app


def configure(app: Flask, config: type[Config] | dict[str, Any] | None) -> None:
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    development = app.debug or app.testing
    if not app.config.get("SECRET_KEY"):
        if not development:
            raise RuntimeError("Set SECRET_KEY in the environment (see README, Configuration).")
        app.config["SECRET_KEY"] = _development_secret(app)
    if not app.config.get("PUBLIC_URL"):
        if not development:
            raise RuntimeError(
                "Set PUBLIC_URL in the environment, e.g. https://invites.example.com: every "
                "link in mail is built on it (see README, Production)."
            )
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"
    if not development:
        if app.config.get("TRUSTED_HOSTS") is None:
            app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["PUBLIC_URL"]).hostname]
        secure = bool(app.config.get("COOKIE_SECURE", True))
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    else:  # show a failed statement's values where only the developer reads the log
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": False
        }
    app.config.setdefault("MAIL_SUPPRESS_SEND", False)
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask's documented way to wrap the WSGI app (mypy sees a method replaced).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def _development_secret(app: Flask) -> str:
    """A random key kept in the instance folder, made on first use: debug mode never signs
    sessions with a key anyone could read in the source (security review F11)."""
    path = Path(app.instance_path) / "development-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def register_extensions(app: Flask) -> None:
    from invites.extensions import csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"

    import invites.models  # noqa: F401  (every model registered with the metadata)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        from invites.viewer import load_viewer

        # "<id>:<session key>", checked against user_sessions, with what every page needs
        return load_viewer(user_id)


def register_blueprints(app: Flask) -> None:
    from invites.accounts.routes import bp as accounts
    from invites.activity.routes import bp as activity
    from invites.api.panel import bp as api_tokens
    from invites.api.reference import register_api
    from invites.webhooks.routes import bp as webhooks
    from invites.exports.routes import bp as exports
    from invites.groups.routes import bp as groups
    from invites.home import bp as home
    from invites.imports.routes import bp as imports
    from invites.invitations.public import bp as invitations  # routes.py's pages and the /i/<token> ones
    from invites.join_page.routes import bp as join_page
    from invites.join_requests.routes import bp as join_requests
    from invites.links.routes import bp as links
    from invites.mail.routes import bp as outbox
    from invites.notifications.routes import bp as notifications
    from invites.orgs.routes import bp as orgs

    for blueprint in (home, accounts, orgs, groups, invitations, links, join_requests,
                      join_page, imports, notifications, activity, exports, outbox, api_tokens, webhooks):
        app.register_blueprint(blueprint)
    register_api(app)  # /api/v1: the JSON API, documented by flask-smorest
    if app.config.get("BENCH_ENDPOINTS"):
        _register_bench_endpoint(app)


def _register_bench_endpoint(app: Flask) -> None:
    """The "bare" endpoint bench/ measures pages against: one indexed query, a short string."""
    from invites.extensions import db
    from invites.orgs.models import Organization

    @app.route("/bench/bare")
    def bench_bare() -> str:
        found = db.session.scalar(db.select(Organization.id).filter_by(slug="bench"))
        return f"ok {found}"


def register_template_helpers(app: Flask) -> None:
    from invites import policy
    from invites.mail.service import no_links
    from invites.notifications.service import BELL_LIMIT, unread_count
    from invites.orgs.models import Role
    from invites.orgs.panels import visible_panels
    from invites.orgs.seats import free_seats
    from invites.times import show_day, show_time
    from invites.urls import row_url
    from invites.wrapping import breakable_email

    app.add_template_filter(no_links, "no_links")
    app.add_template_filter(breakable_email, "breakable_email")  # <wbr> at "@" and dots
    app.add_template_global(show_time, "date")  # relative, in the viewer's zone: times.py
    app.add_template_global(show_day, "day")  # a calendar day (a last day of access): times.py
    app.add_template_global(free_seats, "free_seats")  # None without a seat limit: orgs/seats.py
    app.add_template_global(row_url, "row_url")  # url_for built once per page for its rows: urls.py

    @app.context_processor
    def helpers() -> dict[str, Any]:
        def can(action: str, org: Organization | None, obj: Any = None) -> bool:
            return policy.can(current_user, action, org, obj)

        return {
            "can": can,
            "Role": Role,
            "role_of": lambda org: policy.role_of(current_user, org),
            "manage_panels": lambda org: visible_panels(current_user, org),
            "unread_notifications": lambda: unread_count(current_user),
            "bell_limit": BELL_LIMIT,
        }


def register_response_headers(app: Flask) -> None:
    from invites.htmx import add_vary_header

    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'self'; frame-ancestors 'none'; "
        "object-src 'none'"
    )

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return add_vary_header(response)
