"""The Webhooks panel (issue 21): owners only; adding shows the signing secret once (not
cached, kept only encrypted); a bad address is a form error; "Send test event" reaches the
receiver; the delivery log; disable, enable, events, redeliver, delete; the activity log."""
import html
import json
import re

import pytest

from invites.activity.models import Activity
from invites.extensions import db
from invites.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

SECRET = re.compile(r'value="(whsec_[A-Za-z0-9+/=]+)"')


def panel(team):
    return f"/o/{team.org.slug}/manage/webhooks"


def endpoints():
    db.session.expire_all()
    return db.session.scalars(db.select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()


def verbs(team):
    return db.session.scalars(
        db.select(Activity.verb).filter_by(org_id=team.org.id).where(Activity.verb.like("webhook.%"))
        .order_by(Activity.id)).all()


def add(client, team, url, **fields):
    return client.post_form(panel(team), {"url": url, **fields})


@pytest.fixture
def added(client, auth, team, receiver):
    """The owner, logged in, added an endpoint for the receiver: (endpoint, secret)."""
    auth.login(team.owner)
    response = add(client, team, receiver.url, description="CRM sync")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    [endpoint] = endpoints()
    return endpoint, SECRET.search(response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("who, status", [("manager", 403), ("member", 403), ("collaborator", 403),
                                         ("outsider", 404)])
def test_only_owners_manage_webhooks(app, client, auth, team, receiver, make_endpoint, who, status):
    endpoint, _ = make_endpoint(team.org, team.owner, receiver.url)
    auth.login(getattr(team, who))
    base = f"{panel(team)}/{endpoint.id}"
    assert client.get(panel(team)).status_code == status
    assert client.get(base).status_code == status
    for url in (panel(team), f"{base}/events", f"{base}/disable", f"{base}/test", f"{base}/delete"):
        assert client.post_form(url, {"url": receiver.url + "?evil", "confirmed": "yes"}).status_code == status, url
    assert receiver.requests == []
    [kept] = endpoints()
    assert kept.enabled and kept.url == receiver.url


def test_logged_out_is_sent_to_log_in(client, team):
    response = client.get(panel(team))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_adding_shows_the_secret_once_and_keeps_it_encrypted(app, client, team, receiver, added):
    endpoint, secret = added
    assert secret.startswith("whsec_") and len(secret) > 40
    assert endpoint.url == receiver.url and endpoint.description == "CRM sync" and endpoint.enabled
    assert endpoint.events == "" and endpoint.created_by_id == team.owner.id
    assert secret not in endpoint.secret_ciphertext and secret[6:] not in endpoint.secret_ciphertext
    assert "whsec_" not in endpoint.secret_ciphertext

    # Shown on the answer to the POST only, which is not to be cached.
    response = add(client, team, receiver.url + "?second")
    assert response.headers["Cache-Control"] == "no-store"
    second_secret = SECRET.search(response.get_data(as_text=True)).group(1)
    assert second_secret != secret
    page = client.get(panel(team))
    text = page.get_data(as_text=True)
    assert "whsec_" not in text and "no-store" not in page.headers.get("Cache-Control", "")
    assert receiver.url in text and "CRM sync" in text and "All events" in text

    # The secret shown is the one that signs.
    client.post_form(f"{panel(team)}/{endpoint.id}/test")
    [received] = receiver.delivered
    assert received.verify(secret)["type"] == "webhook.test"


def test_the_chosen_events_are_kept(client, team, receiver, auth):
    auth.login(team.owner)
    add(client, team, receiver.url, events=["member.joined", "invitation.created"])
    [endpoint] = endpoints()
    assert endpoint.event_types == ["invitation.created", "member.joined"]
    assert "invitation.created, member.joined" in client.get(panel(team)).get_data(as_text=True)


@pytest.mark.parametrize("url, says", [
    ("https://user:secret@example.com/hooks", "no user name or password"),
    ("ftp://example.com/hooks", "Use an https:// address."),
    ("", "This field is required."),
])
def test_a_bad_address_is_a_form_error_and_creates_nothing(client, auth, team, url, says):
    auth.login(team.owner)
    response = add(client, team, url)
    assert response.status_code == 422
    assert says in html.unescape(response.get_data(as_text=True))
    assert "whsec_" not in response.get_data(as_text=True)
    assert endpoints() == [] and verbs(team) == []


def test_a_private_address_is_a_form_error_in_production(app, client, auth, team):
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    auth.login(team.owner)
    response = add(client, team, "https://169.254.169.254/latest/meta-data")
    assert response.status_code == 422
    assert "an address inside a private network" in response.get_data(as_text=True)
    assert "Use an https:// address." in add(client, team, "http://127.0.0.1:8000/").get_data(as_text=True)
    assert endpoints() == []


def test_an_unknown_event_is_refused(client, auth, team, receiver):
    auth.login(team.owner)
    assert add(client, team, receiver.url, events=["invitation.exploded"]).status_code == 422
    assert endpoints() == []


def test_send_test_event_reaches_the_receiver_and_the_log_shows_it(client, team, receiver, added):
    endpoint, secret = added
    base = f"{panel(team)}/{endpoint.id}"
    response = client.post_form(f"{base}/test", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert re.search(r"Test event delivered: the receiver answered 200 in \d+ ms\.", text), text[:3000]
    [received] = receiver.delivered
    body = received.verify(secret)
    assert body["type"] == "webhook.test" and body["data"] == {"message": "A test event from Invites."}
    assert body["organization"]["slug"] == team.org.slug
    [event] = db.session.scalars(db.select(WebhookEvent)).all()
    assert received.id == event.id

    # The log: the event, its state, each attempt's status and duration, the payload.
    [delivery] = db.session.scalars(db.select(WebhookDelivery)).all()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1
    [tried] = db.session.scalars(db.select(WebhookAttempt)).all()
    page = client.get(base).get_data(as_text=True)
    log = page[page.index('id="webhook-log"'):]
    assert "webhook.test" in log and event.id in log and "Delivered" in log
    assert f"HTTP 200, {tried.duration_ms} ms" in log
    assert json.loads(html.unescape(re.search(r'<pre class="payload">(.*?)</pre>', log, re.S).group(1))) == body

    # Down: the flash says why, and the log keeps the failed attempt.
    receiver.down()
    text = client.post_form(f"{base}/test", follow_redirects=True).get_data(as_text=True)
    assert "The test event was not delivered (HTTP 503 Service Unavailable)" in text
    log = text[text.index('id="webhook-log"'):]
    assert re.search(r"HTTP 503, \d+ ms · HTTP 503 Service Unavailable", log)
    assert "Pending" in log and "next try" in log
    assert [r.status for r in receiver.requests] == [200, 503]


def test_disable_enable_events_redeliver_delete_and_the_activity_log(app, client, team, receiver, added, worker):
    endpoint, _ = added
    base = f"{panel(team)}/{endpoint.id}"

    text = client.post_form(f"{base}/disable", follow_redirects=True).get_data(as_text=True)
    assert "Disabled: no events are sent until it is enabled again." in text
    assert "Disabled by Olivia Owner." in text
    [found] = endpoints()
    assert not found.enabled
    assert "Disabled" in client.get(panel(team)).get_data(as_text=True)

    text = client.post_form(f"{base}/enable", follow_redirects=True).get_data(as_text=True)
    assert "Enabled: events are sent again" in text
    [found] = endpoints()
    assert found.enabled and found.disabled_reason is None

    response = client.post_form(f"{base}/events", {"events": ["invite_link.created", "invite_link.revoked"]})
    assert response.status_code == 302
    assert endpoints()[0].event_types == ["invite_link.created", "invite_link.revoked"]

    client.post_form(f"{base}/test")
    [delivery] = db.session.scalars(db.select(WebhookDelivery)).all()
    text = client.post_form(f"{base}/deliveries/{delivery.id}/redeliver", follow_redirects=True).get_data(as_text=True)
    assert f"The event {delivery.event_id} is due again" in text
    assert worker().delivered == 1
    assert receiver.delivered_ids() == [delivery.event_id] * 2

    # Delete asks first (without JavaScript), then deletes the endpoint with its log.
    asking = client.post_form(f"{base}/delete")
    assert asking.status_code == 200 and "Delete endpoint" in asking.get_data(as_text=True)
    assert len(endpoints()) == 1
    response = client.post_form(f"{base}/delete", {"confirmed": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith(panel(team))
    assert endpoints() == []
    assert db.session.scalar(db.select(db.func.count(WebhookDelivery.id))) == 0
    assert db.session.scalar(db.select(db.func.count(WebhookAttempt.id))) == 0
    assert client.get(base).status_code == 404

    assert verbs(team) == ["webhook.created", "webhook.disabled", "webhook.enabled", "webhook.changed",
                           "webhook.redelivered", "webhook.deleted"]
    activity = client.get(f"/o/{team.org.slug}/manage/activity").get_data(as_text=True)
    assert f"added the webhook endpoint {receiver.url}" in activity
    assert f"deleted the webhook endpoint {receiver.url}" in activity


def test_another_organizations_endpoint_is_not_found(client, auth, team, make_org, receiver, make_endpoint):
    other = make_org(owner=team.outsider, name="Other")
    theirs, _ = make_endpoint(other, team.outsider, receiver.url)
    auth.login(team.owner)
    base = f"{panel(team)}/{theirs.id}"
    assert client.get(base).status_code == 404
    assert client.post_form(f"{base}/test").status_code == 404
    assert client.post_form(f"{base}/delete", {"confirmed": "yes"}).status_code == 404
    assert receiver.requests == [] and len(endpoints()) == 1


def test_the_panel_is_listed_for_owners_only(client, auth, team):
    auth.login(team.owner)
    assert panel(team) in client.get(f"/o/{team.org.slug}/manage/webhooks").get_data(as_text=True)
    auth.logout()
    auth.login(team.manager)
    assert f'href="{panel(team)}"' not in client.get(f"/o/{team.org.slug}/manage/members").get_data(as_text=True)
