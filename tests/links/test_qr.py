"""An invite link's QR code (issue 19, part 4): SVG and PNG downloads and a printable
sheet, for whoever may manage the link (``links.edit``), holding exactly the address the
link's page shows.

No QR decoder is installed (a pure-Python one does not exist on PyPI that we trust), so
the tests read the modules back out of the files themselves (the SVG's path, the PNG's
pixels) and compare them with ``segno.make(address)`` built here: the same matrix means
the same text was encoded.
"""
import html
import re
import struct
import zlib
from datetime import timedelta

import pytest
import segno
from defusedxml import ElementTree

from invites import clock, qr
from invites.extensions import db
from invites.links import service
from invites.links.models import Access
from invites.orgs.models import Role

SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- Reading a code back (shared with tests/join_page/test_qr.py) -----------------------------

def expected_modules(address):
    """The dark modules of the code for exactly ``address``, as a set of (x, y)."""
    matrix = segno.make(address, error=qr.ERROR_LEVEL, micro=False).matrix
    return {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}


def svg_modules(document):
    """(title, dark modules) of an SVG that segno wrote: well-formed XML (parsed with
    defusedxml), no style or script anywhere (the app's CSP), its path of horizontal runs
    read back into modules, less the quiet zone."""
    root = ElementTree.fromstring(document)
    assert root.tag == f"{SVG}svg"
    for element in root.iter():
        assert element.tag not in (f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject")
        assert "style" not in element.attrib and not any(name.startswith("on") for name in element.attrib)
    size = int(root.attrib["viewBox"].split()[2])
    dark = [p for p in root.iter(f"{SVG}path") if p.attrib.get("stroke") == "#000"]
    assert len(dark) == 1
    modules, x, y = set(), 0.0, 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", dark[0].attrib["d"]):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            modules.update((int(x) + i - qr.BORDER, int(y) - qr.BORDER) for i in range(int(first)))
            x += float(first)
    assert all(0 <= mx < size - 2 * qr.BORDER and 0 <= my < size - 2 * qr.BORDER for mx, my in modules)
    return root.find(f"{SVG}title").text, modules


def png_size_and_modules(data):
    """((width, height) from IHDR, dark modules) of a 1-bit greyscale PNG that segno wrote:
    the signature, every chunk's CRC, the scanlines inflated and unfiltered, one pixel
    read from the middle of each module."""
    assert data.startswith(PNG_SIGNATURE)
    position, chunks = len(PNG_SIGNATURE), {}
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.setdefault(kind, b"")
        chunks[kind] += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (1, 0) and b"IEND" in chunks
    raw, stride, rows, previous = zlib.decompress(chunks[b"IDAT"]), (width + 7) // 8, [], bytes((width + 7) // 8)
    for start in range(0, len(raw), stride + 1):
        kind, line = raw[start], raw[start + 1:start + 1 + stride]
        assert kind in (0, 2)  # None, or Up (segno repeats a module's rows with it)
        line = bytes((a + b) % 256 for a, b in zip(line, previous)) if kind == 2 else line
        rows.append(line)
        previous = line
    assert len(rows) == height
    scale = qr.PNG_SCALE
    modules = set()
    for my in range(height // scale - 2 * qr.BORDER):
        for mx in range(width // scale - 2 * qr.BORDER):
            px, py = (mx + qr.BORDER) * scale + scale // 2, (my + qr.BORDER) * scale + scale // 2
            if not rows[py][px // 8] >> (7 - px % 8) & 1:  # 0 is black
                modules.add((mx, my))
    return (width, height), modules


def address_shown(page):
    """The address in the link page's copy box."""
    found = re.search(r'id="link-url" value="([^"]+)"', page)
    return found.group(1) if found else None


# --- The module, without HTTP --------------------------------------------------------------

ADDRESS = "https://invites.example.org/l/Zx8-secret_token-Ab3"


def test_the_svg_is_well_formed_named_and_holds_exactly_the_address():
    title, modules = svg_modules(qr.svg(ADDRESS, "QR code for the invite link"))
    assert title == "QR code for the invite link"
    assert modules == expected_modules(ADDRESS)
    assert modules != expected_modules(ADDRESS + "x")  # the comparison does tell addresses apart


def test_the_png_decodes_to_the_code_of_the_address_at_its_scale():
    (width, height), modules = png_size_and_modules(qr.png(ADDRESS))
    code = segno.make(ADDRESS, error=qr.ERROR_LEVEL, micro=False)
    assert (width, height) == code.symbol_size(scale=qr.PNG_SCALE)
    assert width == (len(code.matrix) + 2 * qr.BORDER) * qr.PNG_SCALE
    assert modules == expected_modules(ADDRESS)


# --- The routes ------------------------------------------------------------------------------

@pytest.fixture
def link(team, make_link):
    return make_link(team.org, team.manager)[0]


def qr_urls(org, link):
    base = f"/o/{org.slug}/links/{link.id}"
    return {"svg": f"{base}/qr.svg", "png": f"{base}/qr.png", "print": f"{base}/qr/print"}


def test_the_links_page_shows_the_code_beside_the_address_with_downloads_and_print(client, auth, team, link):
    auth.login(team.manager)
    page = client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True)
    urls = qr_urls(team.org, link)
    assert f'<img src="{urls["svg"]}" alt="QR code for the invite link"' in page
    assert re.search(rf'<a href="{urls["svg"]}" download>Download SVG</a>', page)
    assert re.search(rf'<a href="{urls["png"]}" download>Download PNG</a>', page)
    assert f'<a href="{urls["print"]}">Print</a>' in page


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER])
def test_staff_get_the_code_of_the_address_the_page_shows(client, auth, team, link, role):
    auth.login({Role.OWNER: team.owner, Role.MANAGER: team.manager}[role])
    shown = address_shown(client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True))
    assert shown == f"http://localhost/l/{link.shareable_token()}"
    urls = qr_urls(team.org, link)

    response = client.get(urls["svg"])
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="invite-link-{link.id}-qr.svg"'
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    title, modules = svg_modules(response.data)
    assert title == "QR code for the invite link" and modules == expected_modules(shown)

    response = client.get(urls["png"])
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="invite-link-{link.id}-qr.png"'
    _, modules = png_size_and_modules(response.data)
    assert modules == expected_modules(shown)


def test_the_print_sheet_has_the_organization_the_code_and_the_whole_link(client, auth, team, link):
    auth.login(team.owner)
    urls = qr_urls(team.org, link)
    response = client.get(urls["print"])
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<h1>Acme Training</h1>" in page
    assert f'<p class="qr-sheet-address">http://localhost/l/{link.shareable_token()}</p>' in page
    assert f'<img src="{urls["svg"]}" alt="QR code for the invite link" class="qr-sheet-code"' in page
    assert f'href="/o/{team.org.slug}/links/{link.id}"' in page  # back to the link


def test_the_code_is_built_on_public_url_never_the_requests_host(app, client, auth, team, link):
    app.config["PUBLIC_URL"] = "https://invites.example.org"
    auth.login(team.owner)  # the test client asks http://localhost
    response = client.get(qr_urls(team.org, link)["svg"])
    assert response.status_code == 200
    _, modules = svg_modules(response.data)
    assert modules == expected_modules(f"https://invites.example.org/l/{link.shareable_token()}")
    page = client.get(qr_urls(team.org, link)["print"]).get_data(as_text=True)
    assert "https://invites.example.org/l/" in page and "localhost/l/" not in page


def test_the_member_who_made_a_members_only_link_gets_its_code(client, auth, team, make_link):
    from invites.groups.models import GroupMember
    from invites.groups.service import create_group

    safety = create_group(team.org, team.owner, "Safety")
    db.session.add(GroupMember(group_id=safety.id, user_id=team.member.id))
    db.session.commit()
    mias, _ = make_link(team.org, team.member, access=Access.MEMBERS, groups=[safety])
    auth.login(team.member)
    for url in qr_urls(team.org, mias).values():
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("who, expected", [
    ("member", 403), ("collaborator", 403), ("outsider", 404),
])
def test_others_are_refused_as_the_links_page_refuses_them(client, auth, team, link, who, expected):
    auth.login(getattr(team, who))
    assert client.get(f"/o/{team.org.slug}/links/{link.id}").status_code == expected
    for url in qr_urls(team.org, link).values():
        response = client.get(url)
        assert response.status_code == expected
        assert b"/l/" not in response.data


def test_visitors_are_sent_to_log_in(client, team, link):
    for url in qr_urls(team.org, link).values():
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login")


def test_another_organizations_link_is_404_even_to_its_owner(client, auth, team, link, make_user, make_org, make_link):
    rival = make_user(name="Rita Rival")
    rival_org = make_org(owner=rival, name="Rival Ventures")
    rivals_link, _ = make_link(rival_org, rival)
    auth.login(team.owner)
    for url in qr_urls(team.org, rivals_link).values():  # the rival's id under Acme's address
        assert client.get(url).status_code == 404
    auth.logout()
    auth.login(rival)
    for url in qr_urls(rival_org, link).values():  # Acme's id under the rival's address
        assert client.get(url).status_code == 404


def _deleted(team, link):
    service.delete_link(team.org, team.owner, link)
    db.session.commit()


def _expired(team, link):
    clock.freeze(clock.now() + timedelta(days=8))


def _used_up(team, link):
    link.max_uses = link.uses = 1
    db.session.commit()


def _address_lost(team, link):
    link.token_ciphertext = None  # a link made before links kept their address
    db.session.commit()


@pytest.mark.parametrize("make_dead, why", [
    (_deleted, "it is deleted"), (_expired, "it is expired"), (_used_up, "it is used up"),
    (_address_lost, "its address can't be shown again"),
])
def test_a_link_that_no_longer_works_has_no_code_a_clear_404(client, auth, team, link, make_dead, why):
    make_dead(team, link)
    auth.login(team.owner)
    for url in qr_urls(team.org, link).values():
        response = client.get(url)
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 404
        assert f"Invite link #{link.id} has no QR code: {why}." in page
        assert '<main id="main"' in page  # the app's layout
        assert "/l/" not in page
    page = client.get(f"/o/{team.org.slug}/links/{link.id}").get_data(as_text=True)
    assert "qr.svg" not in page
