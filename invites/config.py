"""Configuration read from the environment (the variables SPEC lists)."""
import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


class Config:
    """Production-ready defaults; every secret and address comes from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'invites.sqlite3'}"
    )
    # hide_parameters: a failed statement's values (password hashes, tokens' hashes, what
    # people typed) never reach the logs; debug mode shows them (see configure()).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

    # Mail: with no MAIL_SERVER, messages go to the local outbox (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Invites <invites@localhost>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))

    # Every link in mail is built on PUBLIC_URL (e.g. https://invites.example.com), never
    # on a request's Host header; required outside debug and testing.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    SERVER_NAME = os.environ.get("SERVER_NAME")
    # Host names requests may carry (comma-separated; ".example.com" admits subdomains);
    # any other gets a 400. Unset: the host of PUBLIC_URL (outside debug and testing).
    TRUSTED_HOSTS = [h.strip() for h in os.environ["TRUSTED_HOSTS"].split(",") if h.strip()] \
        if os.environ.get("TRUSTED_HOSTS") else None

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)  # off only for benchmarks

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # Outside debug and testing, cookies are sent over HTTPS only, whatever PUBLIC_URL
    # says, unless COOKIE_SECURE=0 switches that off explicitly (see configure()).
    COOKIE_SECURE = _flag("COOKIE_SECURE", True)
    # Behind N reverse proxies or load balancers, trust their X-Forwarded-For/-Proto (so
    # rate limits key on the real client and HTTPS is seen as such). 0: trust none.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Invitation mails (new, resent, imported, shared links) an organization and an account
    # may send per UTC day, by the organization's plan. Past a cap nothing is sent and the
    # sender is told; what they typed is kept (security review F4).
    DAILY_INVITATION_MAILS = {
        "free": {
            "organization": _int("DAILY_INVITATION_MAILS_FREE_ORG", 50),
            "account": _int("DAILY_INVITATION_MAILS_FREE_ACCOUNT", 20),
        },
        "premium": {
            "organization": _int("DAILY_INVITATION_MAILS_PREMIUM_ORG", 2000),
            "account": _int("DAILY_INVITATION_MAILS_PREMIUM_ACCOUNT", 1000),
        },
    }

    PAGE_SIZE = int(os.environ.get("PAGE_SIZE", "25"))
    # flask expire-memberships warns members, owners and managers this many days before a
    # member's access ends (issue 19).
    ACCESS_WARNING_DAYS = _int("ACCESS_WARNING_DAYS", 7)
    # Seat limits by plan (issue 19): the most members an organization of each plan may
    # have; 0 or unset, none (owners may still set their own, under Permissions).
    MEMBER_LIMITS = {
        "free": _int("MEMBER_LIMIT_FREE", 0) or None,
        "premium": _int("MEMBER_LIMIT_PREMIUM", 0) or None,
    }
    # The JSON API (issue 20): requests per token (Flask-Limiter's notation).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # flask-smorest: the OpenAPI document it builds from invites/api/schemas.py, served at
    # /api/v1/openapi.json (its own browser pages load scripts from CDNs: not served).
    API_TITLE = "Invites API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = None  # invites/api/reference.py serves the document
    # Webhooks (issue 21): timeouts of one delivery in seconds; how long an endpoint may fail
    # every delivery before it is disabled; how many days the delivery log is kept (flask
    # prune). WEBHOOK_ALLOW_PRIVATE_URLS lets endpoints be on loopback or private networks:
    # for tests and development only (it lifts the rule against SSRF).
    WEBHOOK_CONNECT_TIMEOUT = float(os.environ.get("WEBHOOK_CONNECT_TIMEOUT", "3"))
    WEBHOOK_READ_TIMEOUT = float(os.environ.get("WEBHOOK_READ_TIMEOUT", "10"))
    WEBHOOK_DISABLE_AFTER_HOURS = _int("WEBHOOK_DISABLE_AFTER_HOURS", 72)
    WEBHOOK_LOG_DAYS = _int("WEBHOOK_LOG_DAYS", 30)
    WEBHOOK_ALLOW_PRIVATE_URLS = _flag("WEBHOOK_ALLOW_PRIVATE_URLS", False)
    # bench/ only: adds /bench/bare, the ceiling a page's throughput is compared with.
    BENCH_ENDPOINTS = _flag("BENCH_ENDPOINTS")
    # Uploads (Import Learners) are at most 1 MB; anything much larger is refused early.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default, deliberately slow
    # The development outbox page is served only in debug mode unless this is set.
    DEV_OUTBOX_PAGE = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    PUBLIC_URL = "http://localhost"  # the test client's host: mailed links work in it
    TRUSTED_HOSTS = None
    # Feature tests send more than a day's worth; tests/security/ checks the real caps.
    DAILY_INVITATION_MAILS = {plan: {"organization": 100_000, "account": 100_000}
                              for plan in ("free", "premium")}
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_SERVER = None
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    WEBHOOK_ALLOW_PRIVATE_URLS = True  # the tests' receivers listen on 127.0.0.1
    DEV_OUTBOX_PAGE = True
    SERVER_NAME = None
    # Tests create many accounts; a cheap hash keeps them fast. Never use this in production.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
