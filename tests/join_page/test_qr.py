"""The Join Web Page's QR code (issue 19, part 4): for owners, while the page is on,
holding exactly the public address the panel shows (on PUBLIC_URL)."""
import html
import re

import pytest

from invites.extensions import db
from invites.join_page.service import page_of
from invites.orgs.models import Plan
from tests.links.test_qr import expected_modules, png_size_and_modules, svg_modules

TITLE = "QR code for the Join Web Page"


@pytest.fixture
def page(team):
    team.org.plan = Plan.PREMIUM
    page = page_of(team.org)
    page.enabled = True
    page.slug = "acme-join"
    db.session.commit()
    return page


def qr_urls(org):
    base = f"/o/{org.slug}/manage/join-page"
    return {"svg": f"{base}/qr.svg", "png": f"{base}/qr.png", "print": f"{base}/qr/print"}


def address_shown(panel):
    found = re.search(r'id="join-url" value="([^"]+)"', panel)
    return found.group(1) if found else None


def test_the_panel_shows_the_code_beside_the_address_while_the_page_is_on(client, auth, team, page):
    auth.login(team.owner)
    panel = client.get(f"/o/{team.org.slug}/manage/join-page").get_data(as_text=True)
    urls = qr_urls(team.org)
    assert address_shown(panel) == "http://localhost/join/acme-join"
    assert f'<img src="{urls["svg"]}" alt="{TITLE}"' in panel
    assert f'<a href="{urls["png"]}" download>Download PNG</a>' in panel
    assert f'<a href="{urls["print"]}">Print</a>' in panel
    page.enabled = False
    db.session.commit()
    panel = client.get(f"/o/{team.org.slug}/manage/join-page").get_data(as_text=True)
    assert address_shown(panel) and "qr.svg" not in panel


def test_the_owner_gets_the_code_of_the_public_address(client, auth, team, page):
    auth.login(team.owner)
    urls = qr_urls(team.org)
    response = client.get(urls["svg"])
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme-training-join-page-qr.svg"'
    title, modules = svg_modules(response.data)
    assert title == TITLE and modules == expected_modules("http://localhost/join/acme-join")

    response = client.get(urls["png"])
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    _, modules = png_size_and_modules(response.data)
    assert modules == expected_modules("http://localhost/join/acme-join")


def test_the_print_sheet_has_the_organization_and_the_whole_address(app, client, auth, team, page):
    app.config["PUBLIC_URL"] = "https://invites.example.org"
    auth.login(team.owner)
    response = client.get(qr_urls(team.org)["print"])
    sheet = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<h1>Acme Training</h1>" in sheet
    assert '<p class="qr-sheet-address">https://invites.example.org/join/acme-join</p>' in sheet
    assert f'<img src="{qr_urls(team.org)["svg"]}" alt="{TITLE}"' in sheet
    _, modules = svg_modules(client.get(qr_urls(team.org)["svg"]).data)
    assert modules == expected_modules("https://invites.example.org/join/acme-join")


@pytest.mark.parametrize("change", ["off", "free"])
def test_no_code_while_the_page_is_off_or_the_plan_free(client, auth, team, page, change):
    if change == "off":
        page.enabled = False
    else:
        team.org.plan = Plan.FREE
    db.session.commit()
    auth.login(team.owner)
    for url in qr_urls(team.org).values():
        response = client.get(url)
        text = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 404
        assert "The Join Web Page is off, so it has no QR code." in text and '<main id="main"' in text


@pytest.mark.parametrize("who, expected", [
    ("manager", 403), ("member", 403), ("collaborator", 403), ("outsider", 404),
])
def test_only_owners_get_it_as_only_owners_manage_the_page(client, auth, team, page, who, expected):
    auth.login(getattr(team, who))
    for url in qr_urls(team.org).values():
        response = client.get(url)
        assert response.status_code == expected and b"/join/" not in response.data


def test_visitors_are_sent_to_log_in(client, team, page):
    for url in qr_urls(team.org).values():
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login")


def test_another_organizations_owner_gets_404(client, auth, team, page, make_user, make_org):
    rival = make_user(name="Rita Rival")
    make_org(owner=rival, name="Rival Ventures", plan=Plan.PREMIUM)
    auth.login(rival)
    for url in qr_urls(team.org).values():
        assert client.get(url).status_code == 404
