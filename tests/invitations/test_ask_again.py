"""Issue 18, part 4: "Ask for a new invitation" from a dead invitation or invite link.

An expired or cancelled invitation, and an expired or used-up invite link, offer it; it
becomes a join request (without a join request link) that every owner and manager hears
of, in the bell and by mail (a real SMTP server), and the join request rules apply: a
rejected person may not ask again, a dismissed one may. The page tells nobody anything
about the organization beyond what it said before.
"""
from datetime import timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.extensions import db
from invites.invitations import sending
from invites.join_requests import service as join_requests
from invites.join_requests.models import JoinRequest, RequestStatus
from invites.links import service as links
from invites.notifications.models import Notification
from invites.orgs.models import Membership

BUTTON = "Ask for a new invitation"


@pytest.fixture
def dead_invitation(app, team, make_invitation):
    """Make an invitation to the outsider dead in one of the two ways that offer asking."""

    def make(how):
        invitation, token = make_invitation(team.org, team.owner, team.outsider.email)
        if how == "expired":
            clock.freeze(invitation.expires_at + timedelta(minutes=1))
        else:
            with app.test_request_context():
                sending.cancel_invitation(team.org, team.owner, invitation)
            db.session.commit()
        return f"/i/{token}"

    return make


@pytest.fixture
def dead_link(app, team, make_link):
    """An "anyone" invite link of Acme, expired or used up."""

    def make(how):
        if how == "expired":
            link, token = make_link(team.org, team.manager, expiration="1d")
            clock.freeze(link.expires_at + timedelta(minutes=1))
        else:
            link, token = make_link(team.org, team.manager, max_uses=1)
            link.uses = 1
            db.session.commit()
        return f"/l/{token}"

    return make


def requests_of(user):
    return db.session.scalars(db.select(JoinRequest).filter_by(user_id=user.id)).all()


def ask(client, page_url):
    return client.post_form(f"{page_url}/ask")


@pytest.mark.parametrize("kind, how", [
    ("invitation", "expired"), ("invitation", "cancelled"), ("link", "expired"), ("link", "used_up"),
])
def test_asking_from_a_dead_page_makes_a_join_request_that_staff_hear_of(
    request, client, auth, team, smtp, kind, how,
):
    page_url = request.getfixturevalue(f"dead_{kind}")(how)
    smtp.messages.clear()  # the invitation's own mail
    auth.login(team.outsider)
    page = client.get(page_url)
    assert page.status_code == 410 and BUTTON in page.get_data(as_text=True)

    response = ask(client, page_url)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "You asked to join Acme Training" in client.get("/").get_data(as_text=True)

    [made] = requests_of(team.outsider)
    assert (made.org_id, made.link_id, made.status) == (team.org.id, None, RequestStatus.PENDING)
    dead_way = {"expired": "an expired", "cancelled": "a cancelled", "used_up": "a used-up"}[how]
    dead_way += " invitation" if kind == "invitation" else " invite link"
    line = db.session.scalar(db.select(Activity).filter_by(verb="join_request.made"))
    assert line.summary == f"asked to join from {dead_way}"
    # No setting names who hears of these: every owner and manager, in the bell and by mail.
    rung = db.session.scalars(db.select(Notification).filter_by(kind="join_request")).all()
    assert {n.user_id for n in rung} == {team.owner.id, team.manager.id}
    assert all(n.text == f"Otto Outsider asked to join Acme Training from {dead_way}." for n in rung)
    assert {m["To"] for m in smtp.messages} == {team.owner.email, team.manager.email}
    assert all("Otto Outsider asked to join Acme Training" in m["Subject"] for m in smtp.messages)

    # Staff accept it like any request without a link: Member, no groups.
    with client.application.test_request_context():
        join_requests.accept_request(team.org, team.owner, made)
    db.session.commit()
    membership = db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=team.outsider.id))
    assert membership.role == "member"


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_answered_invitation_offers_nothing(client, auth, team, make_user, make_invitation, answer):
    invitation, token = make_invitation(team.org, team.owner, team.outsider.email)
    auth.login(team.outsider)
    client.post_form(f"/i/{token}/{answer}")
    auth.logout()
    someone = make_user(name="Sid Someone")
    auth.login(someone)
    page = client.get(f"/i/{token}")
    assert page.status_code == 410 and BUTTON not in page.get_data(as_text=True)
    assert ask(client, f"/i/{token}").headers["Location"] == f"/i/{token}"
    assert requests_of(someone) == []


def test_an_open_invitation_or_a_deleted_link_offers_nothing(app, client, auth, team, make_invitation, make_link):
    _, token = make_invitation(team.org, team.owner, team.outsider.email)
    link, link_token = make_link(team.org, team.manager)
    with app.test_request_context():
        links.delete_link(team.org, team.manager, link)
    db.session.commit()
    auth.login(team.outsider)
    assert BUTTON not in client.get(f"/i/{token}").get_data(as_text=True)
    assert ask(client, f"/i/{token}").headers["Location"] == f"/i/{token}"
    deleted = client.get(f"/l/{link_token}")
    assert deleted.status_code == 410 and BUTTON not in deleted.get_data(as_text=True)
    assert ask(client, f"/l/{link_token}").headers["Location"] == f"/l/{link_token}"
    assert requests_of(team.outsider) == []


@pytest.mark.parametrize("prefix", ["/i", "/l"])
def test_an_unknown_token_is_404_and_offers_nothing(client, auth, team, prefix):
    page = client.get(f"{prefix}/no-such-token")
    assert page.status_code == 404 and BUTTON not in page.get_data(as_text=True)
    assert ask(client, f"{prefix}/no-such-token").status_code == 404
    auth.login(team.outsider)
    assert ask(client, f"{prefix}/no-such-token").status_code == 404
    assert db.session.scalar(db.select(db.func.count(JoinRequest.id))) == 0


def test_a_visitor_logs_in_and_comes_back_to_ask(client, team, dead_invitation):
    page_url = dead_invitation("expired")
    html = client.get(page_url).get_data(as_text=True)
    assert "Log in to ask for a new invitation" in html and f"next={page_url}" in html
    response = ask(client, page_url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login = client.post_form(f"/login?next={page_url}", {"email": team.outsider.email, "password": "correct horse battery"})
    assert login.headers["Location"] == page_url
    assert ask(client, page_url).headers["Location"] == "/"
    assert len(requests_of(team.outsider)) == 1


def test_the_join_request_rules_hold(app, client, auth, team, dead_invitation, dead_link):
    invitation_url, link_url = dead_invitation("expired"), dead_link("used_up")
    auth.login(team.outsider)
    ask(client, invitation_url)
    # Pending: one request per person, whichever dead page they ask from.
    again = ask(client, link_url)
    assert again.headers["Location"] == link_url
    assert "Your request is waiting for an answer." in client.get(link_url).get_data(as_text=True)
    [waiting] = requests_of(team.outsider)

    # Dismissed: forgotten, so they may ask again.
    with app.test_request_context():
        join_requests.dismiss_request(team.org, team.owner, waiting)
    db.session.commit()
    assert ask(client, link_url).headers["Location"] == "/"
    [waiting] = requests_of(team.outsider)

    # Rejected: no new request through any way, this one included.
    with app.test_request_context():
        join_requests.reject_request(team.org, team.owner, waiting)
    db.session.commit()
    assert ask(client, invitation_url).headers["Location"] == invitation_url
    assert "Your earlier request was not accepted." in client.get(invitation_url).get_data(as_text=True)
    assert [r.status for r in requests_of(team.outsider)] == [RequestStatus.REJECTED]


@pytest.mark.parametrize("kind, how", [("invitation", "expired"), ("link", "used_up")])
def test_the_page_reveals_nothing_more_about_the_organization(request, client, auth, team, kind, how):
    page_url = request.getfixturevalue(f"dead_{kind}")(how)
    for who in (None, team.outsider):
        if who is not None:
            auth.login(who)
        html = client.get(page_url).get_data(as_text=True)
        assert BUTTON in html or "Log in to ask" in html
        # The inviter (or the link's creator) was named before; nobody else is.
        hidden = [team.member, team.collaborator] + ([team.manager] if kind == "invitation" else [team.owner])
        for person in hidden:
            assert person.name not in html and person.email not in html
        assert "member" not in html.lower().replace("remember", "")
    auth.login(team.outsider)
    ask(client, page_url)
    dashboard = client.get("/").get_data(as_text=True)
    for name in (team.owner.name, team.manager.name, team.member.name):
        assert name not in dashboard


def test_a_member_asking_is_sent_to_the_organization(client, auth, team, dead_link):
    link_url = dead_link("expired")
    auth.login(team.member)
    response = ask(client, link_url)
    assert response.headers["Location"] == f"/o/{team.org.slug}"
    assert "You are already a member of Acme Training." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert requests_of(team.member) == []
