"""The invitation pages over HTTP: permissions, the panel with and without htmx, forms,
the bell, and refusals that change nothing."""
import pytest

from invites.extensions import db
from invites.groups.service import add_to_group, create_group
from invites.invitations.models import Invitation, Status
from invites.notifications.models import Notification
from invites.orgs.models import Membership, Role


def invitation_count():
    return db.session.scalar(db.select(db.func.count(Invitation.id)))


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("manager", 200), ("member", 403), ("collaborator", 403), ("outsider", 404),
])
def test_who_sees_the_invitations_panel(client, auth, team, who, status):
    auth.login(getattr(team, who))
    assert client.get(f"/o/{team.org.slug}/manage/invitations").status_code == status


@pytest.mark.parametrize("who, status", [
    ("owner", 200), ("manager", 200), ("member", 403), ("collaborator", 403), ("outsider", 404),
])
def test_who_may_open_invite_member(client, auth, team, who, status):
    auth.login(getattr(team, who))
    assert client.get(f"/o/{team.org.slug}/invitations/new").status_code == status
    response = client.post_form(f"/o/{team.org.slug}/invitations/new",
                                {"addresses": "x@example.com", "role": Role.COLLABORATOR})
    assert response.status_code == (302 if status == 200 else status)
    assert invitation_count() == (1 if status == 200 else 0)


def test_a_member_without_add_new_people_cannot_invite_a_non_member_by_hand(client, auth, team, smtp):
    group = create_group(team.org, team.owner, "Safety")
    add_to_group(team.org, team.owner, group, team.member, is_manager=True)
    db.session.commit()
    auth.login(team.member)
    # The group's page offers "Invite Member" to its manager.
    assert "Invite Member" in client.get(f"/o/{team.org.slug}/groups/{group.id}").get_data(as_text=True)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new", {
        "addresses": "stranger@example.com", "role": Role.MEMBER, "groups": [str(group.id)],
    }, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "You may only invite existing members into groups" in page
    assert invitation_count() == 0 and smtp.messages == []
    # Nor may they pick a role above their own, or a group they do not manage.
    other = create_group(team.org, team.owner, "Other")
    db.session.commit()
    for data in ({"role": Role.OWNER, "groups": [str(group.id)]}, {"role": Role.MEMBER, "groups": [str(other.id)]}):
        response = client.post_form(f"/o/{team.org.slug}/invitations/new", {"addresses": team.collaborator.email, **data})
        assert response.status_code == 422
    assert invitation_count() == 0


def test_a_group_of_another_organization_is_refused(client, auth, team, make_org):
    elsewhere = make_org(name="Elsewhere")
    foreign = create_group(elsewhere, team.owner, "Foreign")
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new", {
        "addresses": "x@example.com", "role": Role.MEMBER, "groups": [str(foreign.id)],
    })
    assert response.status_code == 422 and invitation_count() == 0


def test_bad_input_gives_form_errors(client, auth, team):
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/invitations/new"
    eleven = ",".join(f"p{i}@example.com" for i in range(11))
    for data, message in [
        ({"addresses": "", "role": Role.MEMBER}, "Enter at least one"),
        ({"addresses": eleven, "role": Role.MEMBER}, "at most 10"),
        ({"addresses": "a@example.com", "role": "emperor"}, "Not a valid choice"),
        ({"addresses": "a@example.com", "role": Role.MEMBER, "message": "x" * 3000}, "2000"),
    ]:
        response = client.post_form(url, data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), message
    assert invitation_count() == 0


def test_another_organizations_manager_cannot_act_by_id(client, auth, team, make_org, make_user, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "target@example.com")
    rival = make_user(name="Rival Owner")
    rival_org = make_org(owner=rival, name="Rival")
    auth.login(rival)
    for action in ("resend", "cancel"):
        response = client.post_form(f"/o/{rival_org.slug}/invitations/{invitation.id}/{action}", {"confirmed": "yes"})
        assert response.status_code == 404
        response = client.post_form(f"/o/{team.org.slug}/invitations/{invitation.id}/{action}", {"confirmed": "yes"})
        assert response.status_code == 404
    # Nor answer it from the bell endpoints: it was not sent to their address.
    assert client.post_form(f"/invitations/{invitation.id}/accept").status_code == 404
    db.session.refresh(invitation)
    assert invitation.status == Status.PENDING


def test_forged_and_other_tokens_are_refused(client, auth, team, make_org, make_user, make_invitation):
    other_org = make_org(name="Beta")
    _, beta_token = make_invitation(other_org, db.session.get(type(team.owner), other_org_owner(other_org)), "z@example.com")
    auth.login(team.member)
    for token in ("forged" * 8, beta_token[:-2], "", "x" * 500):
        response = client.post_form(f"/i/{token}/accept")
        assert response.status_code in (404, 405), token
    # A real token of another organization's invitation, for another address: refused.
    response = client.post_form(f"/i/{beta_token}/accept")
    assert response.status_code == 403
    assert db.session.scalar(db.select(Membership).filter_by(org_id=other_org.id, user_id=team.member.id)) is None


def other_org_owner(org):
    return db.session.scalar(db.select(Membership.user_id).filter_by(org_id=org.id, role=Role.OWNER))


def test_accept_and_decline_need_the_csrf_token(client, auth, team, make_user, make_invitation):
    person = make_user(email="csrf@example.com")
    invitation, token = make_invitation(team.org, team.owner, "csrf@example.com")
    auth.login(person)
    assert client.post(f"/i/{token}/accept").status_code == 400
    assert client.post(f"/invitations/{invitation.id}/accept").status_code == 400
    db.session.refresh(invitation)
    assert invitation.status == Status.PENDING


def test_cancel_asks_first_without_javascript_and_swaps_the_row_with_htmx(client, auth, team, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "row@example.com")
    auth.login(team.manager)
    url = f"/o/{team.org.slug}/invitations/{invitation.id}/cancel"
    response = client.post_form(url)
    assert response.status_code == 200 and "Cancel the invitation of row@example.com?" in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.status == Status.PENDING
    response = client.post_form(url, {"confirmed": "yes"})
    assert response.status_code == 302 and response.location == f"/o/{team.org.slug}/manage/invitations"
    db.session.refresh(invitation)
    assert invitation.status == Status.CANCELLED
    # Cancelling again: a clear message, no error.
    response = client.post_form(url, {"confirmed": "yes"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<tr id="invitation-')
    assert "cannot be cancelled" in body and 'hx-swap-oob="true"' in body


def test_resend_swaps_the_row_and_mails_again(client, auth, team, smtp, make_invitation):
    invitation, old = make_invitation(team.org, team.owner, "again@example.com")
    auth.login(team.manager)
    response = client.post_form(f"/o/{team.org.slug}/invitations/{invitation.id}/resend", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'id="invitation-{invitation.id}"' in body
    assert "Invitation sent again to again@example.com" in body
    assert len(smtp.to("again@example.com")) == 2
    assert client.get(f"/i/{old}").status_code == 404


def test_the_panel_filters_searches_paginates_and_hides_names_until_accepted(app, client, auth, team, make_user, make_invitation):
    from invites.invitations import answering

    app.config["PAGE_SIZE"] = 3
    person = make_user(name="Secret Name", email="p0@example.com")
    invitations = [make_invitation(team.org, team.owner, f"p{i}@example.com")[0] for i in range(5)]
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/manage/invitations"
    page = client.get(url).get_data(as_text=True)
    assert "Page 1 of 2" in page and page.count('<tr id="invitation-') == 3
    assert "Secret Name" not in client.get(f"{url}?page=2").get_data(as_text=True)
    with app.test_request_context():
        answering.accept_invitation(invitations[0], person, by_link=True)
    db.session.commit()
    page2 = client.get(f"{url}?page=2").get_data(as_text=True)
    assert "Secret Name" in page2 and "Accepted" in page2
    filtered = client.get(f"{url}?status=accepted", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert filtered.count('<tr id="invitation-') == 1 and "<html" not in filtered
    searched = client.get(f"{url}?q=P3%40").get_data(as_text=True)
    assert searched.count('<tr id="invitation-') == 1 and "p3@example.com" in searched
    assert client.get(f"{url}?status=bogus&page=-4").status_code == 200


def test_the_panel_poll_answers_204_until_something_changes(client, auth, team, make_invitation):
    import re

    invitation, _ = make_invitation(team.org, team.owner, "poll@example.com")
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/manage/invitations"
    page = client.get(url).get_data(as_text=True)
    poll = re.search(r'hx-get="([^"]*since=[^"]*)"', page).group(1).replace("&amp;", "&")
    assert client.get(poll, headers={"HX-Request": "true"}).status_code == 204
    client.post_form(f"/o/{team.org.slug}/invitations/{invitation.id}/cancel", {"confirmed": "yes"})
    response = client.get(poll, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Cancelled" in response.get_data(as_text=True)


def test_the_panel_costs_the_same_queries_for_3_or_30_rows(app, client, auth, team, count_queries, make_invitation):
    group = create_group(team.org, team.owner, "G")
    db.session.commit()

    def measure():
        with count_queries() as statements:
            assert client.get(f"/o/{team.org.slug}/manage/invitations").status_code == 200
        return list(statements)

    auth.login(team.owner)
    for i in range(3):
        make_invitation(team.org, team.owner, f"q{i}@example.com", groups=[group])
    few = measure()
    for i in range(3, 30):
        make_invitation(team.org, team.owner, f"q{i}@example.com", groups=[group])
    many = measure()
    assert len(many) == len(few), "\n".join(" ".join(s.split())[:160] for s in many)


def test_the_bell_counts_unread_and_the_page_answers_inline(client, auth, team, make_user, make_invitation):
    person = make_user(name="Bea Bell", email="bea@example.com")
    invitation, _ = make_invitation(team.org, team.manager, "bea@example.com")
    auth.login(person)
    home = client.get("/").get_data(as_text=True)
    assert "Invitations for you" in home and 'class="badge bell-count">1' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert "Max Manager invited you to join Acme Training" in page and ">New<" in page
    # Reading the page changes nothing (a GET); "Mark all as read" does.
    assert 'class="badge bell-count">1' in client.get("/notifications").get_data(as_text=True)
    client.post_form("/notifications/read")
    page = client.get("/notifications").get_data(as_text=True)
    assert ">New<" not in page and "bell-count" not in page
    response = client.post_form(f"/invitations/{invitation.id}/accept", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Accepted." in body and 'id="bell"' in body
    assert db.session.scalar(db.select(Membership).filter_by(org_id=team.org.id, user_id=person.id)).role == Role.MEMBER
    # The inviter's bell now has news.
    [told] = db.session.scalars(db.select(Notification).filter_by(user_id=team.manager.id)).all()
    assert told.kind == "invitation_accepted" and told.read_at is None


def test_declining_from_the_dashboard_without_javascript(client, auth, team, make_user, make_invitation):
    person = make_user(email="dee@example.com")
    invitation, _ = make_invitation(team.org, team.owner, "dee@example.com")
    auth.login(person)
    response = client.post_form(f"/invitations/{invitation.id}/decline")
    assert response.status_code == 302 and response.location == "/"
    db.session.refresh(invitation)
    assert invitation.status == Status.DECLINED
    assert "Invitations for you" not in client.get("/").get_data(as_text=True)


def test_preview_without_javascript_and_as_a_fragment(client, auth, team):
    auth.login(team.owner)
    data = {"addresses": "pre@example.com", "role": Role.MANAGER, "message": "<b>Hi</b>"}
    page = client.post_form(f"/o/{team.org.slug}/invitations/preview", data).get_data(as_text=True)
    assert '<details id="invite-preview" class="mail-preview" open>' in page
    assert "Olivia Owner invited you to join Acme Training" in page and "&lt;b&gt;Hi&lt;/b&gt;" in page
    assert 'value="pre@example.com"' not in page or "pre@example.com" in page  # the form keeps input
    fragment = client.post_form(f"/o/{team.org.slug}/invitations/preview", data, htmx=True).get_data(as_text=True)
    assert fragment.lstrip().startswith("<details") and "as Manager" in fragment
    assert invitation_count() == 0
    # The HTML version loads into a sandboxed frame through a form that targets it.
    assert 'target="invite-preview-frame" data-autosubmit' in fragment
    assert '<input type="hidden" name="role" value="manager">' in fragment
    long_message = "A long welcome. " * 120  # would not fit in a URL
    frame = client.post_form(f"/o/{team.org.slug}/invitations/preview.html", {"role": "manager", "message": long_message})
    html = frame.get_data(as_text=True)
    assert frame.status_code == 200 and "as Manager" in html and long_message.strip() in html
    assert "style-src 'unsafe-inline'" in frame.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_member_autocomplete_is_scoped(client, auth, team, make_user, make_org):
    make_org(owner=make_user(name="Max Elsewhere"), name="Other")
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/invitations/people?person=max").get_data(as_text=True)
    assert "Max Manager" in html and "Max Elsewhere" not in html
    assert f'data-value="@{team.manager.username}"' in html
    auth.logout()
    auth.login(team.collaborator)
    assert client.get(f"/o/{team.org.slug}/invitations/people?person=max").status_code == 403


def test_invitation_email_settings_are_for_owners(client, auth, team):
    url = f"/o/{team.org.slug}/manage/invitations/email"
    auth.login(team.manager)
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login(team.owner)
    response = client.post_form(url, {"invitation_subject": "Welcome to Acme", "invitation_intro": "Read the handbook."})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Read the handbook." in page
    # The subject is the platform's, naming the inviter and the organization (F4).
    assert "Welcome to Acme" not in page and "Olivia Owner invited you to join Acme Training" in page


def test_registering_through_a_dead_link_is_refused(client, team, make_invitation):
    from invites.invitations import sending

    invitation, token = make_invitation(team.org, team.owner, "gone@example.com")
    sending.cancel_invitation(team.org, team.owner, invitation)
    db.session.commit()
    response = client.post_form(f"/i/{token}/register", {
        "name": "Gone", "username": "gone", "password": "long enough pw", "confirm": "long enough pw",
    })
    assert response.status_code == 410
    from invites.accounts.models import User

    assert db.session.scalar(db.select(User).filter_by(email="gone@example.com")) is None


def test_typed_names_and_messages_are_escaped_on_pages(client, auth, team, make_user, make_invitation):
    team.manager.name = "Max <script>alert(1)</script>"
    db.session.commit()
    person = make_user(email="esc@example.com")
    _, token = make_invitation(team.org, team.manager, "esc@example.com",
                               message='<a href="https://evil.example">prize</a>')
    for url in (f"/i/{token}",):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "&lt;script&gt;" in page
        assert '<a href="https://evil.example">' not in page and "&lt;a href=" in page
    auth.login(person)
    for url in ("/", "/notifications"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and '<a href="https://evil.example">' not in page
        assert "&lt;script&gt;" in page


def test_sending_redirects_and_shows_the_results_once(client, auth, team, smtp):
    group = create_group(team.org, team.owner, "G")
    db.session.commit()
    auth.login(team.owner)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new?group={group.id}",
                                {"addresses": "once@example.com, nope", "role": Role.MEMBER})
    assert response.status_code == 302
    assert response.location == f"/o/{team.org.slug}/invitations/new?group={group.id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "What happened" in page and "Invitation sent." in page and "Not an email address" in page
    assert f'<input checked id="groups-0" name="groups" type="checkbox" value="{group.id}">' in page
    # A reload shows an empty form and sends nothing again.
    assert "What happened" not in client.get(response.location).get_data(as_text=True)
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("unread, shown", [(99, "99"), (100, "99+"), (130, "99+")])
def test_the_bell_stops_counting_at_99(client, auth, team, unread, shown):
    from invites.notifications.service import notify

    for n in range(unread):
        notify(team.member, "note", f"note {n}", org=team.org)
    db.session.commit()
    auth.login(team.member)
    home = client.get("/").get_data(as_text=True)
    assert f'class="badge bell-count">{shown}<span class="visually-hidden"> unread</span>' in home


def test_the_notifications_page_costs_the_same_queries_for_2_or_20(client, auth, team, make_org, make_user, count_queries, make_invitation):
    person = make_user(email="many@example.com")
    auth.login(person)

    def invite_from(n):
        for i in range(n):
            org = make_org(name=f"Org {i} {n}")
            owner = db.session.get(type(person), other_org_owner(org))
            group = create_group(org, owner, "G")
            db.session.commit()
            make_invitation(org, owner, "many@example.com", groups=[group])

    last = []

    def measure():
        with count_queries() as statements:
            assert client.get("/notifications").status_code == 200
        last.append(statements)
        return len(statements)

    invite_from(2)
    few = measure()
    invite_from(18)
    assert measure() == few, "\n".join(" ".join(s.split())[:160] for s in last[-1])
