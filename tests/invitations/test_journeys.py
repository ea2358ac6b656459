"""Email invitations end to end through a real SMTP server: send, read the messages that
arrived, follow their links, register, accept, decline, cancel."""
from urllib.parse import urlsplit

from invites.activity.models import Activity
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.invitations.models import Invitation, Status
from invites.orgs.models import Membership, Role
from tests.conftest import PASSWORD


def path_of(url):
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def invitation_link(smtp, address):
    [message] = smtp.to(address)
    [link] = [url for url in smtp.links(message) if "/i/" in url]
    return path_of(link)


def status_of(email):
    invitation = db.session.scalar(db.select(Invitation).filter_by(email=email))
    db.session.refresh(invitation)
    return invitation.status


def test_three_invitations_accepted_declined_and_cancelled(app, client, auth, smtp, team, make_user):
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    auth.login(team.manager)

    response = client.post_form(f"/o/{team.org.slug}/invitations/new", {
        "addresses": "Ann Lee <Ann@Example.com>; bob@example.com\ncarl@example.com",
        "role": Role.MEMBER,
        "groups": [str(group.id)],
        "message": "Welcome aboard!",
    }, follow_redirects=True)
    assert response.status_code == 200 and response.request.path.endswith("/invitations/new")
    page = response.get_data(as_text=True)
    assert page.count("Invitation sent.") == 3
    assert len(smtp.messages) == 3 and smtp.connection_count == 1

    # The mail names the organization, inviter, role, groups, message, expiry and link.
    [ann_mail] = smtp.to("ann@example.com")
    text = smtp.text(ann_mail)
    for expected in ("Max Manager", "Acme", "as Member", "New Hires", "Welcome aboard!", "expires on"):
        assert expected in text, expected
    assert ann_mail["Subject"] == "Max Manager invited you to join Acme Training"
    links = {address: invitation_link(smtp, address)
             for address in ("ann@example.com", "bob@example.com", "carl@example.com")}
    auth.logout()

    # Ann: opens the link (nothing changes), registers with the address locked, accepts.
    page = client.get(links["ann@example.com"]).get_data(as_text=True)
    assert "Max Manager" in page and "Acme Training" in page and "New Hires" in page
    assert status_of("ann@example.com") == Status.PENDING
    register = client.get(f"{links['ann@example.com']}/register").get_data(as_text=True)
    assert 'value="ann@example.com"' in register and "readonly" in register
    response = client.post_form(f"{links['ann@example.com']}/register", {
        "name": "Ann Lee", "username": "ann", "email": "mallory@evil.example",
        "password": PASSWORD, "confirm": PASSWORD,
    })
    assert response.status_code == 302 and response.location == links["ann@example.com"]
    response = client.post_form(f"{links['ann@example.com']}/accept")
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}"
    ann = db.session.scalar(db.select(Membership).join(Membership.user).filter_by(email="ann@example.com"))
    assert ann.role == Role.MEMBER and ann.org_id == team.org.id
    assert ann.user.is_verified  # following the emailed link proved the address
    assert db.session.get(GroupMember, (group.id, ann.user_id)) is not None
    assert status_of("ann@example.com") == Status.ACCEPTED
    # A second accept is harmless: still one membership, back to the organization.
    response = client.post_form(f"{links['ann@example.com']}/accept")
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}"
    assert db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(user_id=ann.user_id)) == 1
    # The inviter heard about it by mail.
    assert any("Ann Lee accepted" in m["Subject"] for m in smtp.to(team.manager.email))
    auth.logout()
    # Used once: the link now explains that it was accepted already.
    response = client.get(links["ann@example.com"])
    assert response.status_code == 410 and "already been accepted" in response.get_data(as_text=True)

    # Bob declines without an account.
    response = client.post_form(f"{links['bob@example.com']}/decline")
    assert response.status_code == 200 and "Invitation declined" in response.get_data(as_text=True)
    assert status_of("bob@example.com") == Status.DECLINED
    assert any("bob@example.com declined" in m["Subject"] for m in smtp.to(team.manager.email))
    response = client.get(links["bob@example.com"])
    assert response.status_code == 410 and "was declined" in response.get_data(as_text=True)

    # Carl's invitation is cancelled by the manager; then his link is refused.
    auth.login(team.manager)
    carl = db.session.scalar(db.select(Invitation).filter_by(email="carl@example.com"))
    response = client.post_form(f"/o/{team.org.slug}/invitations/{carl.id}/cancel",
                                {"confirmed": "yes"}, htmx=True)
    assert response.status_code == 200 and "Cancelled" in response.get_data(as_text=True)
    auth.logout()
    response = client.get(links["carl@example.com"])
    assert response.status_code == 410 and "was cancelled" in response.get_data(as_text=True)
    response = client.post_form(f"{links['carl@example.com']}/accept")
    assert response.status_code == 410
    assert db.session.scalar(db.select(Membership).join(Membership.user).filter_by(email="carl@example.com")) is None

    verbs = set(db.session.scalars(db.select(Activity.verb).filter_by(org_id=team.org.id)))
    assert {"invitation.sent", "invitation.accepted", "invitation.declined", "invitation.cancelled"} <= verbs


def test_existing_user_logs_in_from_the_link_and_accepts(app, client, auth, smtp, team, make_user):
    person = make_user(name="Pat Existing", email="pat@example.com")
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/invitations/new", {"addresses": "pat@example.com", "role": Role.MANAGER})
    auth.logout()
    link = invitation_link(smtp, "pat@example.com")
    page = client.get(link).get_data(as_text=True)
    assert "Log in to accept" in page and "Create an account" not in page
    # Registering again with the address is not offered: it sends them to log in.
    response = client.get(f"{link}/register")
    assert response.status_code == 302 and "/login" in response.location
    auth.login(person)
    response = client.post_form(f"{link}/accept")
    assert response.status_code == 302
    membership = db.session.scalar(db.select(Membership).filter_by(user_id=person.id, org_id=team.org.id))
    assert membership.role == Role.MANAGER


def test_opening_the_link_changes_nothing(app, client, team, make_invitation):
    invitation, token = make_invitation(team.org, team.owner, "dora@example.com")
    before = invitation.updated_at
    for _ in range(3):
        assert client.get(f"/i/{token}").status_code == 200
    db.session.refresh(invitation)
    assert invitation.status == Status.PENDING and invitation.updated_at == before


def test_refusal_pages(app, client, auth, team, make_user, make_invitation):
    from datetime import timedelta

    from invites import clock

    _, unknown = None, "x" * 43
    response = client.get(f"/i/{unknown}")
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)

    _, token = make_invitation(team.org, team.owner, "eve@example.com")
    clock.freeze(clock.now() + timedelta(days=15))
    response = client.get(f"/i/{token}")
    assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)
    assert "Resend" in response.get_data(as_text=True)
    clock.unfreeze()

    invitation, token = make_invitation(team.org, team.owner, "fay@example.com")
    someone_else = make_user(name="Someone Else", email="someone@example.com")
    auth.login(someone_else)
    response = client.get(f"/i/{token}")
    assert response.status_code == 403
    assert "for another email address" in response.get_data(as_text=True)
    response = client.post_form(f"/i/{token}/accept")
    assert response.status_code == 403
    db.session.refresh(invitation)
    assert invitation.status == Status.PENDING
    assert db.session.scalar(db.select(Membership).filter_by(user_id=someone_else.id)) is None


def test_a_name_with_a_line_break_cannot_inject_mail_headers(app, client, auth, smtp, team, make_user, make_invitation):
    person = make_user(name="Eve\r\nBcc: victim@example.com", email="eve@example.com")
    _, token = make_invitation(team.org, team.manager, "eve@example.com")
    auth.login(person)
    response = client.post_form(f"/i/{token}/accept")
    assert response.status_code == 302
    [told] = [m for m in smtp.to(team.manager.email) if "accepted" in m["Subject"]]
    assert told["Bcc"] is None and "\n" not in told["Subject"]
    assert all("victim@example.com" not in m["To"] for m in smtp.messages)
