"""Webhooks never reach inside the network Invites runs in (SSRF): with
WEBHOOK_ALLOW_PRIVATE_URLS off (production), an endpoint must be https and resolve to
public addresses only, and every delivery checks the address again before connecting.
Literal addresses and localhost only: no external DNS."""
import pytest
from sqlalchemy import update

from invites.errors import DomainError
from invites.extensions import db
from invites.invitations import sending
from invites.orgs.models import Role
from invites.webhooks import service
from invites.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint

PUBLIC = "93.184.216.34"  # a public address (example.com's, once): accepted without resolving anything


@pytest.fixture
def production(app):
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    app.debug = False
    return app


def add(app, team, url):
    with app.test_request_context():
        try:
            endpoint, _ = service.add_endpoint(team.org, team.owner, url, [])
            db.session.commit()
            return endpoint
        finally:
            db.session.rollback()


def count():
    return db.session.scalar(db.select(db.func.count(WebhookEndpoint.id)))


def refusal(app, team, url):
    before = count()
    with pytest.raises(DomainError) as refused:
        add(app, team, url)
    assert refused.value.field == "url"
    assert count() == before  # nothing made
    return refused.value.message


def test_plain_http_is_refused_outside_debug(production, team):
    assert refusal(production, team, f"http://{PUBLIC}/hooks") == "Use an https:// address."
    assert refusal(production, team, "ftp://example.com/hooks") == "Use an https:// address."


def test_a_public_https_address_is_accepted(production, team):
    endpoint = add(production, team, f"  https://{PUBLIC}:8443/hooks?x=1  ")
    assert endpoint.url == f"https://{PUBLIC}:8443/hooks?x=1"


@pytest.mark.parametrize("host, address", [
    ("127.0.0.1", "127.0.0.1"),
    ("127.1", "127.0.0.1"),             # short forms resolve too
    ("2130706433", "127.0.0.1"),        # and decimal ones
    ("10.1.2.3", "10.1.2.3"),
    ("172.16.5.4", "172.16.5.4"),
    ("192.168.1.10", "192.168.1.10"),
    ("100.64.0.1", "100.64.0.1"),       # shared address space (carrier NAT)
    ("169.254.169.254", "169.254.169.254"),  # the cloud metadata service
    ("[::1]", "::1"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
    ("[fd00::1]", "fd00::1"),
    ("0.0.0.0", "0.0.0.0"),
    ("localhost", None),
], ids=lambda value: str(value))
def test_an_https_address_that_leads_inside_is_refused(production, team, host, address):
    message = refusal(production, team, f"https://{host}/hooks")
    assert "an address inside a private network" in message and "public addresses only" in message, message
    if address is not None:
        assert f"leads to {address}," in message


def test_debug_allows_plain_http_but_never_a_private_address(production, team):
    production.debug = True
    assert add(production, team, f"http://{PUBLIC}/hooks").url == f"http://{PUBLIC}/hooks"
    assert "private network" in refusal(production, team, "http://127.0.0.1:5000/hooks")
    assert "private network" in refusal(production, team, "http://localhost:5000/hooks")


@pytest.mark.parametrize("url, says", [
    ("", "Enter the receiver's address"),
    ("https://user:pass@" + PUBLIC + "/hooks", "no user name or password"),
    ("https:///hooks", "with a host name"),
    ("https://" + PUBLIC + ":http/hooks", "port"),
    ("https://no-such-host.invalid/hooks", "does not resolve"),
    ("https://" + PUBLIC + "/" + "x" * 2000, "at most 2000 characters"),
])
def test_malformed_addresses_are_refused(production, team, url, says):
    assert says in refusal(production, team, url)


@pytest.mark.parametrize("stored", ["{receiver}", "http://localhost:{port}/hooks/invites"], ids=["ip", "localhost"])
def test_an_endpoint_stored_earlier_that_now_leads_inside_is_not_contacted(
    app, team, receiver, make_endpoint, worker, stored,
):
    endpoint, _ = make_endpoint(team.org, team.owner, "https://" + PUBLIC + "/hooks")
    port = receiver.url.split(":")[2].split("/")[0]
    url = stored.format(receiver=receiver.url, port=port)
    db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).values(url=url))
    db.session.commit()
    with app.test_request_context():
        sending.send_invitations(team.org, team.owner, "ssrf@example.com", Role.MEMBER, [], commit=db.session.commit)
        db.session.commit()
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    run = worker()
    assert (run.delivered, run.failed) == (0, 1)
    assert receiver.requests == []
    [tried] = db.session.scalars(db.select(WebhookAttempt)).all()
    assert tried.status_code is None
    assert tried.error.startswith("Not sent: ") and "an address inside a private network" in tried.error, tried.error
    assert db.session.scalars(db.select(WebhookDelivery)).one().state == DeliveryState.PENDING

    # "Send test event" is refused the same way.
    with app.test_request_context():
        answer = service.send_test(team.org, db.session.get(WebhookEndpoint, endpoint.id))
    assert not answer.ok and answer.error.startswith("Not sent: ")
    assert receiver.requests == []

    # Allowed again (development), the same endpoint is reached: the refusal was the address rule.
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = True
    with app.test_request_context():
        assert service.send_test(team.org, db.session.get(WebhookEndpoint, endpoint.id)).ok
    assert len(receiver.delivered) == 1
