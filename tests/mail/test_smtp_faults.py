"""A misbehaving mail server: temporary and permanent refusals, a server that stalls past
the timeout, and one that drops the connection in the middle of a batch. No request hangs,
every invitation is saved with its true delivery state, and Resend recovers each."""
import socket
import threading
import time

import pytest

from invites.extensions import db, mail
from invites.invitations import sending
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Role


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield


def send(org, inviter, addresses):
    outcomes = sending.send_invitations(org, inviter, addresses, Role.MEMBER, [], commit=db.session.commit)
    db.session.commit()
    return {o.address: o for o in outcomes}


def resend_all(org, inviter):
    for invitation in db.session.scalars(db.select(Invitation).where(Invitation.delivery_error.is_not(None))).all():
        sending.resend_invitation(org, inviter, invitation, commit=db.session.commit)
        db.session.commit()


def test_temporary_and_permanent_refusals_are_kept_and_resend_recovers(ctx, team, smtp):
    replies = {2: "451 4.3.0 Try again later", 3: "554 5.7.1 Rejected by policy"}
    smtp.fail_with(lambda n, envelope: replies.get(n))
    outcomes = send(team.org, team.owner, "a@example.com, b@example.com, c@example.com, d@example.com")
    assert [o.kind for o in outcomes.values()] == ["sent", "not_delivered", "not_delivered", "sent"]
    assert "451" in outcomes["b@example.com"].invitation.delivery_error
    assert "554" in outcomes["c@example.com"].invitation.delivery_error
    assert smtp.connection_count == 1  # a refusal does not cost the connection
    smtp.fail_with(None)
    resend_all(team.org, team.owner)
    assert db.session.scalar(db.select(db.func.count(Invitation.id)).where(Invitation.delivery_error.is_not(None))) == 0
    assert sorted(m["To"] for m in smtp.messages) == ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]


def test_a_dropped_connection_mid_batch_reconnects_for_the_rest(ctx, team, smtp):
    smtp.fail_with(lambda n, envelope: "421 4.3.2 Service shutting down" if n == 3 else None)
    outcomes = send(team.org, team.owner, ", ".join(f"p{i}@example.com" for i in range(6)))
    kinds = [o.kind for o in outcomes.values()]
    assert kinds == ["sent", "sent", "not_delivered", "sent", "sent", "sent"]
    assert len(smtp.messages) == 5 and smtp.connection_count == 2
    smtp.fail_with(None)
    resend_all(team.org, team.owner)
    assert len(smtp.messages) == 6
    assert all(i.status == Status.PENDING and i.delivery_error is None for i in db.session.scalars(db.select(Invitation)))


@pytest.fixture
def stalling_server():
    """Accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_a_stalled_server_costs_the_timeout_not_a_hung_request(app, ctx, team, stalling_server, smtp):
    real_port = app.config["MAIL_PORT"]  # the smtp fixture's server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=stalling_server, MAIL_TIMEOUT=1)
    mail.init_app(app)
    started = time.monotonic()
    outcomes = send(team.org, team.owner, "slow1@example.com, slow2@example.com")
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed  # about one timeout per message, never a hang
    assert {o.kind for o in outcomes.values()} == {"not_delivered"}
    assert all("did not answer in time" in o.invitation.delivery_error for o in outcomes.values()), [o.invitation.delivery_error for o in outcomes.values()]
    # The server comes back (the real one): Resend delivers both.
    app.config.update(MAIL_PORT=real_port)
    mail.init_app(app)
    resend_all(team.org, team.owner)
    assert sorted(m["To"] for m in smtp.messages) == ["slow1@example.com", "slow2@example.com"]



def test_a_disconnect_in_the_middle_of_an_import(app, ctx, team, smtp):
    from invites.imports import service as imports
    from invites.imports.models import ImportRow

    team.org.plan = "premium"
    db.session.commit()
    smtp.fail_with(lambda n, envelope: "421 4.4.2 Connection dropped" if n == 5 else None)
    data = ("email\n" + "".join(f"row{i}@example.com\n" for i in range(20))).encode()
    imp = imports.preview_import(team.org, team.owner, "twenty.csv", data)
    db.session.commit()
    imports.run_import(team.org, team.owner, imp, commit=db.session.commit)
    db.session.commit()
    assert (imp.sent_count, imp.failed_count) == (19, 1)
    assert len(smtp.messages) == 19 and smtp.connection_count == 2
    [failed] = db.session.scalars(db.select(ImportRow).filter_by(outcome="not_delivered")).all()
    assert failed.email == "row4@example.com" and "421" in failed.outcome_detail
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 20  # nothing lost
    smtp.fail_with(None)
    resend_all(team.org, team.owner)
    assert len(smtp.to("row4@example.com")) == 1
