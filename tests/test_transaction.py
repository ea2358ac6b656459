"""The one way routes run a service call (invites/transaction.py) and DomainError's codes."""
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from invites.errors import DomainError
from invites.extensions import db
from invites.invitations.answering import InvitationUnavailable
from invites.mail.quota import QuotaExceeded
from invites.orgs.models import Organization
from invites.transaction import attempt


class NameForm(FlaskForm):
    name = StringField("Name")


def org_count():
    return db.session.scalar(db.select(db.func.count(Organization.id)))


def test_a_success_is_committed(app):
    with app.test_request_context():
        with attempt() as done:
            db.session.add(Organization(name="Kept", slug="kept"))
        assert done and done.error is None
    db.session.rollback()  # nothing left to roll back: it was committed
    assert org_count() == 1


def test_a_refusal_rolls_back_and_goes_on_the_form(app):
    with app.test_request_context(method="POST"):
        form = NameForm(meta={"csrf": False})
        with attempt(form) as done:
            db.session.add(Organization(name="Dropped", slug="dropped"))
            db.session.flush()
            raise DomainError("Choose another name.", "name")
        assert not done and done.error.code == "invalid"
        assert form.name.errors == ["Choose another name."]
    assert org_count() == 0


def test_without_a_form_the_refusal_is_flashed(app):
    with app.test_request_context():
        with attempt(category="info") as done:
            raise DomainError("Not now.")
        assert not done and done.error.code == "refused"
        assert get_flashed_messages(with_categories=True) == [("info", "Not now.")]


def test_a_refusal_no_route_handles_is_a_422_page_and_nothing_is_kept(app, client):
    @app.route("/test-only/refuse", methods=["GET"])
    def refuse():
        db.session.add(Organization(name="Half", slug="half"))
        db.session.flush()
        raise DomainError("That cannot be done here.")

    response = client.get("/test-only/refuse")
    assert response.status_code == 422
    assert "That cannot be done here." in response.get_data(as_text=True)
    assert org_count() == 0


def test_refusals_carry_stable_codes():
    assert InvitationUnavailable("expired").code == "expired"
    assert InvitationUnavailable("expired").message == "This invitation has expired."
    assert QuotaExceeded("Too many today.").code == "quota_exceeded"
    assert DomainError("x", code="slug_taken").code == "slug_taken"
