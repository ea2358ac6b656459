"""Our usual message written straight to the bytes Flask-Mail would send.

Flask-Mail builds a MIME tree for every message (a multipart/mixed around a
multipart/alternative of the text and the HTML, each part a MIMEText) and flattens it
under ``email.policy.SMTP``: most of what a bulk send cost beside the network. For that
one shape the bytes always follow the same pattern, so ``wire_bytes`` writes them
directly: the same header values (Flask-Mail's own ``sanitize_*`` functions, folded by
the same ``policy.SMTP.fold_binary``), the same part headers, bodies with CRLF line ends,
boundaries of the same form. ``tests/mail/test_wire_bytes.py`` holds it to Flask-Mail's
output byte for byte. Any other shape returns None, and Flask-Mail writes it.

One deliberate difference: a non-ASCII subject long enough that ``policy.SMTP`` would
fold Flask-Mail's encoded words again, which loses or adds spaces between words (about one
such subject in eight); it is folded by ``email.header.Header`` knowing the header's name
instead, so it arrives exactly as written.
"""
from __future__ import annotations

import email.policy
import random
import re
import sys
from email.header import Header
from email.utils import formatdate
from functools import lru_cache
from typing import TYPE_CHECKING

import flask_mail

if TYPE_CHECKING:
    from collections.abc import Iterable

_fold = email.policy.SMTP.fold_binary
_MAX_LINE = email.policy.SMTP.max_line_length or 78
_NEWLINE = re.compile(rb"\r\n|\r|\n")
# An address that Flask-Mail's sanitize_address returns unchanged (no display name, ASCII,
# nothing parseaddr would read differently).
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\Z")
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))  # as email.generator makes them


def sanitize_address(address: str | tuple[str, str], encoding: str = "utf-8") -> str:
    """``flask_mail.sanitize_address``, without its cost for a plain address and only
    once for each other one (the sender is the same on every message)."""
    if isinstance(address, str) and _PLAIN_ADDRESS.match(address):
        return address
    return _sanitize_address(address, encoding)


@lru_cache(maxsize=256)
def _sanitize_address(address: str | tuple[str, str], encoding: str) -> str:
    return flask_mail.sanitize_address(address, encoding)


def _addresses(addresses: Iterable[str | tuple[str, str]], encoding: str) -> str:
    # As Flask-Mail joins them: through a set (one recipient is the usual case).
    return ", ".join(list(set(sanitize_address(a, encoding) for a in addresses)))


def _refolds(name: str, value: str) -> bool:
    """Whether policy.SMTP would parse and fold ``value`` again (its ``_fold`` rule)."""
    lines = value.splitlines()
    return bool(lines) and (
        len(lines[0]) + len(name) + 2 > _MAX_LINE or any(len(line) > _MAX_LINE for line in lines[1:])
    )


def _subject(subject: object, encoding: str) -> bytes:
    text = flask_mail.force_text(subject)
    value = flask_mail.sanitize_subject(text, encoding)
    if not text.isascii() and _refolds("Subject", value):
        folded = Header(text, encoding, header_name="Subject").encode(linesep="\r\n")
        return b"Subject: " + folded.encode("ascii") + b"\r\n"
    return _fold("Subject", value)


def _boundary(*texts: str) -> str:
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "=="
        if not any(f"--{boundary}" in text for text in texts):
            return boundary


def _text_part(subtype: bytes, text: str) -> bytes:
    data = text.encode("utf-8")
    encoding = b"7bit" if data.isascii() else b"8bit"
    return (b"Content-Type: text/" + subtype + b'; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
            b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + _NEWLINE.sub(b"\r\n", data))


def is_usual_shape(message: flask_mail.Message) -> bool:
    """A text body and an HTML alternative in UTF-8, nothing attached and no extra
    headers: what ``mail.service.build_message`` makes."""
    return (
        isinstance(message.body, str)
        and isinstance(message.html, str)
        and list(message.alts) == ["html"]
        and not message.attachments
        and not message.extra_headers
        and message.charset in (None, "utf-8")
    )


def wire_bytes(message: flask_mail.Message) -> bytes | None:
    """The message as Flask-Mail's ``as_bytes`` writes it (boundaries aside: random in
    both), or None for a shape other than :func:`is_usual_shape`."""
    if not is_usual_shape(message):
        return None
    text, html = message.body or "", message.html or ""
    encoding = "utf-8"
    outer, inner = _boundary(text, html), _boundary(text, html)
    head = [f'Content-Type: multipart/mixed; boundary="{outer}"\r\nMIME-Version: 1.0\r\n'.encode("ascii")]
    if message.subject:
        head.append(_subject(message.subject, encoding))
    head.append(_fold("From", sanitize_address(message.sender, encoding)))
    head.append(_fold("To", _addresses(message.recipients, encoding)))
    head.append(_fold("Date", formatdate(message.date, localtime=True)))
    head.append(_fold("Message-ID", message.msgId))
    if message.cc:
        head.append(_fold("Cc", _addresses(message.cc, encoding)))
    if message.reply_to:
        head.append(_fold("Reply-To", sanitize_address(message.reply_to, encoding)))
    inner_line = f"--{inner}\r\n".encode("ascii")
    return b"".join((
        *head,
        f"\r\n--{outer}\r\nContent-Type: multipart/alternative;\r\n boundary=\"{inner}\"\r\n"
        "MIME-Version: 1.0\r\n\r\n".encode("ascii"),
        inner_line,
        _text_part(b"plain", text),
        b"\r\n", inner_line,
        _text_part(b"html", html),
        f"\r\n--{inner}--\r\n\r\n--{outer}--\r\n".encode("ascii"),
    ))
