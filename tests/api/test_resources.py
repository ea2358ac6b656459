"""The JSON API's operations (issue 20): each one's happy path against what the database
then holds, and its refusals in the one error shape {"error": {"code", "message", "field"}}
with the status a program acts on (401, 403, 404, 409, 422)."""
from datetime import timedelta

import pytest

from invites import clock
from invites.activity.models import Activity
from invites.api.models import ApiToken
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import add_to_group, create_group
from invites.invitations.models import Invitation, Status
from invites.join_requests.models import JoinRequest, RequestStatus
from invites.links.models import InviteLink
from invites.orgs.models import Membership, Role
from tests.api.conftest import ApiClient, assert_error
from tests.support import role_in


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


def activity_summaries(org):
    db.session.expire_all()
    return list(db.session.scalars(
        db.select(Activity.summary).where(Activity.org_id == org.id).order_by(Activity.id)))


@pytest.fixture
def other(app, make_user, make_org, make_invitation, make_link, make_join_request, add_member):
    """A second organization with one object of each kind, none of them team.org's."""

    class Other:
        pass

    o = Other()
    o.owner = make_user(name="Rita Rival")
    o.org = make_org(owner=o.owner, name="Rival Academy")
    o.invitation, _ = make_invitation(o.org, o.owner, "rival-invitee@example.com")
    o.link, _ = make_link(o.org, o.owner)
    o.join_request = make_join_request(o.org, o.owner, make_user(name="Rival Asker"))
    o.membership = add_member(o.org, make_user(name="Rival Member"))
    with app.test_request_context():
        o.group = create_group(o.org, o.owner, "Rival group")
        db.session.commit()
    return o


@pytest.fixture
def group(app, team):
    with app.test_request_context():
        made = create_group(team.org, team.owner, "Volunteers")
        db.session.commit()
    return made


# --- Tokens: who may call at all ------------------------------------------------------------

def test_no_token_and_a_malformed_header_are_401_with_how_to_authenticate(client, team):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    {"Authorization": "inv_not-even-a-scheme"}):
        response = client.get("/api/v1/invitations", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="invites"'


def test_an_unknown_token_is_401(api, team):
    assert_error(api.get("/members", token=api.token + "x"), 401, "unauthorized")
    assert_error(api.get("/members", token="inv_" + "A" * 43), 401, "unauthorized")


def test_a_revoked_token_is_401(api, team):
    from invites.api.service import revoke_token

    assert api.get("/members").status_code == 200
    row = db.session.scalar(db.select(ApiToken).filter_by(org_id=team.org.id))
    revoke_token(team.org, team.owner, row)
    db.session.commit()
    error = assert_error(api.get("/members"), 401, "unauthorized")
    assert "revoked" in error["message"]


def test_a_token_is_401_after_its_last_day(client, team, make_token):
    today = clock.now().date()
    token = make_token(team.org, team.owner, last_day=today)
    caller = ApiClient(client, token)
    assert caller.get("/members").status_code == 200
    row = db.session.scalar(db.select(ApiToken).filter_by(org_id=team.org.id))
    clock.freeze(row.expires_at + timedelta(seconds=1))
    error = assert_error(caller.get("/members"), 401, "unauthorized")
    assert "expired" in error["message"]


def test_a_write_with_a_read_token_is_403_and_changes_nothing(read_api, team):
    assert read_api.get("/invitations").status_code == 200
    assert_error(read_api.post("/invitations", {"emails": ["new@example.com"]}), 403, "forbidden")
    assert_error(read_api.patch(f"/members/{team.memberships[Role.MEMBER].id}", {"role": "manager"}), 403, "forbidden")
    assert_error(read_api.delete(f"/members/{team.memberships[Role.MEMBER].id}"), 403, "forbidden")
    assert_error(read_api.post("/invite-links", {}), 403, "forbidden")
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0
    assert role_in(team.org, team.member) == Role.MEMBER


def test_a_token_of_someone_no_longer_owner_is_401(api, team, add_member, make_user):
    second = make_user(name="Second Owner")
    add_member(team.org, second, Role.OWNER)
    maker = team.memberships[Role.OWNER]
    # The token demotes its own maker: allowed (another owner remains), and then it opens nothing.
    response = api.patch(f"/members/{maker.id}", {"role": "manager"})
    assert response.status_code == 200 and response.get_json()["role"] == "manager"
    assert role_in(team.org, team.owner) == Role.MANAGER
    error = assert_error(api.get("/members"), 401, "unauthorized")
    assert "no longer an owner" in error["message"]


def test_last_used_is_set_by_a_request(api, team):
    row = db.session.scalar(db.select(ApiToken).filter_by(org_id=team.org.id))
    row_id = row.id
    assert row.last_used_at is None
    before = clock.now()
    assert api.get("/groups").status_code == 200
    used = fresh(ApiToken, row_id).last_used_at
    assert used is not None and used >= before - timedelta(seconds=1)


def test_no_response_sets_a_cookie_and_a_browser_session_is_not_a_token(client, auth, api, team):
    for response in (api.get("/members"), api.post("/invitations", {"emails": ["c@example.com"]}),
                     api.get("/members", token="inv_unknown")):
        assert "Set-Cookie" not in response.headers, response.headers
    auth.login(team.owner)
    assert client.get(f"/o/{team.org.slug}").status_code == 200  # the session works on pages
    for call in (lambda: client.get("/api/v1/members"),
                 lambda: client.post("/api/v1/invitations", json={"emails": ["d@example.com"]})):
        response = call()
        assert_error(response, 401, "unauthorized")
        assert "Set-Cookie" not in response.headers
    # With the session cookie and a token, the token decides, and no cookie is refreshed.
    response = api.get("/members")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers, response.headers
    assert db.session.scalar(db.select(db.func.count(Invitation.id)).filter_by(email="d@example.com")) == 0


# --- Invitations ----------------------------------------------------------------------------

def test_create_invitations_answers_each_address_and_logs_via_the_token(api, team, group):
    response = api.post("/invitations", {
        "emails": ["ann@example.com", "not-an-address"],
        "role": "manager", "groups": [group.id], "message": "Welcome aboard",
    })
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [(r["email"], r["outcome"]) for r in results] == [("ann@example.com", "sent"), ("not-an-address", "invalid")]
    created = results[0]["invitation"]
    assert created["status"] == "pending" and created["role"] == "manager"
    assert created["groups"] == [{"id": group.id, "name": "Volunteers"}]
    assert created["message"] == "Welcome aboard" and created["inviter"]["id"] == team.owner.id
    assert results[1]["invitation"] is None
    row = fresh(Invitation, created["id"])
    assert (row.email, row.role, row.status, row.org_id) == ("ann@example.com", Role.MANAGER, Status.PENDING, team.org.id)
    assert "invited ann@example.com as Manager (groups: Volunteers) via API token “HR sync”" in activity_summaries(team.org)
    # A member (by address or username) is told apart, and nothing is made for them. (A
    # username's outcome names the member's address.)
    response = api.post("/invitations", {"emails": [team.member.email, team.manager.username]})
    assert [(r["email"], r["outcome"], r["invitation"]) for r in response.get_json()["results"]] == [
        (team.member.email, "already_member", None), (team.manager.email, "already_member", None)]
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 1


@pytest.mark.parametrize("body, field", [
    ({"emails": []}, "emails"),
    ({}, "emails"),
    ({"emails": "ann@example.com"}, "emails"),
    ({"emails": ["a@example.com"] * 501}, "emails"),
    ({"emails": ["a@example.com"], "role": "king"}, "role"),
    ({"emails": ["a@example.com"], "groups": ["x"]}, "groups.0"),
    ({"emails": ["a@example.com"], "expires_in_days": 0}, "expires_in_days"),
    ({"emails": ["a@example.com"], "unknown": 1}, "unknown"),
])
def test_a_bad_invitations_body_is_422_naming_the_field(api, body, field):
    assert_error(api.post("/invitations", body), 422, "invalid", field)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_a_services_refusal_names_the_field_as_the_api_does(api, team, make_invitation):
    """The services name some fields as the panels' forms do ("addresses", "access_until",
    "custom_date"); the API's 422 names the field the request sent."""
    assert_error(api.post("/invitations", {"emails": [" "]}), 422, "invalid", "emails")
    assert_error(api.post("/invitations", {"emails": ["a@example.com"], "last_day_of_access": "2000-01-01"}),
                 422, "invalid", "last_day_of_access")
    assert_error(api.post("/invite-links", {"expiration": "custom"}), 422, "invalid", "expires_on")
    assert_error(api.post("/invite-links", {"expiration": "custom", "expires_on": "2000-01-01"}),
                 422, "invalid", "expires_on")
    assert_error(api.post("/invite-links", {"last_day_of_access": "2000-01-01"}), 422, "invalid", "last_day_of_access")
    invitation, _ = make_invitation(team.org, team.owner, "dates@example.com")
    assert_error(api.patch(f"/invitations/{invitation.id}", {"expires_on": "2000-01-01"}), 422, "invalid", "expires_on")
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 1


def test_an_unknown_or_foreign_group_is_422_on_groups(api, other):
    for group_id in (other.group.id, 999_999):
        error = assert_error(api.post("/invitations", {"emails": ["a@example.com"], "groups": [group_id]}),
                             422, "invalid", "groups")
        assert str(group_id) in error["message"]
    assert db.session.scalar(db.select(db.func.count(Invitation.id)).filter_by(email="a@example.com")) == 0


def test_a_body_that_is_not_json_is_refused_not_a_500(api, client):
    response = client.post("/api/v1/invitations", data="{not json", headers={**api.headers(), "Content-Type": "application/json"})
    assert_error(response, 422, "invalid")
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


@pytest.mark.parametrize("raw, field", [
    (b'{"emails": ["a\\u0000@example.com"]}', "emails.0"),
    (b'{"emails": ["a@example.com"], "message": "Hi\\u0000there"}', "message"),
    (b'{"emails": ["a@example.com"], "message": "\\ud800"}', "message"),
])
def test_a_nul_byte_in_a_json_string_is_422_never_500(api, client, raw, field):
    response = client.post("/api/v1/invitations", data=raw, headers={**api.headers(), "Content-Type": "application/json"})
    assert_error(response, 422, "invalid", field)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_nul_bytes_elsewhere_in_a_body_are_refused_never_500(api, client, team, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "nul@example.com")
    for method, path, raw, field in [
        ("post", "/api/v1/invite-links", b'{"access": "anyone", "allowed_domains": ["ex\\u0000ample.com"]}', "allowed_domains.0"),
        ("post", "/api/v1/invite-links", b'{"access": "any\\u0000one"}', "access"),
        ("patch", f"/api/v1/invitations/{invitation.id}", b'{"role": "mem\\u0000ber"}', "role"),
        ("patch", f"/api/v1/members/{team.memberships[Role.MEMBER].id}", b'{"role": "\\u0000"}', "role"),
        ("post", "/api/v1/invitations", b'{"emails": ["a@example.com"], "\\u0000": 1}', "\x00"),
    ]:
        response = getattr(client, method)(path, data=raw, headers={**api.headers(), "Content-Type": "application/json"})
        assert_error(response, 422, "invalid", field)
    assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0


def test_get_an_invitation_and_404_for_another_organizations(api, team, other, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "get@example.com")
    response = api.get(f"/invitations/{invitation.id}")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["email"], body["status"]) == (invitation.id, "get@example.com", "pending")
    assert_error(api.get(f"/invitations/{other.invitation.id}"), 404, "not_found")
    assert_error(api.get("/invitations/999999"), 404, "not_found")


def test_list_invitations_filters_by_status_and_email(api, team, make_invitation):
    for address in ("alpha@example.com", "beta@example.com", "alpine@school.test"):
        make_invitation(team.org, team.owner, address)
    cancelled = db.session.scalar(db.select(Invitation).filter_by(email="beta@example.com"))
    assert api.post(f"/invitations/{cancelled.id}/cancel").status_code == 200

    def emails(query):
        response = api.get(f"/invitations{query}")
        assert response.status_code == 200, response.get_json()
        return [row["email"] for row in response.get_json()["data"]]

    assert emails("") == ["alpine@school.test", "beta@example.com", "alpha@example.com"]
    assert emails("?status=cancelled") == ["beta@example.com"]
    assert emails("?status=pending") == ["alpine@school.test", "alpha@example.com"]
    assert emails("?email=alp") == ["alpine@school.test", "alpha@example.com"]
    assert emails("?email=ALP&status=pending") == ["alpine@school.test", "alpha@example.com"]
    assert emails("?email=example.com&status=cancelled") == ["beta@example.com"]
    assert emails("?status=accepted") == []
    assert_error(api.get("/invitations?status=lost"), 422, "invalid", "status")
    assert_error(api.get("/invitations?limit=0"), 422, "invalid", "limit")
    assert_error(api.get("/invitations?limit=101"), 422, "invalid", "limit")


def test_cursor_paging_sees_each_of_seven_once_newest_first(api, team, make_invitation, other):
    made = []
    start = clock.now()
    for i in range(7):
        # Two share a moment: the id breaks the tie, and no row is lost or repeated.
        clock.freeze(start + timedelta(seconds=i // 2 * 2))
        made.append(make_invitation(team.org, team.owner, f"page{i}@example.com")[0].id)
    clock.unfreeze()
    seen, cursor, pages = [], None, 0
    while True:
        response = api.get("/invitations", query_string={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["data"]) <= 3
        seen += [row["id"] for row in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert seen == list(reversed(made))  # each once, newest first, none of the other organization's


@pytest.mark.parametrize("cursor", ["garbage!", "bm90IGpzb24", "WzEsMl0", "WyJub3QgYSB0aW1lIiwxXQ", "WyIyMDI2LTAxLTAxIiwtMV0",
                                    "é", "W10", "x" * 200])
def test_a_cursor_the_api_did_not_give_is_422_on_cursor(api, cursor):
    assert_error(api.get("/invitations", query_string={"cursor": cursor}), 422, "invalid", "cursor")
    assert_error(api.get("/members", query_string={"cursor": cursor}), 422, "invalid", "cursor")


def test_edit_an_invitation_changes_only_what_is_sent(api, team, group, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "edit@example.com")
    expires = invitation.expires_at
    response = api.patch(f"/invitations/{invitation.id}", {"role": "collaborator", "groups": [group.id]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["role"] == "collaborator" and [g["id"] for g in body["groups"]] == [group.id]
    row = fresh(Invitation, invitation.id)
    assert row.role == Role.COLLABORATOR and [g.id for g in row.groups] == [group.id]
    assert row.expires_at.date() == expires.date()
    assert any("via API token “HR sync”" in line and "edit@example.com" in line for line in activity_summaries(team.org))
    response = api.patch(f"/invitations/{invitation.id}", {"groups": []})
    assert response.status_code == 200 and response.get_json()["groups"] == []
    assert fresh(Invitation, invitation.id).role == Role.COLLABORATOR


def test_edit_refusals(api, team, other, make_invitation):
    invitation, _ = make_invitation(team.org, team.owner, "edit2@example.com")
    assert_error(api.patch(f"/invitations/{invitation.id}", {"role": "king"}), 422, "invalid", "role")
    assert_error(api.patch(f"/invitations/{invitation.id}", {"groups": [other.group.id]}), 422, "invalid", "groups")
    assert_error(api.patch(f"/invitations/{invitation.id}", {"expires_on": "yesterday"}), 422, "invalid", "expires_on")
    assert_error(api.patch(f"/invitations/{other.invitation.id}", {"role": "member"}), 404, "not_found")
    assert fresh(Invitation, other.invitation.id).role == Role.MEMBER
    assert api.post(f"/invitations/{invitation.id}/cancel").status_code == 200
    error = assert_error(api.patch(f"/invitations/{invitation.id}", {"role": "collaborator"}), 409)
    assert error["code"] != "invalid"
    assert fresh(Invitation, invitation.id).role == Role.MEMBER


def test_resend_gives_a_new_link_and_refuses_a_cancelled_one(api, client, team, make_invitation):
    invitation, old_token = make_invitation(team.org, team.owner, "resend@example.com")
    response = api.post(f"/invitations/{invitation.id}/resend")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["outcome"] == "resent" and body["email"] == "resend@example.com"
    assert body["invitation"]["id"] == invitation.id and body["invitation"]["status"] == "pending"
    assert client.get(f"/i/{old_token}").status_code != 200  # the old link stopped working
    assert any("sent again the invitation of resend@example.com" in line and "via API token “HR sync”" in line
               for line in activity_summaries(team.org))
    assert api.post(f"/invitations/{invitation.id}/cancel").status_code == 200
    error = assert_error(api.post(f"/invitations/{invitation.id}/resend"), 409, "refused")
    assert "cancelled" in error["message"]


def test_cancel_then_cancel_again_is_409(api, client, team, other, make_invitation):
    invitation, token = make_invitation(team.org, team.owner, "cancel@example.com")
    response = api.post(f"/invitations/{invitation.id}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert fresh(Invitation, invitation.id).status == Status.CANCELLED
    assert "cancelled the invitation of cancel@example.com via API token “HR sync”" in activity_summaries(team.org)
    error = assert_error(api.post(f"/invitations/{invitation.id}/cancel"), 409, "refused")
    assert "cancelled" in error["message"]
    assert_error(api.post(f"/invitations/{other.invitation.id}/cancel"), 404, "not_found")
    assert_error(api.post(f"/invitations/{other.invitation.id}/resend"), 404, "not_found")
    assert fresh(Invitation, other.invitation.id).status == Status.PENDING


# --- Invite links ---------------------------------------------------------------------------

def test_create_get_list_and_delete_an_invite_link(api, client, team, group, make_user, auth):
    response = api.post("/invite-links", {"access": "anyone", "role": "collaborator", "groups": [group.id],
                                          "max_uses": 3, "expiration": "never"})
    assert response.status_code == 201, response.get_json()
    link = response.get_json()
    assert (link["access"], link["role"], link["max_uses"], link["uses"], link["state"]) == (
        "anyone", "collaborator", 3, 0, "active")
    assert link["url"].startswith("http://localhost/l/")
    assert fresh(InviteLink, link["id"]).org_id == team.org.id
    assert any(line.endswith("via API token “HR sync”") and "link" in line for line in activity_summaries(team.org))
    # The url works: someone joins through it.
    joiner = make_user(name="Link Joiner")
    auth.login(joiner)
    path = link["url"].removeprefix("http://localhost")
    assert client.post_form(f"{path}/join").status_code == 302
    auth.logout()
    assert role_in(team.org, joiner) == Role.COLLABORATOR
    assert api.get(f"/invite-links/{link['id']}").get_json()["uses"] == 1
    listed = api.get("/invite-links").get_json()
    assert [row["id"] for row in listed["data"]] == [link["id"]] and listed["next_cursor"] is None
    response = api.delete(f"/invite-links/{link['id']}")
    assert response.status_code == 200 and response.get_json()["state"] == "deleted"
    assert response.get_json()["url"] is None
    assert fresh(InviteLink, link["id"]).deleted_at is not None
    assert api.get("/invite-links").get_json()["data"] == []
    assert api.get(f"/invite-links/{link['id']}").get_json()["state"] == "deleted"


def test_invite_link_refusals(api, team, other):
    assert_error(api.post("/invite-links", {"role": "king"}), 422, "invalid", "role")
    assert_error(api.post("/invite-links", {"access": "everyone"}), 422, "invalid", "access")
    assert_error(api.post("/invite-links", {"max_uses": 0}), 422, "invalid", "max_uses")
    assert_error(api.post("/invite-links", {"groups": [other.group.id]}), 422, "invalid", "groups")
    assert_error(api.post("/invite-links", {"expiration": "forever-ish"}), 422, "invalid", "expiration")
    assert db.session.scalar(db.select(db.func.count(InviteLink.id)).filter_by(org_id=team.org.id)) == 0
    assert_error(api.get(f"/invite-links/{other.link.id}"), 404, "not_found")
    assert_error(api.delete(f"/invite-links/{other.link.id}"), 404, "not_found")
    assert fresh(InviteLink, other.link.id).deleted_at is None


def test_deleting_a_deleted_link_is_refused_not_repeated(api, team, make_link):
    link, _ = make_link(team.org, team.owner)
    assert api.delete(f"/invite-links/{link.id}").status_code == 200
    error = assert_error(api.delete(f"/invite-links/{link.id}"), 409, "refused")
    assert "already deleted" in error["message"]
    deletions = [line for line in activity_summaries(team.org) if "deleted" in line]
    assert len(deletions) == 1, deletions


# --- Join requests --------------------------------------------------------------------------

def test_list_join_requests_by_status(api, team, make_user, make_join_request):
    first = make_join_request(team.org, team.owner, make_user(name="Ada Asker"), "Let me in")
    second = make_join_request(team.org, team.owner, make_user(name="Bo Asker"))
    body = api.get("/join-requests").get_json()
    assert [r["id"] for r in body["data"]] == [second.id, first.id]
    assert body["data"][1]["person"]["name"] == "Ada Asker" and body["data"][1]["message"] == "Let me in"
    assert api.post(f"/join-requests/{first.id}/reject").status_code == 200
    assert [r["id"] for r in api.get("/join-requests").get_json()["data"]] == [second.id]
    assert [r["id"] for r in api.get("/join-requests?status=rejected").get_json()["data"]] == [first.id]
    assert api.get("/join-requests?status=accepted").get_json()["data"] == []
    assert_error(api.get("/join-requests?status=dismissed"), 422, "invalid", "status")


def test_accept_a_join_request_makes_a_member_once(api, team, make_user, make_join_request):
    asker = make_user(name="Ada Asker")
    join_request = make_join_request(team.org, team.owner, asker)
    response = api.post(f"/join-requests/{join_request.id}/accept")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted" and body["decided_at"] is not None
    assert role_in(team.org, asker) == Role.MEMBER
    assert "accepted Ada Asker's request to join via API token “HR sync”" in activity_summaries(team.org)
    error = assert_error(api.post(f"/join-requests/{join_request.id}/accept"), 409, "refused")
    assert "already accepted" in error["message"]
    assert_error(api.post(f"/join-requests/{join_request.id}/reject"), 409, "refused")
    assert fresh(JoinRequest, join_request.id).status == RequestStatus.ACCEPTED
    assert db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(org_id=team.org.id, user_id=asker.id)) == 1


def test_accepting_an_unconfirmed_address_is_409(api, team, make_user, make_join_request):
    join_request = make_join_request(team.org, team.owner, make_user(name="Una Unconfirmed", verified=False))
    assert_error(api.post(f"/join-requests/{join_request.id}/accept"), 409, "refused")
    assert fresh(JoinRequest, join_request.id).status == RequestStatus.PENDING


def test_reject_and_dismiss_a_join_request(api, team, make_user, make_join_request, other):
    rejected = make_join_request(team.org, team.owner, make_user(name="Rex Rejected"))
    dismissed = make_join_request(team.org, team.owner, make_user(name="Dee Dismissed"))
    response = api.post(f"/join-requests/{rejected.id}/reject")
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"
    assert fresh(JoinRequest, rejected.id).status == RequestStatus.REJECTED
    response = api.delete(f"/join-requests/{dismissed.id}")
    assert response.status_code == 204 and response.get_data() == b""
    assert fresh(JoinRequest, dismissed.id) is None
    summaries = activity_summaries(team.org)
    assert "rejected Rex Rejected's request to join via API token “HR sync”" in summaries
    assert "dismissed Dee Dismissed's request to join via API token “HR sync”" in summaries
    assert_error(api.delete(f"/join-requests/{dismissed.id}"), 404, "not_found")
    assert_error(api.post(f"/join-requests/{rejected.id}/maybe"), 404)
    for call in (lambda: api.post(f"/join-requests/{other.join_request.id}/accept"),
                 lambda: api.post(f"/join-requests/{other.join_request.id}/reject"),
                 lambda: api.delete(f"/join-requests/{other.join_request.id}")):
        assert_error(call(), 404, "not_found")
    assert fresh(JoinRequest, other.join_request.id).status == RequestStatus.PENDING


# --- Members and groups ---------------------------------------------------------------------

def test_list_and_search_members(api, team, other):
    body = api.get("/members").get_json()
    assert [m["person"]["name"] for m in body["data"]] == [
        "Cole Collaborator", "Mia Member", "Max Manager", "Olivia Owner"]
    assert body["next_cursor"] is None
    assert [m["person"]["name"] for m in api.get("/members?search=mia").get_json()["data"]] == ["Mia Member"]
    assert [m["person"]["name"] for m in api.get("/members?search=MA").get_json()["data"]] == ["Max Manager"]
    assert api.get("/members?search=rival").get_json()["data"] == []  # another organization's member
    by_address = api.get("/members", query_string={"search": team.owner.email}).get_json()["data"]
    assert [m["id"] for m in by_address] == [team.memberships[Role.OWNER].id]
    assert api.get("/members?search=%25").get_json()["data"] == []  # % is a character, not a wildcard
    paged = api.get("/members?limit=3").get_json()
    rest = api.get("/members", query_string={"limit": 3, "cursor": paged["next_cursor"]}).get_json()
    assert [m["person"]["name"] for m in paged["data"] + rest["data"]] == [
        "Cole Collaborator", "Mia Member", "Max Manager", "Olivia Owner"]


def test_get_change_role_and_remove_a_member(api, team, other):
    membership = team.memberships[Role.MEMBER]
    body = api.get(f"/members/{membership.id}").get_json()
    assert (body["id"], body["role"], body["person"]["id"]) == (membership.id, "member", team.member.id)
    response = api.patch(f"/members/{membership.id}", {"role": "manager"})
    assert response.status_code == 200 and response.get_json()["role"] == "manager"
    assert role_in(team.org, team.member) == Role.MANAGER
    assert "changed Mia Member's role from Member to Manager via API token “HR sync”" in activity_summaries(team.org)
    response = api.delete(f"/members/{membership.id}")
    assert response.status_code == 204
    assert role_in(team.org, team.member) is None
    assert any("Mia Member" in line and line.endswith("via API token “HR sync”") for line in activity_summaries(team.org)[-1:])
    assert_error(api.get(f"/members/{membership.id}"), 404, "not_found")
    for call in (lambda: api.get(f"/members/{other.membership.id}"),
                 lambda: api.patch(f"/members/{other.membership.id}", {"role": "owner"}),
                 lambda: api.delete(f"/members/{other.membership.id}")):
        assert_error(call(), 404, "not_found")
    assert fresh(Membership, other.membership.id).role == Role.MEMBER


def test_member_refusals(api, team):
    owner = team.memberships[Role.OWNER]
    assert_error(api.patch(f"/members/{owner.id}", {"role": "king"}), 422, "invalid", "role")
    assert_error(api.patch(f"/members/{owner.id}", {}), 422, "invalid", "role")
    error = assert_error(api.patch(f"/members/{owner.id}", {"role": "member"}), 409, "refused")
    assert "at least one owner" in error["message"]
    assert_error(api.delete(f"/members/{owner.id}"), 409, "refused")
    assert role_in(team.org, team.owner) == Role.OWNER


def test_removing_a_member_takes_them_out_of_groups(app, api, team, group):
    with app.test_request_context():
        add_to_group(team.org, team.owner, group, team.member)
        db.session.commit()
    assert api.delete(f"/members/{team.memberships[Role.MEMBER].id}").status_code == 204
    assert db.session.scalar(db.select(db.func.count()).select_from(GroupMember).filter_by(user_id=team.member.id)) == 0


def test_list_groups(app, api, team, other):
    with app.test_request_context():
        first = create_group(team.org, team.owner, "Alpha", description="The first")
        db.session.commit()
        second = create_group(team.org, team.owner, "Beta")
        db.session.commit()
    body = api.get("/groups").get_json()
    assert [(g["id"], g["name"]) for g in body["data"]] == [(second.id, "Beta"), (first.id, "Alpha")]
    assert body["data"][1]["description"] == "The first" and body["next_cursor"] is None
    one = api.get("/groups?limit=1").get_json()
    assert [g["name"] for g in one["data"]] == ["Beta"] and one["next_cursor"]
    assert [g["name"] for g in api.get("/groups", query_string={"limit": 1, "cursor": one["next_cursor"]}).get_json()["data"]] == ["Alpha"]


def test_reads_write_nothing_to_the_activity_log(read_api, team):
    before = activity_summaries(team.org)
    for path in ("/invitations", "/invite-links", "/join-requests", "/members", "/groups"):
        assert read_api.get(path).status_code == 200, path
    assert activity_summaries(team.org) == before
