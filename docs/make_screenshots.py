"""Screenshots for the README, made from the running app so they stay true.

``make screenshots`` runs this: a demo organization on a throwaway SQLite database, served
on a free local port, photographed in Debian's Chromium at a desktop width (1280 px) and a
phone's (390 px). The pictures land in ``docs/screenshots/``.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser, sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def build_app(database: Path) -> Flask:
    from flask_migrate import upgrade

    from invites import create_app
    from invites.cli import seed_demo

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "SECRET_KEY": "screenshots-only",
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        "PUBLIC_URL": "http://127.0.0.1",  # replaced by the real port below
        "TESTING": True,
    })
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed_demo()
    return app


def serve(app: Flask) -> str:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_URL"] = url
    app.config["TRUSTED_HOSTS"] = None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return url


def invitation_path(app: Flask, address: str) -> str:
    """The /i/<token> path of the newest invitation mailed to ``address``, read from the
    outbox the way a recipient reads their mail."""
    from invites.extensions import db
    from invites.mail.models import OutboxMessage

    with app.app_context():
        body = db.session.scalar(
            db.select(OutboxMessage.text_body)
            .where(OutboxMessage.recipients.contains(address))
            .order_by(OutboxMessage.id.desc())
        )
    assert body, f"no mail to {address} in the outbox"
    match = re.search(r"(/i/[A-Za-z0-9_\-]+)", body)
    assert match, "the invitation mail has no /i/ link"
    return match.group(1)


def shoot(browser: Browser, base: str, name: str, path: str, login: str | None) -> None:
    for width_name, (width, height) in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=base)
        page = context.new_page()
        if login:
            page.goto("/login")
            page.fill("input[name=email]", login)
            page.fill("input[name=password]", "demo-password")
            page.click("form button[type=submit]")
            page.wait_for_load_state()
        page.goto(path)
        page.wait_for_load_state("networkidle")
        target = OUT / f"{name}-{width_name}.png"
        page.screenshot(path=str(target), full_page=True)
        print(f"  {target.relative_to(ROOT)}")
        context.close()


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp) / "screenshots.db")
        base = serve(app)
        invitation = invitation_path(app, "new.hire@demo.test")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            shoot(browser, base, "overview", "/o/acme-training", "owner@demo.test")
            shoot(browser, base, "invitations", "/o/acme-training/manage/invitations", "owner@demo.test")
            shoot(browser, base, "invitation", invitation, None)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
