"""Schemathesis over every operation of ``/api/v1/openapi.json`` (issue 20), in-process,
with a read token and with a write token of an organization that has one of everything:
no answer is a server error, and every answer is one the document describes (a documented
status or the default error, its content type, a body that conforms to its schema).

Generated requests run as production runs them: ``flask.g`` emptied and the database
session removed before each one (the ``app`` fixture keeps one app context pushed; see
``tests/test_authorization_matrix.py``). Path ids are mostly the organization's real
objects, so the operations reach their services rather than only answering 404. Writes
change the data as they go (members removed, invitations cancelled...); the owner stays
an owner, since the last owner can be neither demoted nor removed.

Both generation modes run: schema-valid data (it must never be a 5xx or break the
document) and schema-invalid data (it must be refused with a 4xx, not accepted)."""
import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, settings
from werkzeug.exceptions import HTTPException

from invites.api.service import create_token
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.join_requests.models import Notify
from invites.join_requests.service import create_join_link, request_to_join
from invites.orgs.models import Role
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.conftest import _make_app

# The document does not depend on the database: read it from an app of its own.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _make_app("sqlite://"))
# The token is the test's to send (a read or a write one); requests without one, or with a
# bad one, are tests/api/test_api_matrix.py's. Unknown query arguments are ignored, as
# most APIs do, rather than refused: not generated as "invalid" data.
schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]

# Path ids taken from the world (the generated integer picks one of them, or stays as
# generated: mostly an id of nothing, a 404).
ID_PARAMETERS = {"invitation_id": "invitations", "link_id": "links", "request_id": "requests",
                 "membership_id": "memberships"}


@pytest.fixture
def world(app, team, make_user, add_member, make_invitation, make_link):
    """Acme Training with an invitation, an invite link, a pending join request from a
    verified account, a group with a member, every role; a read and a write token of its
    owner. Plain values: every request gets a fresh session."""
    org = team.org
    group = create_group(org, team.owner, "Trainers")
    db.session.commit()
    db.session.add(GroupMember(group_id=group.id, user_id=team.member.id))
    db.session.commit()
    invitation, _ = make_invitation(org, team.owner, "invitee@example.com", groups=[group])
    second, _ = make_invitation(org, team.owner, "second.invitee@example.com", role=Role.MANAGER)
    link, _ = make_link(org, team.manager, groups=[group])
    join_link, _ = create_join_link(org, team.owner, "Volunteers", Role.MEMBER, [], Notify.NOBODY, [])
    request = request_to_join(join_link, make_user(name="Rhea Requester"), "I would like to help.")
    second_request = request_to_join(join_link, make_user(name="Ravi Requester"), "")
    db.session.commit()
    tokens = {}
    with app.test_request_context():
        for scope in ("read", "write"):
            _, tokens[scope] = create_token(org, team.owner, f"Schemathesis {scope}", scope)
        db.session.commit()
    ids = {
        "invitations": [invitation.id, second.id],
        "links": [link.id],
        "requests": [request.id, second_request.id],
        "memberships": [m.id for m in team.memberships.values()],
        "group": group.id,
    }
    db.session.remove()
    return {"tokens": tokens, "ids": ids}


def fresh_request_state():
    """What a new app context would give the next request (see the matrix's docstring)."""
    for name in list(vars(g)):
        delattr(g, name)
    db.session.remove()


def use_real_ids(case, ids):
    """Point the case's path ids at the world's objects: the generated integer picks one,
    sometimes it stays as generated. Negative numbers and non-integers (invalid data) stay."""
    for name, kind in ID_PARAMETERS.items():
        value = (case.path_parameters or {}).get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            choices = ids[kind]
            pick = value % (len(choices) + 1)
            if pick < len(choices):
                case.path_parameters[name] = choices[pick]


@pytest.fixture
def answers(scope, request):
    """The statuses the operation's own method got in this test; afterwards, that it was
    reached at least once: a 2xx for what the token may do, else a 403."""
    seen = []
    yield seen
    operation = request.node.callspec.id if hasattr(request.node, "callspec") else request.node.name
    reading = seen and seen[0][0] == "GET"
    if scope == "write" or reading:
        assert any(200 <= status < 300 for _, status in seen), f"{operation}: no 2xx in {sorted(seen)}"
    else:
        assert any(status == 403 for _, status in seen), f"{operation}: no 403 in {sorted(seen)}"


@pytest.mark.parametrize("scope", ["read", "write"])
@schema.parametrize()
@settings(
    max_examples=20, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_every_operation_answers_as_documented(app, world, scope, answers, case):
    use_real_ids(case, world["ids"])
    fresh_request_state()
    response = case.call(app=app, headers={"Authorization": f"Bearer {world['tokens'][scope]}"})
    db.session.remove()
    if case.method.upper() == case.operation.method.upper():
        answers.append((case.method.upper(), response.status_code))
    case.validate_response(response, checks=CHECKS, headers={"Authorization": "Bearer …"})
    if scope == "read" and case.method.upper() not in ("GET", "HEAD", "OPTIONS"):
        # A read token never writes: refused before anything runs (a path that leads to
        # no route, such as /members/null, is a 404 before that).
        expected = {403} if routes_to_a_view(app, case) else {404, 405}
        assert response.status_code in expected, (case.method, case.formatted_path, response.status_code)


def routes_to_a_view(app, case):
    try:
        app.url_map.bind("localhost").match(case.formatted_path, case.method.upper())
    except HTTPException:
        return False
    return True

