"""Invite links bound to email domains (issue 19, part 1): set on "New Invite" beside the
uses and the expiry, stated on the link's pages, and enforced on every use: an address
elsewhere is refused with the rule, an unconfirmed one is asked to confirm first."""
from invites.activity.models import Activity
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.links.models import Access, InviteLink
from invites.orgs.models import Membership


def member_of(org, person):
    return db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=person.id))


def test_new_invite_takes_domains_with_uses_and_expiry(client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "7d", "access": Access.ANYONE, "role": "member", "max_uses": "30",
        "allowed_domains": "Example.COM\n@corp.test, *.Sub.Example.com example.com",
    })
    assert response.status_code == 302
    link = db.session.scalar(db.select(InviteLink))
    assert link.domains == ["example.com", "corp.test", "*.sub.example.com"]
    assert link.max_uses == 30 and link.expires_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Email domains" in page and "example.com, corp.test, *.sub.example.com" in page
    panel = client.get(f"/o/{team.org.slug}/manage/links").get_data(as_text=True)
    assert "at example.com, corp.test, *.sub.example.com" in panel
    summary = db.session.scalar(db.select(Activity.summary).filter_by(verb="link.created"))
    assert "at most 30 uses" in summary and "only example.com, corp.test, *.sub.example.com" in summary


def test_a_malformed_domain_is_a_form_error_and_makes_no_link(client, auth, team):
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/links/new", {
        "expiration": "7d", "access": Access.ANYONE, "role": "member", "allowed_domains": "example.com\nhttp://x.com",
    })
    assert response.status_code == 422
    assert "“http://x.com” is not a domain" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0


def test_a_confirmed_address_at_an_allowed_domain_joins(client, auth, team, make_user, make_link):
    link, token = make_link(team.org, team.owner, allowed_domains="example.com\n*.corp.test")
    for email in ("ann@example.com", "bob@eu.corp.test"):
        person = make_user(email=email)
        auth.login(person)
        page = client.get(f"/l/{token}").get_data(as_text=True)
        assert "For people with a confirmed email address at example.com, *.corp.test." in page
        assert client.post_form(f"/l/{token}/join").status_code == 302
        assert member_of(team.org, person) is not None
        auth.logout()
    assert db.session.get(InviteLink, link.id).uses == 2


def test_an_address_elsewhere_is_refused_with_the_rule_and_nothing_changes(client, auth, team, make_user, make_link):
    link, token = make_link(team.org, team.owner, allowed_domains="example.com\n*.corp.test", max_uses=5)
    # Look-alikes: a longer domain ending in the allowed one, a subdomain of a plain rule,
    # and the bare domain of a *. rule.
    for email in ("eve@example.com.evil.test", "sub@mail.example.com", "top@corp.test"):
        person = make_user(email=email)
        auth.login(person)
        page = client.get(f"/l/{token}")
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "accepts people with an email address at example.com, *.corp.test" in body
        assert f"address is at {email.split('@')[1]}." in body
        assert f'action="/l/{token}/join"' not in body  # no Join button to press
        response = client.post_form(f"/l/{token}/join")
        assert response.status_code == 403
        assert "accepts people with an email address at example.com" in response.get_data(as_text=True)
        assert member_of(team.org, person) is None
        auth.logout()
    assert db.session.get(InviteLink, link.id).uses == 0
    assert db.session.scalar(db.select(db.func.count(Activity.id)).filter_by(verb="link.used")) == 0


def test_an_unconfirmed_address_confirms_first_by_mail_then_joins(client, auth, team, make_user, make_link, smtp):
    link, token = make_link(team.org, team.owner, allowed_domains="example.com")
    person = make_user(email="new@example.com", verified=False)
    auth.login(person)
    response = client.post_form(f"/l/{token}/join")
    body = response.get_data(as_text=True)
    assert response.status_code == 403 and "Confirm your email address first" in body
    assert "I have confirmed it: Join" in body
    assert member_of(team.org, person) is None
    [mail] = smtp.to("new@example.com")
    assert mail["Subject"] == "Confirm your email address"
    [verify] = [u for u in smtp.links(mail) if "/verify/" in u]
    client.post_form(verify.split("localhost", 1)[1])
    assert client.post_form(f"/l/{token}/join").status_code == 302
    assert member_of(team.org, person) is not None
    assert db.session.get(InviteLink, link.id).uses == 1


def test_members_only_link_with_domains_binds_members_too(client, auth, team, make_user, make_link, add_member):
    """A member adding themselves to a group through a domain-bound link is held to its
    domains as well: the link says who it is for."""
    from invites.groups.service import create_group

    group = create_group(team.org, team.owner, "Cohort A")
    db.session.commit()
    _, token = make_link(team.org, team.owner, access=Access.MEMBERS, groups=[group], allowed_domains="corp.test")
    auth.login(team.member)  # team members' addresses are at example.com
    response = client.post_form(f"/l/{token}/join")
    assert response.status_code == 403 and "accepts people with an email address at corp.test" in response.get_data(as_text=True)
    insider = make_user(email="ida@corp.test")
    add_member(team.org, insider, "member")
    auth.logout()
    auth.login(insider)
    assert client.post_form(f"/l/{token}/join").status_code == 302
    assert db.session.scalar(db.select(GroupMember).filter_by(group_id=group.id, user_id=insider.id)) is not None
    assert db.session.scalar(db.select(GroupMember).filter_by(group_id=group.id, user_id=team.member.id)) is None


def test_logged_out_visitors_read_the_rule_before_logging_in(client, team, make_link):
    _, token = make_link(team.org, team.owner, allowed_domains="example.com")
    body = client.get(f"/l/{token}").get_data(as_text=True)
    assert "For people with a confirmed email address at example.com." in body
    assert "Create an account" in body
