"""Login sessions (security review F7): one ``user_sessions`` row per login, named by a
random key that both the session cookie and the remember-me cookie carry, as
``"<user id>:<key>"`` (``User.get_id``). A cookie logs in only while its row exists, so
logging out, "Log out of all devices" and a password change make copies of the cookies
worthless.

``log_in`` and ``log_out`` are the only ways routes log someone in or out; the other
functions change rows only, flush, and leave the commit to the caller.
"""
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from invites.accounts.models import User, UserSession
from invites.clock import now
from invites.extensions import db
from invites.tokens import hash_token, new_token

# Flask-Login's default for REMEMBER_COOKIE_DURATION. A row is refused once it is older
# than the remember-me cookie's lifetime, so a copied cookie cannot outlive it.
DEFAULT_LIFETIME = timedelta(days=365)
MAX_KEY_LENGTH = 100
MAX_USER_ID = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL
# All that survives a login of what the visitor's session held: the flash messages.
KEPT_ACROSS_LOGIN = ("_flashes",)


def lifetime() -> timedelta:
    """How long a login lasts at most: the remember-me cookie's lifetime."""
    value = current_app.config.get("REMEMBER_COOKIE_DURATION") or DEFAULT_LIFETIME
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def start_session(user: User) -> str:
    """A new session row for ``user``; sets ``user.session_key`` and returns the key.
    Also drops the account's rows past their lifetime, so they do not pile up."""
    db.session.execute(
        db.delete(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at <= now() - lifetime()
        )
    )
    key = new_token()
    db.session.add(UserSession(user_id=user.id, key_hash=hash_token(key)))
    db.session.flush()
    user.session_key = key
    return key


def end_session(user: User) -> None:
    """Delete the row of the session ``user`` was loaded with, if any."""
    if user.session_key:
        db.session.execute(
            db.delete(UserSession).where(
                UserSession.user_id == user.id,
                UserSession.key_hash == hash_token(user.session_key),
            )
        )


def end_all_sessions(user: User) -> None:
    """Delete every session row of ``user``: each browser has to log in again."""
    db.session.execute(db.delete(UserSession).where(UserSession.user_id == user.id))


def count_sessions(user: User) -> int:
    """How many browsers are logged in to ``user``'s account (within the lifetime)."""
    return db.session.scalar(
        db.select(db.func.count()).select_from(UserSession).where(
            UserSession.user_id == user.id, UserSession.created_at > now() - lifetime()
        )
    )


def session_values(cookie_value: str) -> dict[str, Any] | None:
    """The values :func:`user_statement` finds the account named by ``"<id>:<key>"`` with,
    while that session row is within its lifetime; None for a malformed value. A bare id
    (cookies made before sessions had keys) opens nothing."""
    user_id, _, key = (cookie_value or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 10):
        return None
    if not key or len(key) > MAX_KEY_LENGTH or int(user_id) > MAX_USER_ID:
        return None
    return {"user_id": int(user_id), "key_hash": hash_token(key), "since": now() - lifetime()}


@cache
def user_statement() -> Select[Any]:
    """The account ``:user_id`` through its session row ``:key_hash`` made after ``:since``.
    Built once, executed with :func:`session_values`: every request asks it, and building
    a statement costs more than running it. :mod:`invites.viewer` adds to it what every
    page needs, so that every request pays one query for all of it."""
    return (
        db.select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == bindparam("user_id"),
            UserSession.key_hash == bindparam("key_hash"),
            UserSession.created_at > bindparam("since"),
        )
    )


def opened(user: User, cookie_value: str) -> User:
    """``user``, found by :func:`user_statement`, now knowing the session it was loaded with."""
    user.session_key = cookie_value.partition(":")[2]
    return user


def user_for(cookie_value: str) -> User | None:
    """The account a session cookie's value opens, or None."""
    values = session_values(cookie_value)
    user = db.session.scalar(user_statement(), values) if values is not None else None
    return opened(user, cookie_value) if user is not None else None


# --- For routes: the Flask session and the cookies ------------------------------------------

def log_in(user: User, remember: bool = False) -> None:
    """The one way to log someone in: a new session row, a new CSRF token, and nothing of
    the visitor's session kept but its flash messages. Commits (call it after the route's
    own commit): the cookies leave with the response, so the row they name must exist."""
    kept = {name: session[name] for name in KEPT_ACROSS_LOGIN if name in session}
    session.clear()  # Flask-WTF's csrf_token goes with it: the next form gets a new one
    session.update(kept)
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # its per-request copy
    start_session(user)
    login_user(user, remember=remember)
    db.session.commit()


def keep_logged_in(user: User) -> None:
    """After this browser's session got a new key (``service.change_password``): the
    session cookie, and the remember-me cookie if the browser has one, carry the new key."""
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_user(user, remember=cookie in request.cookies)


def log_out() -> None:
    """The one way to log out: this browser's session row is deleted (a copy of its session
    or remember-me cookie opens nothing), the Flask session emptied (nothing of this person,
    such as new links' tokens, stays behind) and the remember-me cookie cleared. Commits."""
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
    session.clear()
    logout_user()  # after clear(): it leaves the order to delete the remember-me cookie
    db.session.commit()
