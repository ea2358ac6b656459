"""The API's token matrix (issue 20): every route of ``/api/v1`` (enumerated from
``app.url_map``, so a new one without an expectation fails) × the kinds of token a
request can present → the expected answer.

Kinds: none, malformed (another scheme), unknown, revoked, expired, a token whose maker
is no longer an owner (all 401), another organization's write token ("rival": Acme's ids
are 404 to it, and its lists are its own organization's: 200 with none of Acme's rows),
a read token (reads 200, writes 403) and a write token (the write is done: 2xx).

Every request starts as in production (``flask.g`` emptied, the session removed). Around
each one the whole database is read (but the login sessions): a refused request must have
left every row as it was. A token that opens the API may be marked "last used" even when
the operation is then refused (the token was used), so ``api_tokens.last_used_at`` is left
out of the comparison for the valid kinds only; for the kinds that open nothing, not a
byte may change. After an allowed write the database is put back, so each cell starts
from the same world."""
from datetime import timedelta

import pytest
from flask import g

from invites import clock
from invites.api.models import ApiToken, Scope
from invites.api.service import create_token, revoke_token
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.join_requests.models import Notify
from invites.join_requests.service import create_join_link, request_to_join
from invites.orgs.models import Membership, Role
from tests.test_authorization_matrix import restore

API = "/api/v1/"
DOCUMENTS = {"/api/v1/openapi.json", "/api/v1/docs"}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
REFUSED_KINDS = ("none", "malformed", "unknown", "revoked", "expired", "demoted_maker")
KINDS = REFUSED_KINDS + ("rival", "read", "write")

# What a write with the write token sends, and answers: (rule, method) -> (body, status).
WRITES = {
    ("/api/v1/invitations", "POST"): ({"emails": ["fresh.person@example.com"], "role": "member"}, 200),
    ("/api/v1/invitations/<int:invitation_id>", "PATCH"): ({"role": "manager"}, 200),
    ("/api/v1/invitations/<int:invitation_id>/resend", "POST"): (None, 200),
    ("/api/v1/invitations/<int:invitation_id>/cancel", "POST"): (None, 200),
    ("/api/v1/invite-links", "POST"): ({"access": "anyone", "role": "member"}, 201),
    ("/api/v1/invite-links/<int:link_id>", "DELETE"): (None, 200),
    ("/api/v1/join-requests/<int:request_id>", "DELETE"): (None, 204),
    ("/api/v1/join-requests/<int:request_id>/<any(accept, reject):decision>", "POST"): (None, 200),
    ("/api/v1/members/<int:membership_id>", "PATCH"): ({"role": "manager"}, 200),
    ("/api/v1/members/<int:membership_id>", "DELETE"): (None, 204),
}

# The resource each list shows, to compare its ids with the organization's.
LISTS = {
    "/api/v1/invitations": "invitations", "/api/v1/invite-links": "links",
    "/api/v1/join-requests": "requests", "/api/v1/members": "memberships", "/api/v1/groups": "groups",
}

# The resource a path id names.
OBJECTS = {"invitation_id": "invitations", "link_id": "links", "request_id": "requests",
           "membership_id": "memberships"}


def api_rows(app):
    """(rule, method) for every API rule but the two public documents, sorted."""
    pairs = [(rule, method) for rule in app.url_map.iter_rules()
             if rule.rule.startswith(API) and rule.rule not in DOCUMENTS
             for method in sorted(rule.methods - SKIPPED_METHODS)]
    return sorted(pairs, key=lambda pair: (pair[0].rule, pair[1]))


def _objects(app, org, owner, staff, make_user, make_invitation, make_link, add_member, label):
    """One of each kind of object in ``org``: {resource: [ids]} (the first id of each is
    the one URLs name)."""
    group = create_group(org, owner, f"{label} trainers")
    db.session.commit()
    person = make_user(name=f"{label} Person")
    membership = add_member(org, person, Role.MEMBER)
    db.session.add(GroupMember(group_id=group.id, user_id=person.id))
    db.session.commit()
    invitation, _ = make_invitation(org, owner, f"invitee@{label.lower()}.example.com", groups=[group])
    link, _ = make_link(org, staff, groups=[group])
    join_link, _ = create_join_link(org, owner, f"{label} volunteers", Role.MEMBER, [], Notify.NOBODY, [])
    request = request_to_join(join_link, make_user(name=f"{label} Requester"), "I would like to help.")
    db.session.commit()
    memberships = db.session.scalars(db.select(Membership.id).filter_by(org_id=org.id)).all()
    return {
        "invitations": [invitation.id], "links": [link.id], "requests": [request.id],
        "memberships": [membership.id] + [m for m in memberships if m != membership.id],
        "groups": [group.id],
    }


@pytest.fixture
def api_world(app, team, make_user, make_org, add_member, make_invitation, make_link):
    """Acme (the team's organization) and Rival Ventures, each with one object of each
    kind; a token of each kind. Plain values: every request gets a fresh session."""
    acme = _objects(app, team.org, team.owner, team.manager, make_user, make_invitation, make_link,
                    add_member, "Acme")
    rival_owner = make_user(name="Rita Rival")
    rival_org = make_org(owner=rival_owner, name="Rival Ventures")
    rival = _objects(app, rival_org, rival_owner, rival_owner, make_user, make_invitation, make_link,
                     add_member, "Rival")
    second_owner = make_user(name="Sam Second-Owner")
    second_membership = add_member(team.org, second_owner, Role.OWNER)
    tokens = {}
    with app.test_request_context():
        for kind, org, maker, scope in (
            ("read", team.org, team.owner, Scope.READ), ("write", team.org, team.owner, Scope.WRITE),
            ("revoked", team.org, team.owner, Scope.WRITE), ("expired", team.org, team.owner, Scope.WRITE),
            ("demoted_maker", team.org, second_owner, Scope.WRITE),
            ("rival", rival_org, rival_owner, Scope.WRITE),
        ):
            row, tokens[kind] = create_token(org, maker, f"Matrix {kind}", scope)
            if kind == "revoked":
                revoke_token(org, maker, row)
            if kind == "expired":
                row.expires_at = clock.now() - timedelta(days=1)
        db.session.commit()
    # The second owner made a token, then became a manager: the token acts as nobody now.
    db.session.get(Membership, second_membership.id).role = Role.MANAGER
    db.session.commit()
    headers = {kind: {"Authorization": f"Bearer {token}"} for kind, token in tokens.items()}
    headers["none"] = {}
    headers["malformed"] = {"Authorization": f"Token {tokens['write']}"}
    headers["unknown"] = {"Authorization": "Bearer inv_" + "x" * 43}
    world = {"acme": acme, "rival": rival, "headers": headers}
    db.session.remove()
    return world


def url_of(app, rule, method, ids):
    args = {name: "accept" if name == "decision" else ids[OBJECTS[name]][0] for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, args, method=method)


def fresh_request_state():
    for name in list(vars(g)):
        delattr(g, name)
    db.session.remove()


def send(client, method, url, headers, body=None):
    fresh_request_state()
    response = client.open(url, method=method, headers=headers, json=body)
    response.get_data()
    db.session.remove()
    return response


def snapshot(ignore_last_used):
    """Every row of every table but the login sessions; without the tokens' "last used"
    when ``ignore_last_used``."""
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name == "user_sessions":
            continue
        columns = [c for c in table.columns if not (ignore_last_used and c is ApiToken.__table__.c.last_used_at)]
        order = list(table.primary_key.columns) or list(table.columns)
        state[table.name] = [tuple(row) for row in db.session.execute(db.select(*columns).order_by(*order))]
    db.session.remove()
    return state


def changed_tables(before, after):
    return sorted(name for name in before if before[name] != after[name])


def ids_in(body):
    return {item["id"] for item in body["data"]}


@pytest.mark.parametrize("kind", KINDS)
def test_api_token_matrix(app, client, api_world, kind):
    world = api_world
    acme, rival = world["acme"], world["rival"]
    headers = world["headers"][kind]
    valid = kind not in REFUSED_KINDS
    full = snapshot(ignore_last_used=False)
    unexpected, checked = [], 0
    for rule, method in api_rows(app):
        url = url_of(app, rule, method, acme)
        label = f"{method} {url} with the {kind} token"
        body, write_status = WRITES.get((rule.rule, method), (None, 200))
        if method != "GET" and (rule.rule, method) not in WRITES:
            unexpected.append(f"{label}: no expectation in WRITES")
            continue
        before = snapshot(ignore_last_used=valid)
        response = send(client, method, url, headers, body)
        after = snapshot(ignore_last_used=valid)
        changed = changed_tables(before, after)
        checked += 1
        status = response.status_code
        payload = response.get_json(silent=True)
        is_list = rule.rule in LISTS

        if kind in REFUSED_KINDS:
            expected = 401
        elif kind == "read":
            expected = 200 if method == "GET" else 403
        elif kind == "rival":
            expected = write_status if is_list else 404
        else:
            expected = write_status

        if status != expected:
            unexpected.append(f"{label}: expected {expected}, got {status}: {response.get_data(as_text=True)[:200]}")
        elif status >= 400:
            code = {401: "unauthorized", 403: "forbidden", 404: "not_found"}[status]
            if not (payload and payload.get("error", {}).get("code") == code):
                unexpected.append(f"{label}: not the JSON error {code!r}: {payload}")
            if status == 401 and not response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
                unexpected.append(f"{label}: 401 without WWW-Authenticate: Bearer")

        allowed_write = status < 400 and method != "GET"
        if allowed_write:
            if not changed:
                unexpected.append(f"{label}: answered {status} and changed nothing")
            if kind == "rival":
                # Made in the rival's organization: Acme's rows are untouched.
                made = payload["results"][0]["invitation"]["id"] if "results" in payload else payload["id"]
                resource = LISTS[rule.rule]
                if made in acme[resource]:
                    unexpected.append(f"{label}: made Acme's {resource} {made}")
            restore(full)
        elif changed:
            unexpected.append(f"{label}: refused ({status}) but changed {', '.join(changed)}")

        if status == 200 and method == "GET":
            resource = LISTS.get(rule.rule)
            if resource is not None:
                shown = ids_in(payload)
                own, other = (rival, acme) if kind == "rival" else (acme, rival)
                if shown & set(other[resource]):
                    unexpected.append(f"{label}: shows the other organization's {resource} {shown & set(other[resource])}")
                if not set(own[resource]) <= shown:
                    unexpected.append(f"{label}: misses its own {resource} {set(own[resource]) - shown}")
            else:
                (argument,) = rule.arguments
                if payload.get("id") != acme[OBJECTS[argument]][0]:
                    unexpected.append(f"{label}: not the object asked for: {payload}")
    assert checked >= 18
    assert not unexpected, f"{len(unexpected)} unexpected answers:\n" + "\n".join(unexpected)
    if kind in REFUSED_KINDS:
        assert snapshot(ignore_last_used=False) == full


def test_every_api_route_has_a_row(app):
    """Writes need a body and an answer in WRITES; a new route without one fails."""
    pairs = {(rule.rule, method) for rule, method in api_rows(app)}
    writes = {pair for pair in pairs if pair[1] != "GET"}
    assert writes == set(WRITES)
    assert {rule for rule, method in pairs if method == "GET" and "<" not in rule} == set(LISTS)


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_an_id_no_row_can_have_is_a_404_not_a_500(app, client, api_world, huge):
    """Found by Schemathesis: SQLite cannot bind an integer past 64 bits (OverflowError)."""
    headers = api_world["headers"]["write"]
    before = snapshot(ignore_last_used=True)
    for rule, method in api_rows(app):
        if not set(rule.arguments) & set(OBJECTS):
            continue
        url = url_of(app, rule, method, {resource: [huge] for resource in OBJECTS.values()})
        body, _ = WRITES.get((rule.rule, method), (None, None))
        response = send(client, method, url, headers, body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.get_json()["error"]["code"] == "not_found"
    assert snapshot(ignore_last_used=True) == before
