"""Fuzzed input (hypothesis): every form's fields with unicode, very long strings, control
characters and HTML/script never give an error 500 and never come back unescaped; the
spreadsheet parser takes random and malformed bytes without crashing."""
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invites.errors import DomainError
from invites.extensions import db
from invites.groups.service import create_group
from invites.imports.spreadsheet import read_rows

SCRIPT = "<script>alert(1)</script>"
nasty = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=50),
    st.integers(3000, 6000).map(lambda n: ("ab<>&\"'é中 " * (n // 9 + 1))[:n]),  # very long
    st.sampled_from([SCRIPT, '"><img src=x onerror=alert(1)>', "=HYPERLINK(\"http://x\")", "\x00", "\r\nBcc: x@y.z",
                     "a@b.c" * 300, "@", "<>", "ﬀ@ﬀ.com", "user@[127.0.0.1]"]),
).map(lambda s: s.replace("\x00", ""))  # browsers never send NUL in form fields
FUZZ = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def world(app, client, auth, team):
    team.org.plan = "premium"
    group = create_group(team.org, team.owner, "G")
    db.session.commit()
    auth.login(team.owner)
    slug = team.org.slug
    return {
        f"/o/{slug}/invitations/new": ["addresses", "role", "message"],
        f"/o/{slug}/invitations/preview": ["addresses", "role", "message"],
        f"/o/{slug}/links/new": ["expiration", "custom_date", "access", "role", "max_uses"],
        f"/o/{slug}/join-links/new": ["description", "role", "notify", "group_to_add"],
        f"/o/{slug}/manage/join-page": ["slug", "allowed_domains"],
        f"/o/{slug}/manage/invitations/email": ["invitation_subject", "invitation_intro"],
        f"/o/{slug}/manage/permissions": ["invitation_lifetime_days"],
        f"/o/{slug}/groups": ["name", "join_method"],
        f"/o/{slug}/groups/{group.id}/members": ["person"],
        "/orgs/new": ["name", "slug", "description"],
    }


def check(response):
    body = response.get_data(as_text=True)
    assert response.status_code < 500, body[-1000:]
    # The markup itself must never come back unescaped (its words may, as text).
    assert SCRIPT not in body and "<img src=x onerror" not in body


@FUZZ
@given(data=st.data())
def test_every_form_takes_anything(world, client, data):
    for url, fields in world.items():
        values = {name: data.draw(nasty, label=f"{url} {name}") for name in fields}
        check(client.post_form(url, values))
        check(client.post_form(url, values, htmx=True))


@FUZZ
@given(fields=st.fixed_dictionaries({k: nasty for k in ("name", "username", "email", "password", "confirm")}))
def test_registration_and_login_take_anything(client, auth, fields):
    auth.logout()
    check(client.post_form("/register", fields))
    client.post_form("/logout")
    check(client.post_form("/login", {"email": fields["email"], "password": fields["password"]}))


@FUZZ
@given(token=st.text(max_size=300), message=nasty)
def test_token_pages_take_anything(client, token, message):
    token = token.replace("/", "").replace("\x00", "") or "x"
    for prefix in ("/i/", "/l/", "/r/", "/join/"):
        response = client.get(prefix + token)
        check(response)
        assert response.status_code in (200, 302, 404, 405, 410), (prefix, response.status_code)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000), name=st.sampled_from(["a.csv", "a.xlsx", "a.txt", ""]))
def test_the_spreadsheet_parser_takes_random_bytes(data, name):
    try:
        read_rows(name, data)
    except DomainError as error:
        assert error.field == "file" and error.message


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(st.text(max_size=40), max_size=6), max_size=30), sep=st.sampled_from([",", ";", "\t"]))
def test_malformed_csv_and_xlsx(rows, sep):
    text = "\n".join(sep.join(cells) for cells in [["email", "groups"]] + rows)
    for name, data in (("a.csv", text.encode("utf-8", "replace")), ("a.xlsx", b"PK\x03\x04" + text.encode("utf-8", "replace"))):
        try:
            read_rows(name, data)
        except DomainError as error:
            assert error.field == "file"


def test_uploading_random_bytes_is_a_form_error(client, auth, team):
    team.org.plan = "premium"
    db.session.commit()
    auth.login(team.owner)
    for data in (b"\x00\x01\x02" * 100, b"PK\x03\x04\x00\x00", "é,ü\n".encode("utf-16")):
        response = client.post_form(f"/o/{team.org.slug}/imports", {"file": (io.BytesIO(data), "x.csv")},
                                    content_type="multipart/form-data")
        assert response.status_code == 422
