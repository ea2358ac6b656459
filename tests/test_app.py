"""The app shell: error pages, headers, HTMX vendoring, the CLI."""
from pathlib import Path

from invites import create_app
from invites.extensions import db
from invites.orgs.models import Membership, Organization

ROOT = Path(__file__).resolve().parent.parent


def test_404_page_is_in_the_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<main" in html and "Not found" in html


def test_500_page_is_in_the_layout_and_hides_the_traceback(app, client):
    @app.route("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Something went wrong" in html and "secret internals" not in html and "Traceback" not in html


def test_405_for_get_on_a_post_only_route(client):
    response = client.get("/logout")
    assert response.status_code == 405 and "<main" in response.get_data(as_text=True)


def test_security_headers_and_vary(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_have_no_inline_scripts_and_load_vendored_htmx(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<script src="/static/htmx.min.js" defer></script>' in html
    assert "<script>" not in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert 'version:"2.0.11"' in (ROOT / "static" / "htmx.min.js").read_text()


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    try:
        create_app({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    except RuntimeError as error:
        assert "SECRET_KEY" in str(error)
    else:
        raise AssertionError("create_app started without SECRET_KEY")


def test_seed_demo_is_idempotent_and_prints_the_logins(app):
    from invites.invitations.models import Invitation
    from invites.join_requests.models import JoinRequest
    from invites.mail.models import OutboxMessage

    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    for email in ("owner@demo.test", "manager@demo.test", "member@demo.test", "collaborator@demo.test"):
        assert email in first.output
    assert "demo-password" in first.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    org = db.session.scalar(db.select(Organization).filter_by(slug="acme-training"))
    assert org.name == "Acme Training" and org.plan == "premium"
    # The four demo people, and six learners who came in by a link or an invitation over
    # the last weeks (the Overview's recent joins and joins per week), made once.
    ways = dict(db.session.execute(
        db.select(Membership.joined_via, db.func.count()).group_by(Membership.joined_via)).all())
    assert ways == {None: 3, "created": 1, "link": 3, "invitation": 3}
    # A few invitations in different states, made once; their mail is in the outbox.
    shown = sorted(i.shown_status for i in db.session.scalars(db.select(Invitation)))
    assert shown == ["accepted"] * 3 + ["declined", "expired"] + ["pending"] * 3
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id)).filter_by(status="pending")) == 2
    new_hire = db.session.scalar(db.select(Invitation).filter_by(email="new.hire@demo.test"))
    assert [g.name for g in new_hire.groups] == ["New Hires"]
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) >= 4
    assert app.test_client().get("/join/acme-training").status_code == 200
    skipped = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already has accounts" in skipped.output


def test_set_plan(app, make_org):
    org = make_org(name="Plan Test")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["set-plan", org.slug, "premium"])
    assert result.exit_code == 0 and "premium" in result.output
    db.session.expire_all()
    assert org.is_premium
    assert runner.invoke(args=["set-plan", org.slug, "gold"]).exit_code != 0
    missing = runner.invoke(args=["set-plan", "nope", "free"])
    assert missing.exit_code != 0 and "No organization" in missing.output
