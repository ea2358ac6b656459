from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from invites.accounts import service
from invites.accounts.forms import LoginForm, RegisterForm
from invites.accounts.safety import safe_next
from invites.errors import DomainError
from invites.extensions import db, limiter
from invites.forms import EmptyForm
from invites.mail.service import MailDeliveryError

bp = Blueprint("accounts", __name__)


def _after_login_target():
    return safe_next(request.args.get("next"), url_for("orgs.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute; 50 per hour", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_after_login_target())
        form.form_errors.append("Email or password is not correct.")
    return render_template("accounts/login.html", form=form, next=request.args.get("next"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = service.register_user(
                form.name.data, form.username.data, form.email.data, form.password.data
            )
        except DomainError as error:
            error.apply_to(form)
        else:
            db.session.commit()
            login_user(user)
            _send_verification(user)
            flash(f"Welcome, {user.name}! Your account is ready.", "success")
            return redirect(_after_login_target())
    return render_template("accounts/register.html", form=form, next=request.args.get("next"))


def _send_verification(user):
    try:
        service.send_verification_email(user)
        db.session.commit()  # the outbox keeps the message in the database
        flash(f"We sent a confirmation link to {user.email}.", "info")
    except MailDeliveryError as error:
        db.session.rollback()
        current_app.logger.warning("verification mail to %s failed: %s", user.email, error)
        flash("We could not send the confirmation email just now; try again later.", "warning")


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()  # nothing of this person (such as new links' tokens) stays behind
        flash("You are logged out.", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/verify/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute")
def verify_email(token):
    """GET shows a button; only the POST verifies (mail scanners pre-open links)."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            user = service.verify_email(token)
        except DomainError as error:
            return render_template("accounts/verify.html", form=form, error=error.message), 400
        db.session.commit()
        flash(f"Thank you: {user.email} is confirmed.", "success")
        return redirect(url_for("orgs.dashboard") if current_user.is_authenticated
                        else url_for("accounts.login"))
    return render_template("accounts/verify.html", form=form, error=None)


@bp.route("/account/verify", methods=["POST"])
@login_required
@limiter.limit("3 per minute; 10 per hour")
def resend_verification():
    form = EmptyForm()
    if form.validate_on_submit() and not current_user.is_verified:
        _send_verification(current_user)
    return redirect(url_for("orgs.dashboard"))
