"""POST /api/v1/invitations with a real SMTP server (aiosmtpd): a batch of 500 is 500
messages, each to its own address with a link that works, and a mail server refusing some
recipients costs those their delivery (reported per address), never their invitation."""
from urllib.parse import urlsplit

from invites.extensions import db
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Plan
from tests.api.conftest import assert_error


def test_five_hundred_addresses_are_five_hundred_messages_each_with_a_working_link(api, client, team, smtp):
    team.org.plan = Plan.PREMIUM
    db.session.commit()
    addresses = [f"learner{i:03d}@example.com" for i in range(500)]

    response = api.post("/invitations", {"emails": addresses, "message": "Course starts Monday"})

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    results = response.get_json()["results"]
    assert [r["email"] for r in results] == addresses
    assert {r["outcome"] for r in results} == {"sent"}
    assert all(r["invitation"]["status"] == "pending" and r["invitation"]["sent_at"] for r in results)
    assert len({r["invitation"]["id"] for r in results}) == 500
    # Exactly one message per address, to that address, at the real server.
    assert len(smtp.messages) == 500
    assert sorted(m["To"] for m in smtp.messages) == addresses
    assert db.session.scalar(db.select(db.func.count(Invitation.id)).filter_by(
        org_id=team.org.id, status=Status.PENDING)) == 500
    # One of them follows its link: the invitation page opens for it.
    [message] = smtp.to("learner137@example.com")
    assert "Course starts Monday" in smtp.text(message)
    [link] = [url for url in smtp.links(message) if "/i/" in url]
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200, page.status_code
    text = page.get_data(as_text=True)
    assert "Acme Training" in text and "learner137@example.com" in text
    # A 501st address in one request is refused whole, before anything is saved or sent.
    assert_error(api.post("/invitations", {"emails": addresses + ["one-too-many@example.com"]}),
                 422, "invalid", "emails")
    assert len(smtp.messages) == 500


def test_refused_recipients_are_reported_per_address_and_nothing_is_lost(api, team, smtp):
    refusals = {"bounce1@example.com": "550 5.1.1 Mailbox unavailable",
                "busy@example.com": "451 4.3.0 Try again later",
                "bounce2@example.com": "554 5.7.1 Rejected by policy"}
    smtp.fail_with(lambda n, envelope: next((refusals[r] for r in envelope.rcpt_tos if r in refusals), None))
    addresses = ["ok1@example.com", "bounce1@example.com", "ok2@example.com", "busy@example.com",
                 "ok3@example.com", "bounce2@example.com", "ok4@example.com"]

    response = api.post("/invitations", {"emails": addresses})

    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    results = {r["email"]: r for r in response.get_json()["results"]}
    assert list(results) == addresses
    for address in addresses:
        result = results[address]
        if address in refusals:
            code = refusals[address].split()[0]
            assert result["outcome"] == "not_delivered", result
            assert code in result["detail"], result
            assert result["invitation"]["status"] == "not_delivered"
            assert code in result["invitation"]["delivery_error"]
            assert result["invitation"]["sent_at"] is None
        else:
            assert result["outcome"] == "sent", result
            assert result["invitation"]["delivery_error"] is None
    assert sorted(m["To"] for m in smtp.messages) == ["ok1@example.com", "ok2@example.com", "ok3@example.com", "ok4@example.com"]
    # Every invitation is saved, pending; the refused ones with the server's reason.
    db.session.expire_all()
    saved = {i.email: i for i in db.session.scalars(db.select(Invitation).filter_by(org_id=team.org.id))}
    assert set(saved) == set(addresses)
    assert all(i.status == Status.PENDING for i in saved.values())
    for address, reply in refusals.items():
        assert saved[address].delivery_error and reply.split()[0] in saved[address].delivery_error
    assert all(saved[a].delivery_error is None for a in addresses if a not in refusals)
    # The API lists them as not delivered, and Resend delivers each once the server takes them.
    listed = api.get("/invitations?status=not_delivered").get_json()["data"]
    assert sorted(row["email"] for row in listed) == sorted(refusals)
    smtp.fail_with(None)
    for row in listed:
        resent = api.post(f"/invitations/{row['id']}/resend")
        assert resent.status_code == 200 and resent.get_json()["outcome"] == "resent", resent.get_json()
        assert resent.get_json()["invitation"]["delivery_error"] is None
    assert sorted(m["To"] for m in smtp.messages) == sorted(addresses)
    assert api.get("/invitations?status=not_delivered").get_json()["data"] == []
