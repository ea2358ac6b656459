"""Name and username (Account page): each account changes its own; another account's
username is refused; the Members panels and their search follow at once. An account
reclaimed through "Forgot your password?" sheds the name someone else gave it here."""
import pytest

from invites.accounts import service
from invites.accounts.models import User
from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db


def reread(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_account_page_offers_the_current_name_and_username(client, auth, make_user):
    user = make_user(name="Ann Example")
    auth.login(user)
    html = client.get("/account").get_data(as_text=True)
    assert "Name and username" in html
    assert 'value="Ann Example"' in html and f'value="{user.username}"' in html


def test_a_new_name_and_username_show_everywhere_and_the_search_finds_them(client, auth, team):
    auth.login(team.member)
    response = client.post_form("/account/profile", {"name": "  Mia Renamed ", "username": "Mia.R"})
    assert response.status_code == 302 and response.location == "/account"
    assert "Saved: you are Mia Renamed (@mia.r)." in client.get("/account").get_data(as_text=True)
    member = reread(team.member)
    assert (member.name, member.username) == ("Mia Renamed", "mia.r")

    auth.logout()
    auth.login(team.owner)
    found = client.get(f"/o/{team.org.slug}/manage/members?q=mia.r").get_data(as_text=True)
    assert "Mia Renamed" in found and "Mia Member" not in found
    assert "Mia Renamed" not in client.get(f"/o/{team.org.slug}/manage/members?q=member").get_data(as_text=True)


def test_another_accounts_username_is_refused_and_nothing_changes(client, auth, make_user):
    taken, user = make_user(), make_user(name="Ann Example")
    auth.login(user)
    response = client.post_form("/account/profile", {"name": "Someone Else", "username": taken.username.upper()})
    assert response.status_code == 422 and "This username is taken." in response.get_data(as_text=True)
    again = reread(user)
    assert (again.name, again.username) == ("Ann Example", user.username)


@pytest.mark.parametrize("data, message", [
    ({"name": "", "username": "fine"}, "This field is required."),
    ({"name": "Ann", "username": "no spaces"}, "Use letters, digits, dots, dashes and underscores."),
    ({"name": "Ann", "username": "a"}, "Field must be between 2 and 40 characters long."),
    ({"name": "x" * 121, "username": "fine"}, "Field cannot be longer than 120 characters."),
])
def test_a_bad_name_or_username_is_a_form_error_and_nothing_changes(client, auth, make_user, data, message):
    user = make_user(name="Ann Example")
    auth.login(user)
    response = client.post_form("/account/profile", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    again = reread(user)
    assert (again.name, again.username) == ("Ann Example", user.username)


def test_keeping_ones_own_username_is_not_taken_and_saying_nothing_new_flashes_nothing(client, auth, make_user):
    user = make_user(name="Ann Example")
    auth.login(user)
    response = client.post_form("/account/profile", {"name": "Ann Example", "username": user.username.upper()})
    assert response.status_code == 302
    assert "Saved:" not in client.get("/account").get_data(as_text=True)


def test_the_service_refuses_a_blank_name_which_the_form_would_not_send(make_user):
    user = make_user(name="Ann Example")
    with pytest.raises(DomainError, match="Enter your name."):
        service.change_profile(user, "   ", user.username)
    assert service.change_profile(user, "Ann Other", user.username) is True
    assert service.change_profile(user, "Ann Other", user.username) is False


def test_logged_out_visitors_are_sent_to_log_in(client):
    response = client.post_form("/account/profile", {"name": "X", "username": "xx"})
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_change_is_in_the_activity_of_each_organization_with_the_old_name(client, auth, team, make_org):
    other = make_org(owner=team.manager, name="Other")
    username = team.manager.username
    auth.login(team.manager)
    client.post_form("/account/profile", {"name": "Olivia Owner", "username": username})
    lines = db.session.execute(
        db.select(Activity.org_id, Activity.actor_id, Activity.summary).where(Activity.verb == "account.renamed")
    ).all()
    assert sorted(lines) == sorted([
        (org.id, team.manager.id, "changed their name from “Max Manager” to “Olivia Owner”")
        for org in (team.org, other)
    ])
    client.post_form("/account/profile", {"name": "Olivia Owner", "username": "not-olivia"})
    summaries = db.session.scalars(db.select(Activity.summary).where(Activity.verb == "account.renamed")).all()
    assert summaries.count(f"changed their username from @{username} to @not-olivia") == 2


def test_a_username_taken_at_the_same_moment_is_refused_on_the_form_not_a_500(client, auth, make_user, monkeypatch):
    """Two accounts asking for one username at once: the second passes the check before
    the first is saved; the database's unique index refuses it, and the form says so."""
    taken, user = make_user(), make_user(name="Ann Example")
    auth.login(user)
    monkeypatch.setattr(service, "_require_free_username", lambda *args, **kwargs: None)
    response = client.post_form("/account/profile", {"name": "Ann Example", "username": taken.username})
    assert response.status_code == 422 and "This username is taken." in response.get_data(as_text=True)
    assert reread(user).username == user.username


def test_registering_a_username_taken_at_the_same_moment_is_a_form_error(client, make_user, monkeypatch):
    taken = make_user()
    monkeypatch.setattr(service, "_require_free_username", lambda *args, **kwargs: None)
    response = client.post_form("/register", {"name": "Ann", "username": taken.username, "email": "ann@example.com",
                                              "password": "a good password", "confirm": "a good password"})
    assert response.status_code == 200 and "This username is taken." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).filter_by(email="ann@example.com")) is None


@pytest.mark.parametrize("typed, kept", [
    ("Mia\r\nRenamed", "Mia Renamed"),
    ("  Mia \t Renamed\u2028", "Mia Renamed"),
    ("Olivia\u200bOwner", "OliviaOwner"),
    ("evil\u202egnp.exe", "evilgnp.exe"),
    ("Zoë \u200dJoiner", "Zoë \u200dJoiner"),  # joiners stay: scripts and emoji need them
])
def test_names_are_kept_on_one_line_without_invisible_characters(client, auth, make_user, typed, kept):
    user = make_user()
    auth.login(user)
    assert client.post_form("/account/profile", {"name": typed, "username": f" {user.username} "}).status_code == 302
    assert reread(user).name == kept
    assert service.clean_name(typed) == kept


def test_a_name_of_120_characters_with_spaces_around_is_kept(client, auth, make_user):
    user = make_user()
    auth.login(user)
    assert client.post_form("/account/profile", {"name": " " + "x" * 120 + " ", "username": user.username}).status_code == 302
    assert reread(user).name == "x" * 120


def test_the_limit_counts_each_account_apart(app, database_url, make_user):
    """Ten changes a minute per account, wherever they come from: two accounts behind one
    address (an office) each have their own."""
    from invites.extensions import limiter
    from tests.conftest import PASSWORD, _make_app

    first, second = make_user(), make_user()
    limited = _make_app(database_url, RATELIMIT_ENABLED=True)
    with limited.app_context():
        limiter.reset()
        try:
            codes = {}
            for user in (first, second):
                browser = limited.test_client()
                browser.post_form("/login", {"email": user.email, "password": PASSWORD})
                codes[user.id] = [browser.post_form("/account/profile", {"name": f"Name {n}", "username": user.username}).status_code
                                  for n in range(11)]
            assert codes[first.id] == codes[second.id] == [302] * 10 + [429]
        finally:
            limiter.reset()
            db.session.remove()
