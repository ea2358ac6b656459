"""F1: an account that registered with someone else's address, never confirmed, neither
reads nor answers the invitations sent to it; the emailed link still works."""
from invites.extensions import db
from invites.invitations.models import Invitation, Status
from invites.notifications.models import Notification
from invites.orgs.models import Membership

VICTIM = "victim@v.test"


def squat(client):
    """The review's first request: register with the victim's address."""
    response = client.post_form("/register", {
        "name": "Squatter", "username": "squat1", "email": VICTIM,
        "password": "squatter password", "confirm": "squatter password",
    })
    assert response.status_code == 302
    return db.session.scalar(db.select(Notification.id).limit(1))


def test_an_unconfirmed_squatter_neither_sees_nor_declines_the_invitation(client, team, make_invitation, smtp):
    invitation, _ = make_invitation(team.org, team.owner, VICTIM, message="secret message B")
    squat(client)

    home = client.get("/").get_data(as_text=True)
    assert "Acme Training" not in home and "secret message B" not in home
    assert db.session.scalar(db.select(Notification).filter_by(invitation_id=invitation.id)) is None
    notifications = client.get("/notifications").get_data(as_text=True)
    assert "Acme Training" not in notifications

    for answer in ("accept", "decline"):
        response = client.post_form(f"/invitations/{invitation.id}/{answer}", htmx=True)
        assert response.status_code == 404
        assert "Acme Training" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).status == Status.PENDING
    assert not any(VICTIM in m["Subject"] for m in smtp.messages if "declined" in m["Subject"])
    assert db.session.scalar(db.select(Notification).filter_by(user_id=team.owner.id)) is None


def test_a_new_invitation_does_not_ring_an_unconfirmed_accounts_bell(client, team, make_invitation):
    squat(client)
    invitation, _ = make_invitation(team.org, team.owner, VICTIM)
    make_invitation(team.org, team.owner, VICTIM)  # a resend rings again, for the confirmed only
    assert db.session.scalar(db.select(Notification).filter_by(invitation_id=invitation.id)) is None
    assert 'class="badge bell-count"' not in client.get("/").get_data(as_text=True)


def test_declining_from_the_bell_is_checked_like_accepting(app, team, make_user, make_invitation):
    from invites.invitations import answering

    squatter = make_user(email=VICTIM, verified=False)
    invitation, _ = make_invitation(team.org, team.owner, VICTIM)
    for answer in (answering.accept_invitation, answering.decline_invitation):
        try:
            answer(invitation, squatter)
        except answering.InvitationUnavailable as error:
            assert error.reason == "unverified"
        else:
            raise AssertionError(f"{answer.__name__} let an unconfirmed account answer")
        db.session.rollback()
    # Without an account, only the emailed link may decline.
    try:
        answering.decline_invitation(invitation, None)
    except answering.InvitationUnavailable as error:
        assert error.reason == "unverified"
    else:
        raise AssertionError("declined without the link")


def test_confirming_the_address_brings_the_invitations_into_view(client, team, make_user, make_invitation):
    from invites.invitations.answering import confirm_address

    person = make_user(email=VICTIM, verified=False)
    invitation, _ = make_invitation(team.org, team.owner, VICTIM)
    confirm_address(person)
    db.session.commit()
    [bell] = db.session.scalars(db.select(Notification).filter_by(user_id=person.id)).all()
    assert bell.invitation_id == invitation.id and "Acme Training" in bell.text


def test_the_emailed_link_proves_the_mailbox_and_still_answers(client, team, make_invitation):
    declined, declined_token = make_invitation(team.org, team.owner, VICTIM)
    squat(client)
    page = client.get(f"/i/{declined_token}")
    assert page.status_code == 200 and "Acme Training" in page.get_data(as_text=True)
    response = client.post_form(f"/i/{declined_token}/decline")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Invitation, declined.id).status == Status.DECLINED

    accepted, accepted_token = make_invitation(team.org, team.manager, VICTIM)
    response = client.post_form(f"/i/{accepted_token}/accept")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Invitation, accepted.id).status == Status.ACCEPTED
    user_id = db.session.get(Invitation, accepted.id).accepted_user_id
    assert db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=user_id))
