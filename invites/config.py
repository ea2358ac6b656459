"""Configuration read from the environment (the variables SPEC lists)."""
import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-ready defaults; every secret and address comes from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'invites.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Mail: with no MAIL_SERVER, messages go to the local outbox (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _flag("MAIL_USE_TLS")
    MAIL_USE_SSL = _flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Invites <invites@localhost>")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT", "10"))

    # Links in mail: PUBLIC_URL (e.g. https://invites.example.com) or SERVER_NAME.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    SERVER_NAME = os.environ.get("SERVER_NAME")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)  # off only for benchmarks

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # Served over HTTPS (PUBLIC_URL says so): cookies are sent over HTTPS only.
    SESSION_COOKIE_SECURE = REMEMBER_COOKIE_SECURE = (PUBLIC_URL or "").startswith("https://")
    # Behind N reverse proxies or load balancers, trust their X-Forwarded-For/-Proto (so
    # rate limits key on the real client and HTTPS is seen as such). 0: trust none.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    PAGE_SIZE = int(os.environ.get("PAGE_SIZE", "25"))
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
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_SERVER = None
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    DEV_OUTBOX_PAGE = True
    SERVER_NAME = None
    # Tests create many accounts; a cheap hash keeps them fast. Never use this in production.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
