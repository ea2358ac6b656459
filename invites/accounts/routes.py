from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from invites.accounts import service, sessions
from invites.accounts.models import User
from invites.accounts.forms import (
    ForgotPasswordForm, LoginForm, PasswordForm, ProfileForm, RegisterForm, ResetPasswordForm, TimeZoneForm,
)
from invites.accounts.hints import ReturnHint, hint_for
from invites.accounts.safety import safe_next
from invites.after_response import after_response
from invites.errors import DomainError
from invites.extensions import db, limiter
from invites.forms import EmptyForm, confirm_first
from invites.invitations.sending import announce_pending_invitations
from invites.mail.service import MailDeliveryError
from invites.transaction import attempt

bp = Blueprint("accounts", __name__)


def _after_login_target() -> str:
    return safe_next(request.args.get("next"), url_for("home.dashboard"))


def _return_hint() -> ReturnHint | None:
    """What the page we return to knows (an invitation: the invited address)."""
    return hint_for(safe_next(request.args.get("next"), ""))


def _login_account() -> str:
    """The per-account login limit's key: the address typed, read as ``authenticate`` reads
    it, so every spelling of one account shares one count whatever the client. Unknown
    addresses are counted the same way: the limit tells nothing about who has an account."""
    typed = (request.form.get("email") or "")[:254]
    try:
        email = service.normalize_email(typed)
    except DomainError:
        email = typed.strip().lower()
    return f"account:{email}"


def _logged_in_account() -> str:
    """The key of a per-account limit on a logged-in action (the client's address otherwise)."""
    if current_user.is_authenticated:
        return f"account-id:{current_user.id}"
    return get_remote_address()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
@limiter.limit("10 per hour", key_func=_login_account, methods=["POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            sessions.log_in(user, remember=form.remember.data)
            return redirect(_after_login_target())
        form.form_errors.append("Email or password is not correct.")
    hint = _return_hint()
    if hint and not form.is_submitted():
        form.email.data = hint.email
    return render_template("accounts/login.html", form=form, next=request.args.get("next"),
                           register_url=hint and hint.register_url, note=hint and hint.note)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def register() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    hint = _return_hint()
    if hint and hint.register_url:  # e.g. an invitation's own form: address filled in, proven
        return redirect(hint.register_url)
    form = RegisterForm()
    if form.validate_on_submit():
        with attempt(form) as registered:
            user = service.register_user(
                form.name.data, form.username.data, form.email.data, form.password.data,
                time_zone=form.time_zone.data,
            )
        if registered:
            sessions.log_in(user)
            _send_verification(user)
            flash(f"Welcome, {user.name}! Your account is ready.", "success")
            return redirect(_after_login_target())
    return render_template("accounts/register.html", form=form, next=request.args.get("next"))


def _send_verification(user: User) -> None:
    try:
        service.send_verification_email(user)
        db.session.commit()  # the outbox keeps the message in the database
        flash(f"We sent a confirmation link to {user.email}.", "info")
    except MailDeliveryError as error:
        db.session.rollback()
        current_app.logger.warning("verification mail to %s failed: %s", user.email, error)
        flash("We could not send the confirmation email just now; try again later.", "warning")


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per minute; 20 per hour", methods=["POST"])
@limiter.limit("3 per hour", key_func=_login_account, methods=["POST"])
def forgot_password() -> ResponseReturnValue:
    """The same answer whether or not an account uses the address (no user enumeration)."""
    if current_user.is_authenticated:
        return redirect(url_for("accounts.account"))  # the account page changes the password
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        # Only once the answer has gone: its timing must not tell which addresses have an
        # account (only theirs is looked up and mailed).
        after_response(partial(_send_password_reset, form.email.data))
        flash(f"If an account uses {form.email.data.strip()}, we emailed it a link to choose a new "
              f"password. It works for {service.RESET_MAX_AGE // 60} minutes.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


def _send_password_reset(email: str) -> None:
    try:
        service.send_password_reset(email)
        db.session.commit()  # the outbox keeps the message in the database
    except MailDeliveryError as error:
        db.session.rollback()
        current_app.logger.warning("password reset mail failed: %s", error)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute")
def reset_password(token: str) -> ResponseReturnValue:
    """GET shows the form; only the POST changes the password (mail scanners pre-open links).
    Whoever holds the emailed link may use it: it is the proof. Then every session of the
    account ends, this browser's too, and they log in with the new password."""
    try:
        user = service.user_of_reset_token(token)
    except DomainError as error:
        return render_template("accounts/reset.html", form=None, error=error.message), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        if service.reset_password(user, form.password.data):
            announce_pending_invitations(user)  # out of sight until the address was confirmed
        db.session.commit()
        sessions.log_out()
        flash("Your password is changed, and every device is logged out: log in with it.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form, error=None, email=user.email)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    form = EmptyForm()
    if form.validate_on_submit():
        sessions.log_out()
        flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/verify/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute")
def verify_email(token: str) -> ResponseReturnValue:
    """GET shows a button; only the POST verifies (mail scanners pre-open links)."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = service.verify_email(token)
        except DomainError as error:
            return render_template("accounts/verify.html", form=form, error=error.message), 400
        # The invitations sent to the address were out of sight until now (F1).
        announce_pending_invitations(user)
        db.session.commit()
        flash(f"Thank you: {user.email} is confirmed.", "success")
        return redirect(url_for("home.dashboard") if current_user.is_authenticated
                        else url_for("accounts.login"))
    return render_template("accounts/verify.html", form=form, error=None)


@bp.route("/account/verify", methods=["POST"])
@login_required
@limiter.limit("3 per minute; 10 per hour")
def resend_verification() -> ResponseReturnValue:
    form = EmptyForm()
    if form.validate_on_submit() and not current_user.is_verified:
        _send_verification(current_user)
    return redirect(safe_next(request.args.get("next"), url_for("home.dashboard")))


def _account_page(password_form: PasswordForm | None = None,
                  zone_form: TimeZoneForm | None = None, profile_form: ProfileForm | None = None) -> str:
    return render_template(
        "accounts/account.html", password_form=password_form or PasswordForm(formdata=None),
        profile_form=profile_form or ProfileForm(
            formdata=None, name=current_user.name, username=current_user.username),
        zone_form=zone_form or TimeZoneForm(formdata=None, time_zone=current_user.time_zone),
        session_count=sessions.count_sessions(current_user),
    )


@bp.route("/account")
@login_required
def account() -> ResponseReturnValue:
    return _account_page()


@bp.route("/account/profile", methods=["POST"])
@login_required
@limiter.limit("10 per minute; 60 per hour", key_func=_logged_in_account)
def change_profile() -> ResponseReturnValue:
    form = ProfileForm()
    if form.validate_on_submit():
        with attempt(form) as saved:
            changed = service.change_profile(
                current_user._get_current_object(), form.name.data, form.username.data)
        if saved:
            if changed:
                flash(f"Saved: you are {current_user.name} (@{current_user.username}).", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(profile_form=form), 422


@bp.route("/account/time-zone", methods=["POST"])
@login_required
def change_time_zone() -> ResponseReturnValue:
    form = TimeZoneForm()
    if form.validate_on_submit():
        with attempt(form) as changed:
            service.set_time_zone(current_user._get_current_object(), form.time_zone.data)
        if changed:
            flash(f"Dates are now shown in {form.time_zone.data} time.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(zone_form=form), 422


@bp.route("/account/password", methods=["POST"])
@login_required
@limiter.limit("5 per minute; 20 per hour")
@limiter.limit("10 per hour", key_func=_logged_in_account)
def change_password() -> ResponseReturnValue:
    """Every other browser is logged out; this one stays, with a new session key."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        with attempt(form) as changed:
            service.change_password(user, form.current_password.data, form.password.data)
        if changed:
            sessions.keep_logged_in(user)
            flash("Your password is changed. Every other device is logged out.", "success")
            return redirect(url_for("accounts.account"))
    return _account_page(password_form=form)


@bp.route("/account/log-out-everywhere", methods=["POST"])
@login_required
def log_out_everywhere() -> ResponseReturnValue:
    """Ends every session of the account, this browser's too, once confirmed."""
    asking = confirm_first(
        title="Log out of all devices?",
        message="Every browser where you are logged in, this one included, will ask for "
                "your password again.",
        button="Log out everywhere", cancel=url_for("accounts.account"),
    )
    if asking is not None:
        return asking
    sessions.end_all_sessions(current_user._get_current_object())
    sessions.log_out()
    flash("You are logged out on every device.", "info")
    return redirect(url_for("accounts.login"))
