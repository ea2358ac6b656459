"""QR codes of the addresses people join by: an invite link and the Join Web Page (issue 19).

Built on the server with segno, as SVG (shown on the page, printed, downloaded) and PNG
(downloaded). The address a code holds is a secret link, so every answer carrying one is
``Cache-Control: no-store``.
"""
from __future__ import annotations

import io
from typing import NoReturn

import segno
from flask import Response, abort, make_response, render_template

from invites.errors import render_error

# Level M (15% of the code may be lost) reads well from paper and from a screen.
ERROR_LEVEL = "m"
# The quiet zone the standard asks for, in modules.
BORDER = 4
# Pixels per module in the PNG: about 330 px for a link's usual 33 modules with the border.
PNG_SCALE = 8

MIMETYPES = {"svg": "image/svg+xml", "png": "image/png"}


def qr_code(address: str) -> segno.QRCode:
    """The QR code holding exactly ``address``; always a full QR code (phones' cameras do not
    all read Micro QR)."""
    return segno.make(address, error=ERROR_LEVEL, micro=False)


def svg(address: str, title: str) -> bytes:
    """The code as a standalone SVG document: black on white (so it reads on a dark page
    too), sized by its ``viewBox`` so CSS or a print sheet scales it, named by ``title``.
    No style attribute or element, so it passes the app's Content-Security-Policy."""
    buffer = io.BytesIO()
    qr_code(address).save(
        buffer, kind="svg", scale=1, border=BORDER, dark="#000", light="#fff", title=title,
        omitsize=True, svgclass="qr-code", lineclass=None, xmldecl=True,
    )
    return buffer.getvalue()


def png(address: str) -> bytes:
    """The code as a black-and-white PNG of ``PNG_SCALE`` pixels per module."""
    buffer = io.BytesIO()
    qr_code(address).save(buffer, kind="png", scale=PNG_SCALE, border=BORDER)
    return buffer.getvalue()


def image_response(address: str, kind: str, filename: str, title: str) -> Response:
    """``address``'s code as a ``kind`` ("svg" or "png") file named ``filename`` (without
    extension), never stored by a cache. The same answer serves the page's ``<img>`` (which
    ignores ``Content-Disposition``) and the download links."""
    body = svg(address, title) if kind == "svg" else png(address)
    response = Response(body, mimetype=MIMETYPES[kind])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{kind}"'
    return no_store(response)


def sheet_response(org_name: str, address: str, image: str, alt: str, back: str, back_label: str) -> Response:
    """The one-page printable sheet: ``org_name``, the code large (the SVG at ``image``)
    and ``address`` written out; ``back`` and ``back_label`` lead to the page it came from
    (hidden when printed)."""
    return no_store(make_response(render_template(
        "links/qr_sheet.html", org_name=org_name, address=address, image=image, alt=alt,
        back=back, back_label=back_label,
    )))


def refuse(message: str) -> NoReturn:
    """Answer 404 with the app's error page saying ``message`` (why there is no code)."""
    abort(make_response(render_error(404, message)))


def no_store(response: Response) -> Response:
    """``response`` with ``Cache-Control: no-store``: it carries a secret link."""
    response.headers["Cache-Control"] = "no-store"
    return response
