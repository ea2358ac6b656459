"""Accounts: registration, authentication, email verification (F1), password change and
reset."""
import hashlib
from datetime import timezone

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from invites import clock
from invites.accounts.models import User
from invites.activity.service import record_in_each_organization
from invites.accounts.sessions import end_all_sessions, start_session
from invites.errors import DomainError
from invites.extensions import db
from invites.mail.service import MailDeliveryError, external_url, send_mail
from invites.times import DEFAULT_ZONE, known_zone

VERIFY_SALT = "verify-email"
VERIFY_MAX_AGE = 48 * 3600  # a confirmation link works for 48 hours (security review F2)
RESET_SALT = "reset-password"
RESET_MAX_AGE = 3600  # a link to choose a new password works for an hour
# Checked against when the email is unknown, so a miss costs as long as a hit. Made on
# first use with the configured method (not at import: scrypt costs ~150 ms at start-up).
_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hashes[method]


def normalize_email(raw: str | None) -> str:
    """Trimmed, lower-cased, syntax-checked address (no DNS lookup).

    Raises DomainError(field="email") when the address is not valid.
    """
    try:
        # test_environment admits the reserved ".test" domain (the demo's addresses);
        # like check_deliverability=False it also means no DNS lookup.
        result = validate_email(
            (raw or "").strip(), check_deliverability=False, test_environment=True
        )
    except EmailNotValidError as error:
        raise DomainError(str(error), field="email") from error
    return result.normalized.lower()


EMAIL_TAKEN = "An account with this email already exists. Log in instead."
USERNAME_TAKEN = "This username is taken."


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))


def register_user(name: str, username: str, email: str, password: str, verified: bool = False,
                  time_zone: str | None = None) -> User:
    """Create an account. Refuses a taken email or username (case-insensitively).
    ``time_zone`` is the browser's guess: one this app does not offer gives UTC."""
    email = normalize_email(email)
    username = username.strip().lower()
    if find_user_by_email(email) is not None:
        # The registration form is public: say it is taken, as every site must for
        # sign-up to work; login and join pages never reveal whether an address exists.
        raise DomainError(EMAIL_TAKEN, "email")
    _require_free_username(username)
    user = User(name=clean_name(name), username=username, email=email,
                time_zone=known_zone(time_zone) or DEFAULT_ZONE)
    user.set_password(password)
    if verified:
        user.mark_verified()
    try:
        with db.session.begin_nested():  # taken between the checks and now: the same answers
            db.session.add(user)
    except IntegrityError as error:
        taken_email = "email" in str(error.orig).lower()
        raise DomainError(EMAIL_TAKEN if taken_email else USERNAME_TAKEN,
                          "email" if taken_email else "username") from error
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password match, else None (same cost either way)."""
    try:
        email = normalize_email(email)
    except DomainError:
        return None
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) else None


class _ClockSigner(TimestampSigner):
    """Timestamps from ``clock.now()``, so tests can age a link without sleeping."""

    def get_timestamp(self) -> int:
        return int(clock.now().replace(tzinfo=timezone.utc).timestamp())


def _serializer(salt: str = VERIFY_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner)


def verification_token(user: User) -> str:
    """Signed uid and address. It works once: a confirmed account refuses every link, and
    every link of an unconfirmed one works (so a link sent again later works too)."""
    return _serializer().dumps({"uid": user.id, "email": user.email})


def send_verification_email(user: User) -> None:
    """Mail a link that proves the address; raises MailDeliveryError if it can't go."""
    link = external_url("accounts.verify_email", token=verification_token(user))
    send_mail(user.email, "Confirm your email address", "verify_email", user=user, link=link,
              hours=VERIFY_MAX_AGE // 3600)


def confirm_to_come_in(user: User) -> None:
    """Mail ``user`` a confirmation link because a way in accepts people by the domain of a
    confirmed address (the Join Web Page, an invite link), and commit it (the local outbox
    keeps it as a row). A failure is logged, not shown: the page says what to do either way."""
    try:
        send_verification_email(user)
        db.session.commit()
    except MailDeliveryError as error:
        db.session.rollback()
        current_app.logger.warning("confirmation mail to %s failed: %s", user.email, error)


def verify_email(token: str) -> User:
    """Mark the token's account verified and return it.

    Refuses an expired (48 h) or forged token, one issued for an address the account no
    longer has, and any token once the account is confirmed (a link works once).
    """
    try:
        data = _serializer().loads(token, max_age=VERIFY_MAX_AGE)
    except SignatureExpired as error:
        raise DomainError("This confirmation link has expired. Ask for a new one.") from error
    except BadSignature as error:
        raise DomainError("This confirmation link is not valid.") from error
    user = db.session.get(User, data.get("uid"))
    if user is None or user.email != data.get("email"):
        raise DomainError("This confirmation link is not valid.")
    if user.is_verified:
        raise DomainError(f"This confirmation link was already used: {user.email} is confirmed.")
    user.mark_verified()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Give ``user`` a new password. Refuses a wrong current password (on the field
    ``current_password``). Ends every session of the account and starts a new one for
    the caller's browser (``sessions.keep_logged_in`` puts it in the cookies), so a copy
    of any cookie, this browser's included, stops working."""
    if not user.check_password(current_password):
        raise DomainError("This is not your current password.", "current_password")
    user.set_password(new_password)
    end_all_sessions(user)
    start_session(user)


def _password_mark(user: User) -> str:
    """Changes with the password: a reset link names it, so it works only once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def password_reset_token(user: User) -> str:
    """Signed uid, address and :func:`_password_mark`: it works for ``RESET_MAX_AGE``, for
    that address, until the password changes (so once)."""
    return _serializer(RESET_SALT).dumps({"uid": user.id, "email": user.email, "mark": _password_mark(user)})


def send_password_reset(email: str) -> None:
    """Mail a link to choose a new password to the account that uses ``email``. Does nothing
    for an address no account uses, or a malformed one: the page that asks says the same
    either way (no user enumeration). Raises MailDeliveryError if the mail can't go."""
    try:
        user = find_user_by_email(normalize_email(email))
    except DomainError:
        return
    if user is None:
        return
    link = external_url("accounts.reset_password", token=password_reset_token(user))
    send_mail(user.email, "Choose a new password", "password_reset", user=user, link=link,
              minutes=RESET_MAX_AGE // 60)


def user_of_reset_token(token: str) -> User:
    """The account a reset link is for. Refuses an expired (1 hour) or forged link, and one
    made before the password last changed or for an address the account no longer has."""
    try:
        data = _serializer(RESET_SALT).loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired as error:
        raise DomainError("This link has expired. Ask for a new one.") from error
    except BadSignature as error:
        raise DomainError("This link is not valid.") from error
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("email") or _password_mark(user) != data.get("mark"):
        raise DomainError("This link is not valid any more: it was used, or a newer one was sent.")
    return user


def reset_password(user: User, new_password: str) -> bool:
    """Give ``user`` (found by :func:`user_of_reset_token`) a new password and end every
    session of the account. The link came to the address, which proves it: the account is
    confirmed too (so an account someone opened with another person's address and never
    confirmed becomes that person's, and its sessions end). True when that confirmed it."""
    confirmed = not user.is_verified
    user.set_password(new_password)
    user.mark_verified()
    end_all_sessions(user)
    return confirmed


def _require_free_username(username: str, keeping: User | None = None) -> None:
    """Refuses ``username`` (already lower-cased) when another account has it."""
    taken = db.select(User.id).filter_by(username=username)
    if keeping is not None:
        taken = taken.where(User.id != keeping.id)
    if db.session.scalar(taken):
        raise DomainError(USERNAME_TAKEN, "username")


# Bidirectional controls and invisible characters: a name holding them can read as
# another's ("\u202e" turns the rest around) or differ from it unseen. Joiners (U+200C,
# U+200D) stay: some scripts and emoji need them.
_HIDDEN = dict.fromkeys(map(ord, "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                 "\u2060\u2066\u2067\u2068\u2069\ufeff"))


def clean_name(name: str | None) -> str:
    """A name as it is kept: no invisible or direction-changing characters, and every run
    of spaces, tabs and line breaks one space, trimmed (a name is one line everywhere)."""
    return " ".join((name or "").translate(_HIDDEN).split())


def change_profile(user: User, name: str, username: str) -> bool:
    """Give ``user`` this name and username (lower-cased, like at registration; another
    account's is refused, also when it is taken at the same moment). The Members panels
    and their search follow (``orgs/models.py``). Each of their organizations' activity
    records the change with the old name and username, since every page shows an actor by
    their current name. True if anything changed."""
    name, username = clean_name(name), username.strip().lower()
    if not name:
        raise DomainError("Enter your name.", "name")
    if username != user.username:
        _require_free_username(username, keeping=user)
    before = (user.name, user.username)
    if (name, username) == before:
        return False
    try:
        with db.session.begin_nested():
            user.name, user.username = name, username
    except IntegrityError as error:  # taken between the check and now
        raise DomainError(USERNAME_TAKEN, "username") from error
    if before[1] == username:
        summary = f"changed their name from “{before[0]}” to “{name}”"
    elif before[0] == name:
        summary = f"changed their username from @{before[1]} to @{username}"
    else:
        summary = f"changed their name from “{before[0]}” (@{before[1]}) to “{name}” (@{username})"
    record_in_each_organization(user, "account.renamed", summary)
    return True


def set_time_zone(user: User, name: str) -> None:
    """Show dates to ``user`` in the zone ``name``. Refuses a zone not in the list."""
    zone = known_zone(name)
    if zone is None:
        raise DomainError("Choose a time zone from the list.", "time_zone")
    user.time_zone = zone
    db.session.flush()
