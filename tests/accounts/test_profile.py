"""Name and username (Account page): each account changes its own; another account's
username is refused; the Members panels and their search follow at once. An account
reclaimed through "Forgot your password?" sheds the name someone else gave it here."""
import pytest

from invites.accounts import service
from invites.accounts.models import User
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
