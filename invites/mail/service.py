"""Rendering and sending mail (F17).

Every message has an HTML and a text body rendered from ``templates/mail/<name>.html``
and ``.txt``. With ``MAIL_SERVER`` set it goes out synchronously over SMTP; without it, it
is kept in the outbox table that the development page lists.
"""
from __future__ import annotations

import email.policy
import re
import secrets
import smtplib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from email.header import Header
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import urlsplit

import flask_mail
from flask import current_app, render_template
from flask_mail import Connection

from invites.extensions import db
from invites.mail.models import OutboxMessage


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
    """Flask-Mail's message, written out for the wire without parsing its headers again.

    Flask-Mail encodes every header itself (RFC 2047 words, IDNA domains) and then
    flattens the message under ``email.policy.SMTP``, which re-parses each header on the
    way out: about half of what sending one invitation cost. Flattened under compat32 with
    CRLF line ends, the same encoded headers are written as they are.
    """

    WIRE_POLICY = email.policy.compat32.clone(linesep="\r\n")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # A Message-ID in the sender's domain, rather than socket.getfqdn() per message.
        sender = self.sender
        address = sender[1] if isinstance(sender, tuple) else parseaddr(sender or "")[1]
        try:  # an internationalized domain goes in its ASCII (IDNA) form
            domain = address.rpartition("@")[2].encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
        self.msgId = make_msgid(domain=domain or "localhost")

    def as_bytes(self) -> bytes:
        message = self._message()
        message.policy = self.WIRE_POLICY
        for part in message.walk():
            if part.is_multipart():
                # Left unset, the generator picks one and compiles a fresh regex per part to
                # check it against the text. A "=_" boundary cannot occur in the base64
                # bodies Flask-Mail writes.
                part.set_boundary(f"=_{secrets.token_hex(16)}")
        if self.subject and not self.subject.isascii():
            # Flask-Mail's pre-encoded words, folded without room for "Subject: ", would
            # start with an empty line; a Header folds them knowing the name.
            # (compat32 takes a Header where the stubs say str)
            message.replace_header(
                "Subject", Header(self.subject, "utf-8", header_name="Subject")  # type: ignore[arg-type]
            )
        return message.as_bytes()


def build_message(to: str | Iterable[str], subject: object, template: str, **context: Any) -> Message:
    """A Message with both bodies; ``to`` is one address or a list of them.

    The subject is folded onto one line: it often holds names people typed, and a line
    break there would be a header injection (Flask-Mail refuses it with an error).
    """
    recipients = [to] if isinstance(to, str) else list(to)
    subject = " ".join(str(subject).split())
    context.setdefault("subject", subject)
    return Message(
        subject=subject,
        recipients=recipients,
        body=render_template(f"mail/{template}.txt", **context),
        html=render_template(f"mail/{template}.html", **context),
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
