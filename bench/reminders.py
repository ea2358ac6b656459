"""``flask send-reminders`` over 10,000 due invitations (issue 18): messages per second,
against plain ``smtplib.send_message`` of the same messages over one connection to the same
SMTP server, and SQL queries per reminder, at the start of the run and over all of it.
"""
import time
import uuid
from datetime import timedelta

from sqlalchemy import insert

from invites.clock import now
from invites.extensions import db
from tests.support import counting_queries

DUE = 10_000


def measure_reminders(url, world, make_app, smtp_server_process, due=DUE):
    """(reminders sent, seconds, smtplib seconds, queries per reminder for the first 100,
    queries per reminder over the run)."""
    from flask_mail import email_dispatched

    from invites.invitations.models import Invitation
    from bench.run import plain_send_message
    from invites.invitations.reminders import send_due_reminders

    with smtp_server_process() as port:
        app = make_app(url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=30)
        at = now()
        with app.app_context():
            db.session.execute(insert(Invitation), [
                {"org_id": world.org_id, "email": f"remind{i}@bench.test", "role": "member", "status": "pending",
                 "token_hash": uuid.uuid4().hex * 2, "inviter_id": world.owner_id, "message": "",
                 "expires_at": at + timedelta(days=2), "sent_at": at - timedelta(days=12), "created_at": at,
                 "updated_at": at, "remind_at": at - timedelta(minutes=1)} for i in range(due)
            ])
            db.session.commit()
        dispatched = []

        def keep(sender, message, **extra):
            dispatched.append(message)

        email_dispatched.connect(keep, app)
        try:
            with app.app_context():
                with counting_queries(db.engine) as first:
                    send_due_reminders(limit=100)
                with counting_queries(db.engine) as rest:
                    started = time.perf_counter()
                    run = send_due_reminders()
                    seconds = time.perf_counter() - started
        finally:
            email_dispatched.disconnect(keep, app)
        sent = 100 + run.sent
        assert sent == due and len(dispatched) == due, (sent, len(dispatched))
        plain = plain_send_message(port, [(m.sender, m.recipients, m.as_bytes()) for m in dispatched[100:]])
    return run.sent, seconds, plain, len(first) / 100, len(rest) / run.sent
