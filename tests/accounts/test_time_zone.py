"""The "Time zone" setting: chosen on the Account page, guessed from the browser at
registration (static/app.js fills a hidden field), UTC by default and without JavaScript."""
import flask_migrate
import pytest
from sqlalchemy import inspect, text

from invites.accounts.models import User
from invites.accounts.service import find_user_by_email
from invites.extensions import db


def zone_of(user):
    db.session.expire_all()
    return db.session.get(User, user.id).time_zone


def test_a_new_account_starts_in_utc(make_user):
    assert make_user().time_zone == "UTC"


def test_the_account_page_offers_the_zones_with_the_current_one_selected(client, auth, make_user):
    auth.login(make_user())
    html = client.get("/account").get_data(as_text=True)
    assert '<label for="time_zone">Time zone</label>' in html
    assert '<option selected value="UTC">UTC</option>' in html
    assert '<option value="America/New_York">America/New York</option>' in html
    assert "Etc/GMT+5" not in html  # only geographic zones, and UTC


def test_choosing_a_zone_saves_it(client, auth, make_user):
    user = make_user()
    auth.login(user)
    response = client.post_form("/account/time-zone", {"time_zone": "Europe/Paris"})
    assert response.status_code == 302 and response.location == "/account"
    assert zone_of(user) == "Europe/Paris"
    html = client.get("/account").get_data(as_text=True)
    assert "Dates are now shown in Europe/Paris time." in html
    assert '<option selected value="Europe/Paris">' in html


def test_an_unknown_zone_is_refused_on_the_form_and_nothing_changes(client, auth, make_user):
    user = make_user()
    auth.login(user)
    client.post_form("/account/time-zone", {"time_zone": "Asia/Tokyo"})
    for forged in ("Mars/Olympus_Mons", "", "Etc/GMT+5"):
        response = client.post_form("/account/time-zone", {"time_zone": forged})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert 'aria-invalid="true"' in html and "Choose a time zone from the list." in html
        assert zone_of(user) == "Asia/Tokyo"


def test_the_setting_needs_a_login_and_a_csrf_token(client, auth, make_user):
    assert client.post_form("/account/time-zone", {"time_zone": "Europe/Paris"}).status_code == 302
    user = make_user()
    auth.login(user)
    response = client.post("/account/time-zone", data={"time_zone": "Europe/Paris"})
    assert response.status_code == 400 and zone_of(user) == "UTC"


def register(client, url="/register", **fields):
    data = {"name": "Tia Zone", "username": "tia", "email": "tia@example.com",
            "password": "long enough password", "confirm": "long enough password"}
    data.update(fields)
    return client.post_form(url, data)


def test_registration_keeps_the_browsers_zone(client):
    assert register(client, time_zone="America/Sao_Paulo").status_code == 302
    assert find_user_by_email("tia@example.com").time_zone == "America/Sao_Paulo"


def test_registration_without_javascript_or_with_a_bogus_zone_gives_utc(client):
    assert register(client).status_code == 302  # the hidden field left empty: no JavaScript
    assert find_user_by_email("tia@example.com").time_zone == "UTC"
    client.post_form("/logout")
    assert register(client, username="tib", email="tib@example.com",
                     time_zone="Nowhere/Special").status_code == 302
    assert find_user_by_email("tib@example.com").time_zone == "UTC"


def test_the_register_form_carries_the_hidden_field_for_the_script(client):
    html = client.get("/register").get_data(as_text=True)
    assert '<input id="time_zone" name="time_zone" type="hidden" value="">' in html


def test_registering_from_an_invitation_keeps_the_zone_too(client, team, make_invitation):
    _, token = make_invitation(team.org, team.owner, "tia@example.com")
    assert register(client, f"/i/{token}/register", time_zone="Australia/Perth").status_code == 302
    assert find_user_by_email("tia@example.com").time_zone == "Australia/Perth"


def test_migration_0009_adds_the_column_with_utc_and_takes_it_away(app, tmp_path):
    """On a database of its own: upgrade to 0008, add an account, then 0009 gives it UTC;
    downgrading removes the column and keeps the account."""
    from tests.conftest import _make_app

    other = _make_app(f"sqlite:///{tmp_path / 'migrate.sqlite3'}")
    with other.app_context():
        flask_migrate.upgrade(revision="0008")
        db.session.execute(text(
            "INSERT INTO users (name, username, email, password_hash, created_at) "
            "VALUES ('Old Timer', 'old', 'old@example.com', 'x', '2026-01-01 00:00:00')"))
        db.session.commit()
        flask_migrate.upgrade(revision="0009")
        assert db.session.scalar(text("SELECT time_zone FROM users")) == "UTC"
        flask_migrate.downgrade(revision="0008")
        columns = {c["name"] for c in inspect(db.engine).get_columns("users")}
        assert "time_zone" not in columns and "email" in columns
        assert db.session.scalar(text("SELECT email FROM users")) == "old@example.com"
        flask_migrate.upgrade()  # and back to the head, past whatever follows 0009
        assert db.session.scalar(text("SELECT time_zone FROM users")) == "UTC"
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC", "America/Argentina/Buenos_Aires", "Nowhere/Zone", None])
def test_the_zone_select_written_once_is_wtforms_own_markup(app, zone):
    """The Account page's select writes its ~500 options once (invites/forms.FixedSelect)
    and marks the chosen one: the markup is what WTForms writes each time."""
    from wtforms.widgets import Select

    from invites.accounts.forms import TimeZoneForm

    with app.test_request_context("/account"):
        field = TimeZoneForm(formdata=None, time_zone=zone).time_zone
        assert field(**{"aria-describedby": "help"}) == Select()(field, **{"aria-describedby": "help"})
        assert field().count(" selected ") == (zone in ("Europe/Paris", "UTC", "America/Argentina/Buenos_Aires"))
