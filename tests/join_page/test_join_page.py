"""The Join Web Page (F13): the panel, the public page, email-domain whitelisting, and the
premium plan."""
import pytest

from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.join_page import service
from invites.join_page.models import JoinPage
from invites.orgs.models import Membership, Role


@pytest.fixture
def premium(team):
    team.org.plan = "premium"
    db.session.commit()
    return team.org


def configure(client, auth, team, **fields):
    auth.login(team.owner)
    data = {"enabled": "y", "slug": "acme-join", "allowed_domains": "", **fields}
    response = client.post_form(f"/o/{team.org.slug}/manage/join-page", data)
    auth.logout()
    return response


def member_of(org, user):
    return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=user.id))


def test_off_by_default_and_404_until_turned_on(client, auth, team, premium):
    auth.login(team.owner)
    page = client.get(f"/o/{team.org.slug}/manage/join-page").get_data(as_text=True)
    assert "Copy to Clipboard" in page and "/join/acme-training" in page and ">Off<" in page
    auth.logout()
    assert client.get("/join/acme-training").status_code == 404
    assert configure(client, auth, team).status_code == 302
    response = client.get("/join/acme-join")
    assert response.status_code == 200 and "Join Acme Training" in response.get_data(as_text=True)
    assert client.get("/join/acme-training").status_code == 404  # the old address is retired


def test_anyone_joins_as_member_with_the_default_groups(client, auth, team, premium, make_user):
    group = create_group(team.org, team.owner, "Learners")
    db.session.commit()
    configure(client, auth, team, groups=[str(group.id)])
    visitor = make_user(email="walkin@anywhere.test", verified=False)
    page = client.get("/join/acme-join").get_data(as_text=True)
    assert "Create an account" in page and "next=/join/acme-join" in page.replace("%2F", "/")
    auth.login(visitor)
    response = client.post_form("/join/acme-join")
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}"
    assert member_of(team.org, visitor).role == Role.MEMBER
    assert db.session.get(GroupMember, (group.id, visitor.id)) is not None
    again = client.get("/join/acme-join").get_data(as_text=True)
    assert "You are already a member of Acme Training." in again
    assert "join_page.joined" in set(db.session.scalars(db.select(Activity.verb)))


def test_whitelist_allowed_and_verified_joins(client, auth, team, premium, make_user):
    configure(client, auth, team, allowed_domains="example.com\n*.corp.test")
    for email in ("ann@example.com", "bob@eu.corp.test"):
        person = make_user(email=email)
        auth.login(person)
        assert client.post_form("/join/acme-join").status_code == 302
        assert member_of(team.org, person) is not None
        auth.logout()


def test_whitelist_unverified_gets_a_confirmation_mail_first(client, auth, team, premium, make_user, smtp):
    configure(client, auth, team, allowed_domains="example.com")
    person = make_user(email="new@example.com", verified=False)
    auth.login(person)
    response = client.post_form("/join/acme-join")
    assert response.status_code == 403 and "Confirm your email address first" in response.get_data(as_text=True)
    assert member_of(team.org, person) is None
    [mail] = smtp.to("new@example.com")
    assert mail["Subject"] == "Confirm your email address"
    # Following the confirmation link, then pressing Join again, works.
    [link] = [u for u in smtp.links(mail) if "/verify/" in u]
    client.post_form(link.split("localhost", 1)[1])
    assert client.post_form("/join/acme-join").status_code == 302
    assert member_of(team.org, person) is not None


def test_whitelist_other_domain_is_refused_with_the_rule_and_nothing_else(client, auth, team, premium, make_user):
    configure(client, auth, team, allowed_domains="example.com")
    outsider = make_user(email="eve@example.com.evil.test")
    subdomain = make_user(email="sub@mail.example.com")
    for person in (outsider, subdomain):  # subdomains are not implied
        auth.login(person)
        response = client.post_form("/join/acme-join")
        body = response.get_data(as_text=True)
        assert response.status_code == 403 and "accepts people with an email address at example.com" in body
        assert team.member.email not in body and team.owner.name not in body
        assert member_of(team.org, person) is None
        auth.logout()


def test_free_plan_answers_404_and_the_panel_refuses(client, auth, team, premium, make_user):
    configure(client, auth, team)
    team.org.plan = "free"
    db.session.commit()
    assert client.get("/join/acme-join").status_code == 404
    person = make_user()
    auth.login(person)
    assert client.post_form("/join/acme-join").status_code == 404
    assert member_of(team.org, person) is None
    auth.logout()
    auth.login(team.owner)
    page = client.get(f"/o/{team.org.slug}/manage/join-page").get_data(as_text=True)
    assert "part of the premium plan" in page and "<form method=\"post\" novalidate>" not in page
    response = client.post_form(f"/o/{team.org.slug}/manage/join-page", {"enabled": "y", "slug": "other"})
    assert response.status_code == 403
    assert db.session.scalar(db.select(JoinPage.slug)) == "acme-join"


@pytest.mark.parametrize("who, status", [("manager", 403), ("member", 403), ("outsider", 404)])
def test_only_owners_manage_the_page(client, auth, team, premium, who, status):
    auth.login(getattr(team, who))
    assert client.get(f"/o/{team.org.slug}/manage/join-page").status_code == status
    assert client.post_form(f"/o/{team.org.slug}/manage/join-page", {"enabled": "y", "slug": "x-y"}).status_code == status


def test_slug_and_domain_validation(client, auth, team, premium, make_org, make_user):
    other = make_org(owner=make_user(), name="Other", plan="premium")
    service.update_page(other, None, service.page_of(other), enabled=True, slug="taken", groups=[], allowed_domains="")
    db.session.commit()
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/manage/join-page"
    for data, message in [
        ({"slug": "Bad Slug!"}, "lower-case letters"),
        ({"slug": "login"}, "reserved"),
        ({"slug": "taken"}, "taken"),
        ({"slug": "fine", "allowed_domains": "example"}, "is not a domain"),
        ({"slug": "fine", "allowed_domains": "exa mple.com, http://x.com"}, "is not a domain"),
    ]:
        response = client.post_form(url, {"enabled": "y", **data})
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    assert service.parse_domains("Example.COM\n@corp.test *.Sub.Example.com example.com") == [
        "example.com", "corp.test", "*.sub.example.com"]
    with pytest.raises(DomainError):
        service.parse_domains("*.*.example.com")


def test_changes_are_recorded(client, auth, team, premium):
    configure(client, auth, team, allowed_domains="example.com")
    configure(client, auth, team, enabled="", slug="acme-new", allowed_domains="example.com")
    verbs = [v for v in db.session.scalars(db.select(Activity.verb).order_by(Activity.id)) if v.startswith("join_page.")]
    assert verbs == ["join_page.toggled", "join_page.slug_changed", "join_page.whitelist_changed",
                     "join_page.toggled", "join_page.slug_changed"]
