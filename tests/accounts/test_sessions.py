"""Login sessions (invites/accounts/sessions.py): the user_loader's parsing and its one
query, the rows that logging in and out make and delete, and their lifetime."""
from datetime import timedelta

import pytest

from invites import clock
from invites.accounts import sessions
from invites.accounts.models import UserSession
from invites.extensions import db
from invites.tokens import hash_token


def rows_of(user):
    db.session.expire_all()
    return db.session.scalars(db.select(UserSession).filter_by(user_id=user.id)).all()


def test_a_login_stores_only_the_hash_of_its_key_and_logout_deletes_it(client, auth, make_user):
    user = make_user()
    auth.login(user)
    [row] = rows_of(user)
    with client.session_transaction() as session:
        user_id, key = session["_user_id"].split(":", 1)
    assert int(user_id) == user.id and len(key) >= 43 and row.key_hash == hash_token(key)
    auth.logout()
    assert rows_of(user) == []


def test_the_loader_finds_the_user_of_a_live_session_in_one_query(app, make_user, count_queries):
    user = make_user()
    key = sessions.start_session(user)
    db.session.commit()
    value = f"{user.id}:{key}"
    with count_queries() as statements:
        found = sessions.user_for(value)
    assert found is not None and found.id == user.id and found.session_key == key
    assert len(statements) == 1
    assert found.get_id() == f"{user.id}:{key}"


@pytest.mark.parametrize("value", [
    "", ":", "1", "1:", ":key", "abc:key", "²:key", "-1:key", "99999999999:key",
    "1:" + "k" * 500, "1:not-the-key",
])
def test_the_loader_refuses_anything_else_without_an_error(app, make_user, value):
    user = make_user()
    sessions.start_session(user)
    db.session.commit()
    assert sessions.user_for(value.replace("1", str(user.id), 1)) is None


def test_another_accounts_key_opens_nothing(app, make_user):
    mine, theirs = make_user(), make_user()
    key = sessions.start_session(theirs)
    db.session.commit()
    assert sessions.user_for(f"{mine.id}:{key}") is None


def test_a_session_ends_after_the_remember_me_lifetime_and_old_rows_are_dropped(app, make_user):
    user = make_user()
    start = clock.now()
    clock.freeze(start)
    old_key = sessions.start_session(user)
    db.session.commit()
    clock.freeze(start + sessions.DEFAULT_LIFETIME - timedelta(seconds=1))
    assert sessions.user_for(f"{user.id}:{old_key}") is not None
    clock.freeze(start + sessions.DEFAULT_LIFETIME)
    assert sessions.user_for(f"{user.id}:{old_key}") is None
    sessions.start_session(user)  # the next login clears the dead row away
    db.session.commit()
    assert len(rows_of(user)) == 1


def test_users_compare_by_account_whatever_session_they_came_with(app, make_user):
    user = make_user()
    first = sessions.user_for(f"{user.id}:{sessions.start_session(user)}")
    db.session.expunge(first)
    second = sessions.user_for(f"{user.id}:{sessions.start_session(user)}")
    assert first is not second and first == second and first != make_user()
