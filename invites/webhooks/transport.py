"""Posting one webhook: to an address checked at the moment of connecting, never to the
inside of the network Invites runs in (SSRF).

The host is resolved once; every address it resolves to must be public (not loopback,
private, link-local (the cloud metadata service, 169.254.169.254, among them), shared,
multicast, reserved or unspecified); the connection is made to that very address, and
the peer actually connected to is checked again. A redirect is not followed (it is a
failure: the receiver must answer at its URL). Only ``WEBHOOK_ALLOW_PRIVATE_URLS``, meant
for tests and development, lifts the address rule.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from invites.errors import DomainError

MAX_URL = 2000
USER_AGENT = "Invites-Webhooks/1"


class UnsafeAddress(Exception):
    """The URL leads to an address Invites does not post to."""


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (refused, timed out, unsafe address...)
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS"))


def check_url(url: str) -> str:
    """The URL, trimmed, if an endpoint may have it: http(s) with a host, https unless the
    app runs in debug or allows private addresses, no user name or password in it, and a
    host that resolves to public addresses only (checked again at every delivery).
    Refuses (DomainError on the field "url") anything else."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise DomainError(f"Enter the receiver's address, at most {MAX_URL} characters.", "url")
    parts = urlsplit(url)
    plain_http = current_app.debug or allow_private()
    if parts.scheme not in (("https", "http") if plain_http else ("https",)):
        raise DomainError("Use an https:// address.", "url")
    if not parts.hostname or parts.username or parts.password:
        raise DomainError("Enter an address with a host name and no user name or password in it.", "url")
    try:
        parts.port
    except ValueError:
        raise DomainError("The port of this address is not a number from 1 to 65535.", "url") from None
    try:
        resolve(parts.hostname, parts.port or 443)
    except UnsafeAddress as refusal:
        raise DomainError(str(refusal), "url") from None
    return url


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, each of them allowed; refuses (UnsafeAddress)
    a host that does not resolve or resolves to any address not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeAddress(f"{host} does not resolve to an address.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private():
        for address in addresses:
            if not is_public(address):
                raise UnsafeAddress(f"{host} leads to {address}, an address inside a private network. "
                                    "Webhooks go to public addresses only.")
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the one address checked, whatever the host name says now."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        _check_peer(self.sock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address checked, the certificate verified for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        _check_peer(raw)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _check_peer(sock: socket.socket) -> None:
    peer = sock.getpeername()[0]
    if not allow_private() and not is_public(peer):
        sock.close()
        raise UnsafeAddress(f"connected to {peer}, an address inside a private network")


class Poster:
    """Posts webhooks, keeping one connection alive per receiver (scheme, host, port) for
    as long as it is used (``with Poster() as poster:``). A kept connection the receiver
    closed meanwhile is opened again once."""

    def __init__(self) -> None:
        self.connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self.connections.values():
            conn.close()
        self.connections.clear()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body`` to ``url`` with short timeouts (``WEBHOOK_CONNECT_TIMEOUT`` to
        connect, ``WEBHOOK_READ_TIMEOUT`` to answer), reading at most 64 KB of the answer."""
        started = time.monotonic()

        def done(status: int | None, error: str | None) -> Answer:
            return Answer(status, error[:500] if error else None, int((time.monotonic() - started) * 1000))

        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT}
        for fresh in (key not in self.connections, True):  # a kept connection, else a new one
            try:
                conn = self.connections.get(key) if not fresh else None
                conn = conn or self._connect(key)
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read(65536)
                if response.will_close:
                    self._drop(key)
                break
            except UnsafeAddress as refusal:
                self._drop(key)
                return done(None, f"Not sent: {refusal}")
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop(key)
                if not fresh:
                    continue  # the receiver closed the kept connection: once more, afresh
                return done(None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
            except (OSError, http.client.HTTPException) as error:
                self._drop(key)
                return done(None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
        if 300 <= response.status < 400:
            return done(response.status, "A redirect: webhooks are not redirected; use the final address.")
        return done(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status} {response.reason}")

    def _connect(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        """A new connection to the address ``key``'s host resolves to now, checked."""
        scheme, host, port = key
        config = current_app.config
        address = resolve(host, port)[0]
        kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
        conn = kind(host, address, port, float(config["WEBHOOK_CONNECT_TIMEOUT"]))
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(float(config["WEBHOOK_READ_TIMEOUT"]))
            # Each request goes out whole at once: without it, Nagle's algorithm and the
            # receiver's delayed ACK cost 40 ms a request on a kept connection.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections[key] = conn
        return conn

    def _drop(self, key: tuple[str, str, int]) -> None:
        conn = self.connections.pop(key, None)
        if conn is not None:
            conn.close()


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """One POST on a connection of its own (see :class:`Poster`)."""
    with Poster() as poster:
        return poster.post(url, body, headers)
