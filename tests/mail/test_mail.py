import pytest

from invites.extensions import db
from invites.mail.models import OutboxMessage
from invites.mail.service import MailDeliveryError, build_message, connection, send_mail


def test_mail_through_a_real_smtp_server_has_html_and_text_parts(app, smtp, make_user):
    user = make_user(name="Ann & <Lee>", email="ann@example.com")
    with app.test_request_context():
        send_mail(user.email, "Confirm your email address", "verify_email", user=user,
                  link="http://localhost/verify/abc")
    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Confirm your email address"
    assert message.is_multipart()
    text, html = smtp.text(message), smtp.html(message)
    assert "Hello Ann & <Lee>," in text  # plain text is not HTML-escaped
    assert "Ann &amp; &lt;Lee&gt;" in html and "<Lee>" not in html
    assert smtp.links(message) == ["http://localhost/verify/abc"]
    assert db.session.scalar(db.select(OutboxMessage)) is None


@pytest.mark.parametrize("repeat", [1, 4])  # one line, and a subject long enough to fold
def test_non_ascii_subjects_and_names_arrive_exactly(app, smtp, repeat):
    subject = " ".join(["Zoë Ångström invited you to join Ærø Træning ✓"] * repeat)
    from invites.extensions import mail

    app.config["MAIL_DEFAULT_SENDER"] = "Équipe Invites <invites@exämple.org>"
    mail.init_app(app)
    user = type("U", (), {"name": "Zoë", "email": "zoe@example.com"})
    with app.test_request_context(), connection() as send:
        send(build_message("Zoë Ångström <zoe@example.com>", subject, "verify_email",
                           user=user, link="http://localhost/x"))
    [message] = smtp.messages
    assert message["Subject"] == subject
    assert message["From"].addresses[0].display_name == "Équipe Invites"
    assert message["To"].addresses[0].display_name == "Zoë Ångström"
    assert message["From"].addresses[0].domain == "xn--exmple-cua.org"
    assert message["Message-ID"].endswith("@xn--exmple-cua.org>")  # the sender's domain, in IDNA
    assert "Hello Zoë," in smtp.text(message)


def test_many_messages_share_one_connection(app, smtp):
    with app.test_request_context(), connection() as send:
        for n in range(5):
            send(build_message(f"p{n}@example.com", f"Hello {n}", "verify_email",
                               user=type("U", (), {"name": "N", "email": "x@example.com"}),
                               link="http://localhost/x"))
    assert len(smtp.messages) == 5
    assert smtp.connection_count == 1


def test_a_refused_message_raises_with_the_servers_reason_and_the_rest_go_on(app, smtp):
    smtp.fail_with(lambda n, envelope: "550 5.1.1 Mailbox unavailable" if n == 2 else None)
    failures = []
    user = type("U", (), {"name": "N", "email": "x@example.com"})
    with app.test_request_context(), connection() as send:
        for n in range(3):
            try:
                send(build_message(f"p{n}@example.com", "Hi", "verify_email", user=user, link="http://l/x"))
            except MailDeliveryError as error:
                failures.append(str(error))
    assert failures == ["550 5.1.1 Mailbox unavailable"]
    assert len(smtp.messages) == 2


def test_an_unreachable_server_is_a_delivery_error_not_a_crash(app, make_user):
    from tests.support import free_port
    from invites.extensions import mail

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    mail.init_app(app)
    user = make_user()
    with app.test_request_context(), pytest.raises(MailDeliveryError, match="refused"):
        send_mail(user.email, "Hi", "verify_email", user=user, link="http://l/x")


def test_without_a_mail_server_messages_go_to_the_outbox_page(app, client, make_user):
    user = make_user(email="ann@example.com")
    with app.test_request_context():
        send_mail(user.email, "Confirm your email address", "verify_email", user=user,
                  link="http://localhost/verify/abc")
    db.session.commit()
    html = client.get("/dev/outbox").get_data(as_text=True)
    assert "Confirm your email address" in html
    assert '<a href="http://localhost/verify/abc">http://localhost/verify/abc</a>' in html
    message = db.session.scalar(db.select(OutboxMessage))
    assert "Confirm my email" in client.get(f"/dev/outbox/{message.id}/html").get_data(as_text=True)


def test_the_outbox_page_is_off_outside_development(app, client):
    app.config["DEV_OUTBOX_PAGE"] = False
    assert app.debug is False
    assert client.get("/dev/outbox").status_code == 404
