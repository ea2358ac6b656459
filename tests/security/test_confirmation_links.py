"""Email confirmation links work once and expire after 48 hours (security review F7's
"the email-verification token is not single-use (valid 7 days)"). Time comes from the
frozen clock, as everywhere in the tests."""
from datetime import timedelta

import pytest

from invites import clock
from invites.accounts.models import User
from invites.accounts.service import verification_token
from invites.extensions import db


@pytest.fixture
def unconfirmed(make_user):
    return make_user(name="Una Unconfirmed", email="una@example.com", verified=False)


def confirm(client, token):
    return client.post_form(f"/verify/{token}")


def is_verified(user):
    db.session.expire_all()
    return db.session.get(User, user.id).is_verified


def test_a_confirmation_link_works_once(client, unconfirmed):
    token = verification_token(unconfirmed)
    assert confirm(client, token).status_code == 302
    assert is_verified(unconfirmed)
    again = confirm(client, token)
    assert again.status_code == 400
    assert "This confirmation link was already used" in again.get_data(as_text=True)


def test_a_link_sent_later_works_and_then_the_earlier_one_is_used_up(client, unconfirmed):
    start = clock.now()
    clock.freeze(start)
    first = verification_token(unconfirmed)
    clock.freeze(start + timedelta(hours=3))  # "Send the link again"
    second = verification_token(unconfirmed)
    assert second != first
    assert confirm(client, second).status_code == 302
    assert is_verified(unconfirmed)
    refused = confirm(client, first)
    assert refused.status_code == 400
    assert "already used" in refused.get_data(as_text=True)


def test_a_confirmation_link_expires_after_48_hours(client, make_user):
    start = clock.now()
    clock.freeze(start)
    late = make_user(name="Leo Late", email="leo@example.com", verified=False)
    on_time = make_user(name="Tia Timely", email="tia@example.com", verified=False)
    late_token, on_time_token = verification_token(late), verification_token(on_time)

    clock.freeze(start + timedelta(hours=48) - timedelta(seconds=1))
    assert confirm(client, on_time_token).status_code == 302
    assert is_verified(on_time)

    clock.freeze(start + timedelta(hours=48, seconds=1))
    expired = confirm(client, late_token)
    assert expired.status_code == 400
    assert "This confirmation link has expired" in expired.get_data(as_text=True)
    assert not is_verified(late)
