"""The invitation rules, called directly (no HTTP): parsing, who may invite whom, states,
tokens, delivery failures and accepting."""
import hashlib
from datetime import timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import add_to_group, create_group
from invites.invitations import addresses, answering, messages, queries, sending
from invites.invitations.models import Invitation, Status
from invites.notifications.models import Notification
from invites.orgs.models import Membership, Role


@pytest.fixture
def ctx(app):
    """Services build links with url_for, as they do inside a request."""
    with app.test_request_context():
        yield


def send(org, inviter, addresses, role=Role.MEMBER, groups=(), message=""):
    outcomes = sending.send_invitations(org, inviter, addresses, role, list(groups), message, commit=db.session.commit)
    db.session.commit()
    return {o.address: o for o in outcomes}


@pytest.mark.parametrize("text, expected", [
    ("a@x.com, b@x.com; c@x.com d@x.com\ne@x.com", ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"]),
    ("Ann Lee <ann@x.com>, Bob <bob@x.com>", ["ann@x.com", "bob@x.com"]),
    ("  first@x.com   <second@x.com>  ", ["first@x.com", "second@x.com"]),
    ("@max, mia", ["@max", "mia"]),
    ("", []),
])
def test_split_entries(text, expected):
    assert addresses.split_entries(text) == expected


def test_addresses_are_trimmed_lowercased_and_folded(ctx, team, smtp):
    outcomes = send(team.org, team.owner, " Ann@Example.COM, ann@example.com ; <ANN@example.com>")
    assert list(outcomes) == ["ann@example.com"]
    assert len(smtp.messages) == 1


def test_at_most_ten_addresses_and_at_least_one(ctx, team):
    eleven = ", ".join(f"p{i}@example.com" for i in range(11))
    with pytest.raises(DomainError, match="at most 10"):
        sending.send_invitations(team.org, team.owner, eleven, Role.MEMBER, [], commit=db.session.commit)
    with pytest.raises(DomainError, match="at least one"):
        sending.send_invitations(team.org, team.owner, " ,; ", Role.MEMBER, [], commit=db.session.commit)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0
    ten = ", ".join(f"p{i}@example.com" for i in range(10))
    assert len(send(team.org, team.owner, ten)) == 10


def test_a_mixed_batch_says_what_happened_to_each_address(ctx, team, smtp, make_invitation):
    _, old_token = make_invitation(team.org, team.owner, "pending@example.com")
    smtp.messages.clear()
    outcomes = send(team.org, team.owner,
                    f"{team.member.email}, pending@example.com, new@example.com, not-an-address, @{team.manager.username}")
    assert outcomes[team.member.email].kind == "member"
    assert outcomes[team.manager.email].kind == "member"  # picked by username
    assert outcomes["pending@example.com"].kind == "resent"
    assert outcomes["new@example.com"].kind == "sent"
    assert outcomes["not-an-address"].kind == "invalid"
    assert sorted(m["To"] for m in smtp.messages) == ["new@example.com", "pending@example.com"]
    # The resend replaced the link: the old token no longer finds the invitation.
    assert answering.find_by_token(old_token) is None
    assert db.session.scalar(db.select(db.func.count(Invitation.id)).filter_by(email="pending@example.com")) == 1


def test_tokens_are_long_random_and_stored_only_as_hashes(ctx, team, make_invitation):
    invitation, token = make_invitation(team.org, team.owner, "hash@example.com")
    assert len(token) >= 43  # 32 random bytes, base64url
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = db.session.execute(db.text("select * from invitations")).mappings().one()
    assert token not in [str(value) for value in stored.values()]
    assert answering.find_by_token(token).id == invitation.id
    assert answering.find_by_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_nobody_grants_a_role_above_their_own(ctx, team):
    with pytest.raises(DomainError) as error:
        sending.send_invitations(team.org, team.manager, "boss@example.com", Role.OWNER, [], commit=db.session.commit)
    assert error.value.field == "role"
    assert send(team.org, team.manager, "mgr@example.com", Role.MANAGER)["mgr@example.com"].ok


def test_collaborators_invite_no_one(ctx, team):
    with pytest.raises(DomainError, match="may not invite"):
        sending.send_invitations(team.org, team.collaborator, "x@example.com", Role.COLLABORATOR, [], commit=db.session.commit)


def test_without_add_new_people_only_members_into_managed_groups(ctx, team, smtp, make_user, add_member):
    group = create_group(team.org, team.owner, "Safety")
    other = create_group(team.org, team.owner, "Other")
    add_to_group(team.org, team.owner, group, team.member, is_manager=True)
    colleague = make_user(name="Col League")
    add_member(team.org, colleague)
    db.session.commit()
    outcomes = send(team.org, team.member, f"stranger@example.com, {colleague.email}", Role.MEMBER, [group])
    assert outcomes["stranger@example.com"].kind == "refused"
    assert outcomes[colleague.email].kind == "sent"
    assert db.session.scalar(db.select(Invitation).filter_by(email="stranger@example.com")) is None
    with pytest.raises(DomainError) as error:
        sending.send_invitations(team.org, team.member, colleague.email, Role.MEMBER, [other], commit=db.session.commit)
    assert error.value.field == "groups"
    # Managers lose "add new people" when the owners switch it off.
    team.org.managers_may_add_people = False
    db.session.commit()
    assert send(team.org, team.manager, "late@example.com")["late@example.com"].kind == "refused"


def test_inviting_a_member_into_a_group_keeps_their_role(ctx, team, client, auth):
    group = create_group(team.org, team.owner, "Safety")
    db.session.commit()
    outcome = send(team.org, team.owner, team.collaborator.email, Role.MANAGER, [group])[team.collaborator.email]
    assert outcome.kind == "sent" and outcome.invitation.role == Role.COLLABORATOR
    answering.accept_invitation(outcome.invitation, team.collaborator)
    db.session.commit()
    assert team.memberships[Role.COLLABORATOR].role == Role.COLLABORATOR
    assert db.session.get(GroupMember, (group.id, team.collaborator.id)) is not None
    # Now in the group: inviting again says so and sends nothing.
    again = send(team.org, team.owner, team.collaborator.email, Role.MEMBER, [group])
    assert again[team.collaborator.email].kind == "member"


def test_a_required_group(ctx, team):
    team.org.require_group_on_invite = True
    db.session.commit()
    with pytest.raises(DomainError) as error:
        sending.send_invitations(team.org, team.owner, "x@example.com", Role.MEMBER, [], commit=db.session.commit)
    assert error.value.field == "groups"


def test_refused_mail_leaves_the_invitation_saved_and_resend_delivers_it(ctx, team, smtp):
    smtp.fail_with(lambda n, envelope: "550 5.1.1 Mailbox unavailable" if n == 1 else None)
    outcome = send(team.org, team.owner, "bounce@example.com")["bounce@example.com"]
    assert outcome.kind == "not_delivered"
    invitation = db.session.scalar(db.select(Invitation).filter_by(email="bounce@example.com"))
    assert invitation.status == Status.PENDING and invitation.shown_status == Status.NOT_DELIVERED
    assert "550" in invitation.delivery_error and "Mailbox unavailable" in invitation.delivery_error
    assert smtp.messages == []
    resent = sending.resend_invitation(team.org, team.owner, invitation, commit=db.session.commit)
    db.session.commit()
    assert resent.kind == "resent" and invitation.delivery_error is None
    assert invitation.shown_status == Status.PENDING
    assert len(smtp.to("bounce@example.com")) == 1
    verbs = list(db.session.scalars(db.select(Activity.verb).order_by(Activity.id)))
    assert verbs[-3:] == ["invitation.sent", "invitation.not_delivered", "invitation.resent"]


def test_an_unreachable_mail_server_loses_nothing(ctx, app, team):
    from tests.support import free_port

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    from invites.extensions import mail

    mail.init_app(app)
    outcomes = send(team.org, team.owner, "a@example.com, b@example.com")
    assert {o.kind for o in outcomes.values()} == {"not_delivered"}
    rows = db.session.scalars(db.select(Invitation)).all()
    assert len(rows) == 2 and all(r.delivery_error for r in rows)


def test_resend_gives_a_new_link_and_expiry(ctx, team, make_invitation):
    invitation, token = make_invitation(team.org, team.owner, "again@example.com")
    first_expiry = invitation.expires_at
    clock.freeze(clock.now() + timedelta(days=20))  # long expired
    assert invitation.shown_status == Status.EXPIRED
    outcome = sending.resend_invitation(team.org, team.owner, invitation, commit=db.session.commit)
    db.session.commit()
    assert invitation.expires_at > first_expiry and invitation.shown_status == Status.PENDING
    assert answering.find_by_token(token) is None
    assert answering.find_by_token(outcome.token).id == invitation.id


def test_expiry_follows_the_organizations_lifetime(ctx, team, make_invitation):
    team.org.invitation_lifetime_days = 3
    db.session.commit()
    start = clock.now()
    clock.freeze(start)
    invitation, token = make_invitation(team.org, team.owner, "short@example.com")
    assert invitation.expires_at == start + timedelta(days=3)
    clock.freeze(start + timedelta(days=3, seconds=1))
    with pytest.raises(answering.InvitationUnavailable) as error:
        answering.check_answerable(answering.find_by_token(token))
    assert error.value.reason == "expired"


def test_only_pending_invitations_are_resent_or_cancelled(ctx, team, make_invitation, make_user):
    user = make_user(email="done@example.com")
    invitation, _ = make_invitation(team.org, team.owner, "done@example.com")
    answering.accept_invitation(invitation, user, by_link=True)
    db.session.commit()
    with pytest.raises(DomainError, match="accepted"):
        sending.resend_invitation(team.org, team.owner, invitation, commit=db.session.commit)
    with pytest.raises(DomainError, match="accepted"):
        sending.cancel_invitation(team.org, team.owner, invitation)


def test_the_same_address_in_two_organizations_is_independent(ctx, team, make_org, make_user, make_invitation):
    other_org = make_org(name="Beta Corp")
    person = make_user(email="both@example.com")
    first, _ = make_invitation(team.org, team.owner, "both@example.com")
    second, _ = make_invitation(other_org, db.session.get(type(person), other_org_owner_id(other_org)), "both@example.com")
    answering.accept_invitation(first, person, by_link=True)
    db.session.commit()
    db.session.refresh(second)
    assert first.status == Status.ACCEPTED and second.status == Status.PENDING
    assert db.session.scalar(db.select(Membership).filter_by(org_id=other_org.id, user_id=person.id)) is None


def other_org_owner_id(org):
    return db.session.scalar(db.select(Membership.user_id).filter_by(org_id=org.id, role=Role.OWNER))


def test_only_the_account_it_was_sent_to_may_accept(ctx, team, make_user, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "right@example.com")
    wrong = make_user(email="wrong@example.com")
    with pytest.raises(answering.InvitationUnavailable) as error:
        answering.accept_invitation(invitation, wrong, by_link=True)
    assert error.value.reason == "wrong_account"
    db.session.rollback()
    assert db.session.scalar(db.select(Membership).filter_by(user_id=wrong.id)) is None


def test_from_the_bell_an_unverified_account_must_confirm_first(ctx, team, make_user, make_invitation):
    person = make_user(email="unverified@example.com", verified=False)
    invitation, _ = make_invitation(team.org, team.owner, "unverified@example.com")
    with pytest.raises(answering.InvitationUnavailable) as error:
        answering.accept_invitation(invitation, person)
    assert error.value.reason == "unverified"
    db.session.rollback()
    answering.accept_invitation(invitation, person, by_link=True)  # the link proves the address
    db.session.commit()
    assert person.is_verified


def test_existing_users_are_notified_and_the_inviter_hears_back(ctx, team, make_user, make_invitation):
    person = make_user(name="Nora Notified", email="nora@example.com")
    invitation, _ = make_invitation(team.org, team.manager, "nora@example.com")
    [note] = db.session.scalars(db.select(Notification).filter_by(user_id=person.id)).all()
    assert note.invitation_id == invitation.id and note.read_at is None
    answering.decline_invitation(invitation, person)
    db.session.commit()
    db.session.refresh(note)
    assert note.read_at is not None  # answered: no longer counted in the bell
    [told] = db.session.scalars(db.select(Notification).filter_by(user_id=team.manager.id)).all()
    assert told.kind == "invitation_declined" and "Nora Notified declined" in told.text


def test_user_typed_text_is_escaped_and_not_linkable_in_mail(ctx, team, smtp, make_user, make_org):
    team.manager.name = 'Max <script>alert(1)</script> see evil.example'
    db.session.commit()
    message = '<a href="https://evil.example/x">click</a> or visit https://evil.example'
    send(team.org, team.manager, "safe@example.com", message=message)
    [mail] = smtp.to("safe@example.com")
    html, text = smtp.html(mail), smtp.text(mail)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://evil.example' not in html
    body = html.split("<body", 1)[1]  # the subject in <title> is not shown as text
    assert "evil.example" not in body.replace("evil.\u200bexample", "")
    assert "https://evil.example" not in text
    assert "alert(1)" in text  # the words are kept, only made inert


def test_organization_onboarding_paragraph_under_the_platforms_subject(ctx, team, smtp):
    messages.update_invitation_email(team.org, team.owner, "First day: 9am.\n\nBring ID.")
    team.org.name = "Acme\r\nBcc: x@evil.example"
    db.session.commit()
    send(team.org, team.owner, "sub@example.com")
    [mail] = smtp.to("sub@example.com")
    assert mail["Subject"] == "Olivia Owner invited you to join Acme Bcc: x@evil.example"  # one line
    assert mail["Bcc"] is None
    assert "First day: 9am." in smtp.text(mail)
    preview = messages.preview_message(team.org, team.owner, "sub@example.com", Role.MEMBER, [], "")
    assert preview.subject == mail["Subject"] and "Bring ID." in preview.body


def test_search_members_sees_only_this_organizations_members(ctx, team, make_org, make_user):
    other = make_org(name="Elsewhere", owner=make_user(name="Mallory Max"))
    hits = queries.search_members(team.org, team.owner, "ma")
    names = {user.name for user, _ in hits}
    assert "Max Manager" in names and "Mallory Max" not in names
    assert queries.search_members(team.org, team.owner, "otto") == []  # the outsider
    assert other.id != team.org.id
    assert queries.search_members(team.org, team.owner, "%") == []  # LIKE wildcards escaped


def test_page_of_invitations_filters_and_searches(ctx, team, smtp, make_invitation, make_user):
    a, _ = make_invitation(team.org, team.owner, "alpha@example.com")
    b, _ = make_invitation(team.org, team.owner, "beta@example.com")
    make_invitation(team.org, team.owner, "gamma@example.com")
    sending.cancel_invitation(team.org, team.owner, b)
    user = make_user(email="alpha@example.com")
    answering.accept_invitation(a, user, by_link=True)
    db.session.commit()

    def emails(**kw):
        return [i.email for i in queries.page_of_invitations(team.org, 1, 25, **kw).items]

    assert emails(status="accepted") == ["alpha@example.com"]
    assert emails(status="cancelled") == ["beta@example.com"]
    assert emails(status="pending") == ["gamma@example.com"]
    assert emails(search="ALPHA") == ["alpha@example.com"]
    assert emails(search="%") == []
    clock.freeze(clock.now() + timedelta(days=30))
    assert emails(status="expired") == ["gamma@example.com"]
    assert emails(status="pending") == []


def test_the_panels_statements_are_built_once_and_bind_each_calls_values(
    ctx, team, smtp, make_org, make_user, make_invitation,
):
    """The panel's statements are built once for each combination of filters and shared by
    every organization and request: each call must read with its own values, never those
    of the call that built them."""
    other_owner = make_user(name="Otto Other")
    other = make_org(owner=other_owner, name="Elsewhere")
    ours_group = create_group(team.org, team.owner, "Ours")
    theirs_group = create_group(other, other_owner, "Theirs")
    make_invitation(team.org, team.owner, "ann_1@ours.example", groups=[ours_group])
    make_invitation(team.org, team.owner, "bob@ours.example")
    make_invitation(other, other_owner, "ann_1@theirs.example", groups=[theirs_group])
    make_invitation(other, other_owner, "annx1@theirs.example")

    def emails(org, **kw):
        page = queries.page_of_invitations(org, 1, 25, **kw)
        return sorted(i.email for i in page.items), page.total

    for _ in range(2):  # the second round runs on the statements the first one built
        assert emails(team.org) == (["ann_1@ours.example", "bob@ours.example"], 2)
        assert emails(other) == (["ann_1@theirs.example", "annx1@theirs.example"], 2)
        assert emails(team.org, search="ann_") == (["ann_1@ours.example"], 1)
        assert emails(other, search="ann_") == (["ann_1@theirs.example"], 1)  # "_" is no wildcard
        assert emails(other, search="BOB") == ([], 0)
        assert emails(team.org, status="pending", group_id=ours_group.id) == (["ann_1@ours.example"], 1)
        assert emails(other, status="pending", group_id=theirs_group.id) == (["ann_1@theirs.example"], 1)
        assert emails(team.org, group_id=theirs_group.id) == ([], 0)  # another organization's group
    assert queries._page_query(None, True, False) is queries._page_query(None, True, False)
    # The export and the JSON API read the same filters through filtered_invitations.
    assert [i.email for i in db.session.scalars(queries.filtered_invitations(other, search="_1"))] == [
        "ann_1@theirs.example"]
    assert [i.email for i in db.session.scalars(queries.filtered_invitations(team.org, search="_1"))] == [
        "ann_1@ours.example"]
