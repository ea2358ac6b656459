"""Rendering and sending mail (F17).

Every message has an HTML and a text body rendered from ``templates/mail/<name>.html``
and ``.txt``. With ``MAIL_SERVER`` set it goes out synchronously over SMTP; without it, it
is kept in the outbox table that the development page lists.
"""
from __future__ import annotations

import re
import smtplib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from email.utils import formataddr, make_msgid, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import flask_mail
from flask import current_app
from flask_mail import Connection

from invites.extensions import db
from invites.mail.models import OutboxMessage
from invites.mail.wire import sanitize_address, wire_bytes


_LINKISH = re.compile(r"([.:@/])(?=\S)")


def no_links(text: object) -> str:
    """User-typed text for mail, where clients turn anything that looks like a domain or
    an address into a link: a zero-width space after dots, colons, slashes and @ stops
    that, so a name like "Claim at evil.example" cannot become a link. Still escaped by
    the template like any text."""
    return _LINKISH.sub("\\1\u200b", str(text or ""))


class MailDeliveryError(Exception):
    """Sending failed; ``str(error)`` is the reason to keep and show."""


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for mail, always on PUBLIC_URL: never on a request's Host header,
    which whoever sends the request chooses (security review F2). Works outside requests
    too (commands run by cron)."""
    public = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)


class Message(flask_mail.Message):
    """Flask-Mail's message, written out for the wire by ``mail.wire`` when it has our
    usual shape (the same bytes, without building and flattening a MIME tree) and by
    Flask-Mail otherwise."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.msgId = make_msgid(domain=_message_id_domain(self.sender))

    def as_bytes(self) -> bytes:
        return wire_bytes(self) or super().as_bytes()


@lru_cache(maxsize=32)
def _message_id_domain(sender: str | tuple[str, str]) -> str:
    """A Message-ID in the sender's domain, rather than socket.getfqdn(); an
    internationalized domain in its ASCII (IDNA) form."""
    address = sender[1] if isinstance(sender, tuple) else parseaddr(sender or "")[1]
    try:
        domain = address.rpartition("@")[2].encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    return domain or "localhost"


def build_message(to: str | Iterable[str], subject: object, template: str, **context: Any) -> Message:
    """A Message with both bodies; ``to`` is one address or a list of them.

    The subject is folded onto one line: it often holds names people typed, and a line
    break there would be a header injection (Flask-Mail refuses it with an error). The
    templates are rendered with the context given here only (and the app's filters and
    globals): no request, session or context processor, which mail never needs and which
    cost a bulk send a little per message.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    subject = " ".join(str(subject).split())
    context.setdefault("subject", subject)
    templates = current_app.jinja_env
    return Message(
        subject=subject,
        recipients=recipients,
        body=templates.get_template(f"mail/{template}.txt").render(context),
        html=templates.get_template(f"mail/{template}.html").render(context),
    )


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a stalled server can't hang us."""

    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        timeout = current_app.config.get("MAIL_TIMEOUT", 10)
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=timeout)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host

    def send(self, message: flask_mail.Message, envelope_from: str | tuple[str, str] | None = None) -> None:
        """Flask-Mail's ``Connection.send`` (the same checks, the same ``email_dispatched``
        signal), with the envelope's addresses sanitized as ``mail.wire`` does: once per
        sender, not again for every message."""
        assert message.send_to, "No recipients have been added"
        assert message.sender, "The message does not specify a sender and no default is configured"
        if message.has_bad_headers():
            raise flask_mail.BadHeaderError
        if message.date is None:
            message.date = time.time()
        if self.host is not None:
            self.host.sendmail(
                sanitize_address(envelope_from or message.sender),
                [sanitize_address(address) for address in message.send_to],
                message.as_bytes(),
                message.mail_options,
                message.rcpt_options,
            )
        flask_mail.email_dispatched.send(current_app._get_current_object(), message=message)  # type: ignore[attr-defined]
        self.num_emails += 1
        if self.num_emails == self.mail.max_emails:
            self.num_emails = 0
            if self.host is not None:
                self.host.quit()
                self.host = self.configure_host()


def _uses_outbox() -> bool:
    return not current_app.config.get("MAIL_SERVER")


def _keep_in_outbox(message: flask_mail.Message) -> None:
    db.session.add(
        OutboxMessage(
            sender=str(message.sender or current_app.config["MAIL_DEFAULT_SENDER"]),
            recipients=", ".join(formataddr(r) if isinstance(r, tuple) else r for r in message.recipients),
            subject=message.subject,
            text_body=message.body,
            html_body=message.html,
        )
    )


@contextmanager
def connection() -> Iterator[Callable[[flask_mail.Message], None]]:
    """One SMTP session for many messages (or the outbox). Yields ``send(message)``.

    ``send`` raises :class:`MailDeliveryError` for a message the server refused; the
    connection is reopened for the next message if the failure dropped it.
    """
    if _uses_outbox():
        yield _keep_in_outbox
        return

    state = current_app.extensions["mail"]
    conn = _TimedConnection(state)
    opened = False

    def send(message: flask_mail.Message) -> None:
        nonlocal opened
        try:
            if not opened:
                conn.__enter__()
                opened = True
            conn.send(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise MailDeliveryError(_describe_refusal(error)) from error
        except (smtplib.SMTPException, OSError) as error:
            # SMTPException is itself an OSError. A refused message leaves the session
            # usable; a dropped connection, a socket error, or a reply after which smtplib
            # closed the socket (421) means the next message needs a new connection.
            dropped = (
                isinstance(error, smtplib.SMTPServerDisconnected)
                or not isinstance(error, smtplib.SMTPException)
                or getattr(conn.host, "sock", None) is None
            )
            if dropped:
                _close_quietly(conn)
                opened = False
            raise MailDeliveryError(_describe(error)) from error

    try:
        yield send
    finally:
        if opened:
            _close_quietly(conn)


def send_message(message: flask_mail.Message) -> None:
    """Send one message now; raises :class:`MailDeliveryError` on failure."""
    with connection() as send:
        send(message)


def send_mail(to: str | Iterable[str], subject: object, template: str, **context: Any) -> None:
    """Render and send in one step; raises :class:`MailDeliveryError` on failure."""
    send_message(build_message(to, subject, template, **context))


def _close_quietly(conn: Connection) -> None:
    try:
        if conn.host is not None:
            conn.host.quit()
    except (smtplib.SMTPException, OSError):
        pass
    conn.host = None


def _describe(error: OSError) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        message = error.smtp_error
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        return f"{error.smtp_code} {message}"
    if isinstance(error, TimeoutError) or str(error).endswith("timed out"):
        # smtplib reports a stalled greeting as "Connection unexpectedly closed: timed out".
        return "The mail server did not answer in time."
    if isinstance(error, ConnectionRefusedError):
        return "The mail server refused the connection."
    return str(error) or type(error).__name__


def _describe_refusal(error: smtplib.SMTPRecipientsRefused) -> str:
    reasons = []
    for address, (code, message) in error.recipients.items():
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        reasons.append(f"{address}: {code} {text}")
    return "; ".join(reasons)


__all__ = [
    "MailDeliveryError",
    "build_message",
    "connection",
    "external_url",
    "no_links",
    "send_mail",
    "send_message",
]
