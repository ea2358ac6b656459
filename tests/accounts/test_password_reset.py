"""Forgot your password?: a link mailed to the account's address (through a real SMTP
server) sets a new one, once, within an hour, and ends every session. The page says the
same whether or not an account uses the address. The link also proves the address: an
account someone opened with another person's address, never confirmed, becomes theirs
(the audit's lock-out: without it the real owner could neither register nor log in)."""
import re
import threading
import urllib.parse
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from invites import clock
from invites.accounts.models import User
from invites.extensions import db
from invites.notifications.models import Notification
from tests.conftest import PASSWORD
from tests.support import finish_after_response_work, serve_in_thread

NEW = "a brand new password"
SAID = "we emailed it a link to choose a new password. It works for 60 minutes."


def ask(client, email):
    response = client.post_form("/password/forgot", {"email": email})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    response.close()  # as a server does once it has sent the answer: then the mail goes
    finish_after_response_work()
    return client.get("/login").get_data(as_text=True)


def mailed_link(smtp, email):
    [message] = [m for m in smtp.to(email) if m["Subject"] == "Choose a new password"]
    [link] = [link for link in smtp.links(message) if "/password/reset/" in link]
    assert "It works once, for 60 minutes." in smtp.text(message)
    return urlsplit(link).path


def test_a_mailed_link_sets_a_new_password_once_and_ends_every_session(app, client, smtp, make_user, auth):
    user = make_user(email="ann@example.com")
    other_device = app.test_client()
    other_device.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert other_device.get("/account").status_code == 200
    assert "Forgot your password?" in client.get("/login").get_data(as_text=True)

    assert f"If an account uses ANN@example.com, {SAID}" in ask(client, "ANN@example.com")
    link = mailed_link(smtp, "ann@example.com")
    page = client.get(link)  # opening it (a mail scanner does) changes nothing
    assert page.status_code == 200 and "For the account of ann@example.com" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).check_password(PASSWORD)

    mismatch = client.post_form(link, {"password": NEW, "confirm": "something else"})
    assert mismatch.status_code == 200 and "The passwords do not match." in mismatch.get_data(as_text=True)
    response = client.post_form(link, {"password": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your password is changed" in client.get("/login").get_data(as_text=True)
    assert other_device.get("/account").status_code == 302  # logged out everywhere
    assert client.post_form("/login", {"email": user.email, "password": PASSWORD}).status_code == 200
    assert auth.login(user, password=NEW).status_code == 302

    auth.logout()
    again = client.post_form(link, {"password": "a third password", "confirm": "a third password"})
    assert again.status_code == 400 and "not valid any more" in again.get_data(as_text=True)
    assert client.get(link).status_code == 400


@pytest.mark.parametrize("email", ["nobody@example.com", "not an address"])
def test_the_answer_is_the_same_whether_or_not_an_account_uses_the_address(client, smtp, make_user, email):
    make_user(email="ann@example.com")
    assert f"If an account uses {email}, {SAID}" in ask(client, email)
    assert smtp.messages == []


def test_the_mail_goes_only_once_the_answer_is_out_and_only_once(client, smtp, make_user):
    make_user(email="ann@example.com")
    response = client.post_form("/password/forgot", {"email": "ann@example.com"})
    assert response.status_code == 302 and smtp.messages == []  # answered, nothing sent yet
    response.close()
    response.close()  # a second close (some middleware) starts nothing more
    finish_after_response_work()
    assert len(smtp.to("ann@example.com")) == 1 and len(smtp.messages) == 1


def test_a_one_at_a_time_server_is_free_for_the_next_page_while_the_mail_goes(app, smtp, make_user):
    """As a gunicorn sync worker serves: one request at a time, the next one only once the
    response is closed. The SMTP server holds the message until the test has the page the
    answer redirects to (/login, the next request): were the mail sent while answering or
    while closing, that page would never come, and an account's address would show in how
    long the connection and the next page take."""
    make_user(email="ann@example.com")
    base_url, stop = serve_in_thread(app, threaded=False)
    app.config["PUBLIC_URL"] = base_url
    answered = threading.Event()
    smtp.fail_with(lambda n, envelope: answered.wait(10) and None)
    try:
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        form = browser.open(f"{base_url}/password/forgot", timeout=5).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode({"email": "ann@example.com", "csrf_token": token}).encode()
        page = browser.open(f"{base_url}/password/forgot", data=body, timeout=5).read().decode()
        assert f"If an account uses ann@example.com, {SAID}" in page
        assert smtp.messages == []
    finally:
        answered.set()
        stop()
    assert len(smtp.arrived("ann@example.com")) == 1


def test_a_link_stops_working_after_an_hour_and_a_forged_one_never_works(client, smtp, make_user):
    make_user(email="ann@example.com")
    ask(client, "ann@example.com")
    link = mailed_link(smtp, "ann@example.com")
    clock.freeze(clock.now() + timedelta(minutes=61))
    response = client.post_form(link, {"password": NEW, "confirm": NEW})
    assert response.status_code == 400 and "This link has expired" in response.get_data(as_text=True)
    forged = client.get("/password/reset/" + link.rsplit("/", 1)[1][:-2] + "xx")
    assert forged.status_code == 400 and "This link is not valid." in forged.get_data(as_text=True)


def test_the_link_makes_an_unconfirmed_account_on_someone_elses_address_theirs(
    app, client, smtp, auth, team, make_invitation,
):
    squatter = app.test_client()
    squatter.post_form("/register", {"name": "Squatter", "username": "squat", "email": "victim@example.com",
                                     "password": PASSWORD, "confirm": PASSWORD})
    account = db.session.scalar(db.select(User).filter_by(email="victim@example.com"))
    assert not account.is_verified and squatter.get("/account").status_code == 200
    make_invitation(team.org, team.owner, "victim@example.com")

    ask(client, "victim@example.com")  # the real owner reads this address's mail
    link = mailed_link(smtp, "victim@example.com")
    assert client.post_form(link, {"password": NEW, "confirm": NEW}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, account.id).is_verified
    assert squatter.get("/account").status_code == 302  # the squatter is out
    assert squatter.post_form("/login", {"email": "victim@example.com", "password": PASSWORD}).status_code == 200
    # The invitation, out of sight while the address was unconfirmed, is announced now.
    assert db.session.scalar(db.select(db.func.count(Notification.id)).filter_by(user_id=account.id)) == 1
    assert auth.login(account, password=NEW).status_code == 302


def test_a_logged_in_account_changes_its_password_on_the_account_page(client, auth, make_user):
    auth.login(make_user())
    response = client.get("/password/forgot")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
