"""``row_url`` (invites/urls.py): the URL ``url_for`` gives, built once per request."""
import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError

from invites import urls
from invites.urls import row_url

ROW_URLS = [
    ("invitations.resend", {"slug": "acme", "invitation_id": 12, "from_group": None}),
    ("invitations.cancel", {"slug": "acme", "invitation_id": 12, "from_group": 3}),
    ("orgs.change_role", {"slug": "acme", "membership_id": 7}),
    ("orgs.remove_member", {"slug": "acme", "membership_id": 0}),
    ("join_requests.decide", {"slug": "acme", "request_id": 5, "decision": "accept"}),
    ("links.show", {"slug": "acme", "link_id": 1234567}),
    ("groups.toggle_manager", {"slug": "acme", "group_id": 4, "user_id": 9}),
    ("imports.show", {"slug": "acme", "import_id": 2}),
    ("notifications.mark_read", {"notification_id": 31}),
]


@pytest.mark.parametrize("endpoint, values", ROW_URLS, ids=[e for e, _ in ROW_URLS])
def test_row_url_is_url_for(app, endpoint, values):
    with app.test_request_context("/"):
        assert row_url(endpoint, **values) == url_for(endpoint, **values)
        other = {k: v + 1 if type(v) is int else v for k, v in values.items()}
        assert row_url(endpoint, **other) == url_for(endpoint, **other)


def test_under_a_script_name_prefix(app):
    with app.test_request_context("/", base_url="http://localhost/invites/"):
        url = row_url("invitations.resend", slug="acme", invitation_id=8)
        assert url == url_for("invitations.resend", slug="acme", invitation_id=8)
        assert url == "/invites/o/acme/invitations/8/resend"


def test_each_request_builds_its_own(app):
    """The test client reuses one app context, so ``g`` can outlive a request: a template
    made under one script root is not used under another."""
    with app.test_request_context("/"):
        assert row_url("links.show", slug="acme", link_id=1) == "/o/acme/links/1"
    with app.test_request_context("/", base_url="http://localhost/x/"):
        assert row_url("links.show", slug="acme", link_id=1) == "/x/o/acme/links/1"


def test_extra_query_arguments(app):
    values = {"slug": "acme", "invitation_id": 8, "from_group": 3, "q": "a b&c=d", "page": "2"}
    with app.test_request_context("/"):
        url = row_url("invitations.resend", **values)
        assert url == url_for("invitations.resend", **values)
        assert url == "/o/acme/invitations/8/resend?from_group=3&q=a+b%26c%3Dd&page=2"


@pytest.mark.parametrize("slug", ["a b", "école/ü", "50%{0}#?&", "x" * 300])
def test_slugs_that_need_quoting(app, slug):
    with app.test_request_context("/"):
        for link_id in (1, 22):
            assert row_url("links.delete", slug=slug, link_id=link_id) == url_for(
                "links.delete", slug=slug, link_id=link_id)


def test_one_build_per_endpoint_and_fixed_arguments(app, monkeypatch):
    calls = []

    def counting_url_for(endpoint, **values):
        calls.append(endpoint)
        return url_for(endpoint, **values)

    monkeypatch.setattr(urls, "url_for", counting_url_for)
    with app.test_request_context("/"):
        for i in range(50):
            row_url("orgs.change_role", slug="acme", membership_id=i)
            row_url("orgs.remove_member", slug="acme", membership_id=i)
        assert calls == ["orgs.change_role", "orgs.remove_member"]
        row_url("orgs.change_role", slug="other", membership_id=1)
        assert len(calls) == 3


@pytest.mark.parametrize("values", [
    {"slug": "acme", "link_id": 3, "q": 1.5},        # a float: not written in
    {"slug": "acme", "link_id": 3, "flag": True},    # a bool is not an id
    {"slug": "acme", "link_id": 3, "tags": ["a", "b"]},
    {"slug": "acme", "link_id": 3, "_anchor": "top"},
    {"slug": "acme", "link_id": 3, "_external": True},
    {"slug": "7391846205000", "link_id": 3},        # the placeholder itself in the URL
    {"slug": "acme", "link_id": 3, "q": "7391846205000"},
])
def test_other_values_give_what_url_for_gives(app, values):
    with app.test_request_context("/"):
        assert row_url("links.show", **values) == url_for("links.show", **values)
        again = {**values, "link_id": 4}
        assert row_url("links.show", **again) == url_for("links.show", **again)


def test_what_url_for_refuses_is_refused(app):
    with app.test_request_context("/"):
        # A negative id is url_for's to write (werkzeug builds it; no route matches it).
        assert row_url("links.show", slug="acme", link_id=-1) == url_for("links.show", slug="acme", link_id=-1)
        with pytest.raises(BuildError):
            row_url("links.nowhere", slug="acme", link_id=1)
        with pytest.raises(BuildError):
            row_url("links.show", link_id=1)  # no slug


def test_converters_and_rules_that_write_ints_their_own_way():
    """A converter with fixed digits or bounds, a rule picked by a default value, and a
    string converter given an int all come out as url_for writes them."""
    app = Flask(__name__)

    @app.route("/padded/<int(fixed_digits=4):n>")
    def padded(n):
        return ""

    @app.route("/small/<int(max=10):n>")
    def small(n):
        return ""

    @app.route("/page", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def paged(n):
        return ""

    @app.route("/text/<name>")
    def text(name):
        return ""

    with app.test_request_context("/"):
        for endpoint, n in [("padded", 5), ("padded", 12345), ("small", 5), ("small", 10),
                            ("paged", 1), ("paged", 2)]:
            assert row_url(endpoint, n=n) == url_for(endpoint, n=n)
        assert row_url("padded", n=5) == "/padded/0005"
        assert row_url("paged", n=1) == "/page"
        assert row_url("text", name=3) == url_for("text", name=3) == "/text/3"


def test_relative_endpoints_go_to_url_for(app):
    with app.test_request_context("/o/acme/manage/links"):  # the "links" blueprint's page
        assert row_url(".show", slug="acme", link_id=2) == url_for("links.show", slug="acme", link_id=2)
        assert row_url(".show", slug="acme", link_id=2) == "/o/acme/links/2"
