"""The demo's seeded emails link to the address the app is run with (issue 22, point 7):
``make run`` gives ``seed-demo`` the PUBLIC_URL it serves on, whatever the port, and the
seeded invitation mail is built on it. The demo's groups carry descriptions, which the
invitation email shows."""
import os
import re
import subprocess
from pathlib import Path

from invites.extensions import db
from invites.groups.models import Group
from invites.mail.models import OutboxMessage

ROOT = Path(__file__).resolve().parent.parent


def test_make_run_gives_seed_demo_the_address_it_serves():
    env = {k: v for k, v in os.environ.items() if k != "PUBLIC_URL"}
    plan = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True).stdout
    [seed] = [line for line in plan.splitlines() if "seed-demo" in line]
    [serve] = [line for line in plan.splitlines() if " run --host" in line]
    assert "PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:8123}" in seed
    assert "PUBLIC_URL=${PUBLIC_URL:-http://127.0.0.1:8123}" in serve


def test_the_seeded_emails_link_to_public_url_and_name_the_groups(app):
    app.config["PUBLIC_URL"] = "http://127.0.0.1:8123"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123" in result.output
    bodies = [message.text_body for message in db.session.scalars(db.select(OutboxMessage))]
    links = [link for body in bodies for link in re.findall(r"https?://\S+", body)]
    assert links and all(link.startswith("http://127.0.0.1:8123/") for link in links)
    assert not any(":5000" in body for body in bodies)
    new_hires = db.session.scalar(db.select(Group).filter_by(name="New Hires"))
    assert new_hires.description
    assert any(f"- New Hires: {new_hires.description}" in body for body in bodies)
