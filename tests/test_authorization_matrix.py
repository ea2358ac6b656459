"""The authorization matrix: every route of the app × seven actors → the expected answer.

The rows are enumerated from ``app.url_map``, so a new route (or a new method on a route)
without an entry in ``TABLE`` fails. Each expectation was read from the route's code and
the policy (docs/architecture.md): 302 to the login page for anonymous visitors on
``login_required`` routes, 404 for people outside the organization (``policy.require``
does not confirm what exists there), 403 for members without the right.

Actors: anonymous, "nobody" (an account in no organization: the team's outsider, to whom
the world's invitation is addressed), Acme's collaborator, member, manager and owner, and
"rival", the owner of another organization acting on Acme's objects by id through Acme's
URLs.

How a row runs:

- Every request starts as it would in production: ``flask.g`` emptied and the database
  session removed (the ``app`` fixture keeps one app context pushed, and Flask reuses it
  for test requests, so Flask-Login's cached user, the CSRF token and the per-request
  role cache would otherwise leak from one request, or one client, to the next). A
  ``request_started`` receiver records who each request runs as; it must be the actor.
- POSTs carry the data that would change something if the actor were allowed (a real
  role change, ``confirmed=yes`` on removals...). Before and after each request the whole
  database is read: an answer marked ``C(...)`` must have changed it, any other answer
  must have left every table exactly as it was. After a change the database is put back
  to the world's snapshot, so each row starts from the same world.
- Rows that end or start a session (logout, switch account, register) get a freshly
  logged-in client afterwards. The login sessions (``user_sessions``) are not compared,
  and putting the database back keeps them as they are: the matrix logs actors in itself.

Run with ``-s`` to see the one-line summary printed by the last test.
"""
import io
import traceback
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import g, request_started
from flask_login import current_user

from invites import clock
from invites.accounts.service import password_reset_token, verification_token
from invites.api.models import Scope
from invites.api.service import create_token
from invites.extensions import db
from invites.groups.models import GroupMember, JoinMethod
from invites.groups.service import create_group
from invites.imports.service import preview_import
from invites.join_page.service import page_of
from invites.join_requests.models import Notify
from invites.join_requests.service import create_join_link, request_to_join
from invites.mail.models import OutboxMessage
from invites.notifications.models import Notification
from invites.orgs.models import Plan, Role
from invites.webhooks.models import WebhookDelivery
from invites.webhooks.outbox import write
from invites.webhooks.service import add_endpoint
from tests.conftest import PASSWORD

ACTORS = ("anonymous", "nobody", "collaborator", "member", "manager", "owner", "rival")
LOGIN = "302→/login"  # a redirect to the login page (with or without ?next=)
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
API = "/api/v1/"


@dataclass(frozen=True)
class C:
    """This answer, and the request changed the database (allowed and done)."""

    code: object

    def __str__(self):
        return f"{self.code} (changed)"


@dataclass
class Row:
    codes: dict
    data: object = None        # dict, or callable(world) -> dict, for the request body
    query: str = ""            # appended to the URL
    session: bool = False      # ends or starts a session: log the actor in again after it


def R(anonymous, nobody, collaborator, member, manager, owner, rival, **options):
    codes = dict(zip(ACTORS, (anonymous, nobody, collaborator, member, manager, owner, rival)))
    return Row(codes, **options)


# --- Request bodies ------------------------------------------------------------------------

CONFIRMED = {"confirmed": "yes"}
INVITE = {"addresses": "fresh.person@example.com", "role": Role.MEMBER, "message": "Welcome aboard"}
LEARNERS_CSV = b"email,groups,first name,last name\nnew.learner@example.com,Trainers,New,Learner\n"


def _upload(world):
    return {"file": (io.BytesIO(LEARNERS_CSV), "learners.csv")}


def _edit(role, *group_ids, days=20):
    """An edit of an invitation: ``role``, these groups, a last day ``days`` ahead."""
    return {"role": role, "groups": [str(gid) for gid in group_ids],
            "expires_on": (clock.now() + timedelta(days=days)).date().isoformat()}


def _add_mia_to_group(world):
    return {"person": world.member_username}


# --- The table -----------------------------------------------------------------------------
# One entry per (rule, method) of app.url_map. Columns, in order:
#   anonymous, nobody, collaborator, member, manager, owner, rival
# An int is the status code; LOGIN a 302 to the login page (any other 302 must go
# elsewhere); C(x) that answer with the database changed.

TABLE = {
    # Dashboard: the welcome page for visitors, "Hello, <name>" for accounts.
    ("/", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    # The account page; a password change (every account may change its own) keeps the
    # actor logged in with a new session key.
    ("/account", "GET"): R(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/account/password", "POST"): R(
        LOGIN, C(302), C(302), C(302), C(302), C(302), C(302),
        data={"current_password": PASSWORD, "password": "a brand new password",
              "confirm": "a brand new password"},
    ),
    # "Log out of all devices", confirmed: every session of the account ends, this one too.
    ("/account/log-out-everywhere", "POST"): R(
        LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, data=CONFIRMED, session=True,
    ),
    # Every account is verified: nothing is sent, back to the dashboard.
    ("/account/verify", "POST"): R(LOGIN, 302, 302, 302, 302, 302, 302),
    # Name and username: every account changes its own.
    ("/account/profile", "POST"): R(
        LOGIN, C(302), C(302), C(302), C(302), C(302), C(302),
        data={"name": "A New Name", "username": "a-new-username"},
    ),
    # The time zone dates are shown in: every account sets its own.
    ("/account/time-zone", "POST"): R(
        LOGIN, C(302), C(302), C(302), C(302), C(302), C(302), data={"time_zone": "Europe/Paris"},
    ),

    # The development outbox: TestConfig sets DEV_OUTBOX_PAGE, so it is open to anyone here
    # (test_the_dev_outbox_is_404_unless_turned_on checks it is 404 otherwise).
    ("/dev/outbox", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/dev/outbox/<int:message_id>/html", "GET"): R(200, 200, 200, 200, 200, 200, 200),

    # The emailed invitation link; the invitation is addressed to "nobody". Logged in with
    # another address: 403 (wrong account), nothing written. Anyone holding the link may
    # decline it, even without an account; accepting needs the invited account.
    ("/i/<token>", "GET"): R(200, 200, 403, 403, 403, 403, 403),
    ("/i/<token>/accept", "POST"): R(LOGIN, C(302), 403, 403, 403, 403, 403),
    ("/i/<token>/decline", "POST"): R(C(200), C(200), 403, 403, 403, 403, 403),
    # The address has an account already: visitors are sent to log in; accounts go back
    # to /i/<token>.
    ("/i/<token>/register", "GET"): R(LOGIN, 302, 302, 302, 302, 302, 302),
    ("/i/<token>/register", "POST"): R(
        LOGIN, 302, 302, 302, 302, 302, 302,
        data={"name": "Nat Newcomer", "username": "natnew", "email": "nat@example.com",
              "password": PASSWORD, "confirm": PASSWORD},
        session=True,
    ),
    # "Ask for a new invitation" (issue 18) is for dead invitations; this one is open, so
    # every account is sent back to its page and nothing is written.
    ("/i/<token>/ask", "POST"): R(LOGIN, 302, 302, 302, 302, 302, 302),
    # "Use another account": logs out, then the login page.
    ("/i/<token>/switch", "POST"): R(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, session=True),
    # Answering from the bell or the dashboard: only invitations sent to one's own address.
    ("/invitations/<int:invitation_id>/accept", "POST"): R(LOGIN, C(302), 404, 404, 404, 404, 404),
    ("/invitations/<int:invitation_id>/decline", "POST"): R(LOGIN, C(302), 404, 404, 404, 404, 404),

    # The Join Web Page (premium, on, no domain rules). Members see "you are a member"
    # (200) and are refused the POST (403); anyone else with an account joins.
    ("/join/<slug>", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/join/<slug>", "POST"): R(LOGIN, C(302), 403, 403, 403, 403, C(302)),

    # The invite link ("anyone with the link", no groups): members are already in, so
    # nothing is used; other accounts join.
    ("/l/<token>", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/l/<token>/join", "POST"): R(LOGIN, C(302), 302, 302, 302, 302, C(302)),
    # "Ask for a new invitation" is for expired or used-up links; this one works: back to it.
    ("/l/<token>/ask", "POST"): R(LOGIN, 302, 302, 302, 302, 302, 302),

    ("/login", "GET"): R(200, 302, 302, 302, 302, 302, 302),
    ("/login", "POST"): R(
        200, 302, 302, 302, 302, 302, 302,
        data={"email": "no.such.person@example.com", "password": "not the password"},
        session=True,
    ),
    ("/logout", "POST"): R(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, session=True),
    # Showing the page changes nothing. "Mark all as read" marks what each has: the staff
    # the join request's notification, "nobody" the invitation's.
    ("/notifications", "GET"): R(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/notifications/read", "POST"): R(LOGIN, C(302), 302, 302, C(302), C(302), 302),
    # The owner's notification of the join request: only its owner marks it read.
    ("/notifications/<int:notification_id>/read", "POST"): R(LOGIN, 404, 404, 404, 404, C(302), 404),

    # --- The organization ----------------------------------------------------------------
    ("/o/<slug>", "GET"): R(LOGIN, 404, 200, 200, 200, 200, 404),
    ("/o/<slug>/manage", "GET"): R(LOGIN, 404, 403, 403, 302, 302, 404),  # to the Overview
    ("/o/<slug>/manage/members", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/manage/activity", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/permissions", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/permissions", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404,
        data={"managers_may_add_people": "y", "members_may_add_people": "y",
              "invitation_lifetime_days": "30"},
    ),
    # Mia's membership: only owners change roles or remove people.
    ("/o/<slug>/members/<int:membership_id>/role", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404, data={"role": Role.MANAGER},
    ),
    ("/o/<slug>/members/<int:membership_id>/remove", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404, data=CONFIRMED,
    ),
    # The last day of a member's access (issue 19): owners only, like roles.
    ("/o/<slug>/members/<int:membership_id>/access", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404, data={"access_until": "2099-12-31"},
    ),
    # Any member may leave; the last owner is refused (flash, back to the organization).
    ("/o/<slug>/leave", "POST"): R(LOGIN, 404, C(302), C(302), C(302), 302, 404, data=CONFIRMED),
    ("/orgs", "GET"): R(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/orgs/new", "GET"): R(LOGIN, 200, 200, 200, 200, 200, 200),
    ("/orgs/new", "POST"): R(
        LOGIN, C(302), C(302), C(302), C(302), C(302), C(302), data={"name": "Matrix Org"},
    ),

    # --- Groups (the group "Trainers" is open; Gus Groupie is in it) -----------------------
    ("/o/<slug>/groups", "GET"): R(LOGIN, 404, 200, 200, 200, 200, 404),
    ("/o/<slug>/groups", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404,
        data={"name": "Matrix Group", "join_method": JoinMethod.OPEN},
    ),
    ("/o/<slug>/groups/<int:group_id>", "GET"): R(LOGIN, 404, 200, 200, 200, 200, 404),
    # The group's invitations (seed 004): staff and the group's managers (no actor here
    # manages Trainers; GROUP_TABLE below has the group managers).
    ("/o/<slug>/groups/<int:group_id>/invitations", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/groups/<int:group_id>", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404,
        data={"name": "Trainers Renamed", "join_method": JoinMethod.INVITE_ONLY},
    ),
    ("/o/<slug>/groups/<int:group_id>/delete", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=CONFIRMED,
    ),
    # Joining an open group is for the organization's people, whatever their role.
    ("/o/<slug>/groups/<int:group_id>/join", "POST"): R(LOGIN, 404, C(302), C(302), C(302), C(302), 404),
    # No actor is in the group: refused by the service (flash), nothing changes.
    ("/o/<slug>/groups/<int:group_id>/leave", "POST"): R(LOGIN, 404, 302, 302, 302, 302, 404),
    ("/o/<slug>/groups/<int:group_id>/members", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=_add_mia_to_group,
    ),
    ("/o/<slug>/groups/<int:group_id>/members/<int:user_id>/manager", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data={"is_manager": "yes"},
    ),
    ("/o/<slug>/groups/<int:group_id>/members/<int:user_id>/remove", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=CONFIRMED,
    ),

    # --- Email invitations -----------------------------------------------------------------
    ("/o/<slug>/manage/invitations", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/manage/invitations/email", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/invitations/email", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404,
        data={"invitation_subject": "Come train with us", "invitation_intro": "We meet on Mondays."},
    ),
    ("/o/<slug>/invitations/<int:invitation_id>/resend", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404,
    ),
    ("/o/<slug>/invitations/<int:invitation_id>/cancel", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=CONFIRMED,
    ),
    # Editing a pending invitation (issue 18): the staff; a plain GET of the row goes back
    # to the panel (htmx gets the row). The world's invitation is Member, in no group.
    ("/o/<slug>/invitations/<int:invitation_id>", "GET"): R(LOGIN, 404, 403, 403, 302, 302, 404),
    ("/o/<slug>/invitations/<int:invitation_id>/edit", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/invitations/<int:invitation_id>/edit", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=lambda world: _edit(Role.MANAGER),
    ),
    # "people.invite": staff; a member only when managing a group (Mia does not).
    ("/o/<slug>/invitations/new", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/invitations/new", "POST"): R(LOGIN, 404, 403, 403, C(302), C(302), 404, data=INVITE),
    ("/o/<slug>/invitations/preview", "POST"): R(LOGIN, 404, 403, 403, 200, 200, 404, data=INVITE),
    ("/o/<slug>/invitations/preview.html", "POST"): R(LOGIN, 404, 403, 403, 200, 200, 404, data=INVITE),
    ("/o/<slug>/invitations/people", "GET"): R(
        LOGIN, 404, 403, 403, 200, 200, 404, query="?person=mi",
    ),

    # --- Invite links (made by the manager) ------------------------------------------------
    ("/o/<slug>/manage/links", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/links/new", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/links/new", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404,
        data={"expiration": "7d", "access": "members", "role": Role.MEMBER},
    ),
    # "links.create": staff, or a member for the groups they are in (Mia is in none here;
    # MEMBER_LINK_TABLE below has members in groups). "links.edit": staff, or the member
    # who made the link (not Mia here).
    ("/o/<slug>/links/<int:link_id>", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    # Whoever may manage the link shares it again at any time: its token is kept encrypted
    # (the mail goes to the outbox, counted in the day's quota).
    ("/o/<slug>/links/<int:link_id>/share", "POST"): R(
        LOGIN, 404, 403, 403, C(200), C(200), 404, data={"addresses": "friend@example.com", "note": "Join us"},
    ),
    ("/o/<slug>/links/<int:link_id>/delete", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=CONFIRMED,
    ),
    # The link's QR code (issue 19): whoever may see the link's page ("links.edit").
    ("/o/<slug>/links/<int:link_id>/qr.svg", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/links/<int:link_id>/qr.png", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/links/<int:link_id>/qr/print", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),

    # --- Join request links and requests ---------------------------------------------------
    ("/o/<slug>/manage/join-links", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/join-links/new", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/join-links/new", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404,
        data={"description": "Matrix link", "role": Role.MEMBER, "notify": Notify.ALL},
    ),
    ("/o/<slug>/join-links/<int:link_id>", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/join-links/<int:link_id>", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404,
        data={"description": "Volunteers (edited)", "role": Role.MEMBER, "notify": Notify.ALL,
              "active": "y"},
    ),
    ("/o/<slug>/manage/join-requests", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/join-requests/<int:request_id>/<any(accept, reject, dismiss):decision>", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=CONFIRMED,
    ),
    # The public join request link: members are told they are members (200, nothing
    # written); other accounts ask.
    ("/r/<token>", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/r/<token>", "POST"): R(LOGIN, C(200), 200, 200, 200, 200, C(200), data={"message": "Let me in"}),

    # --- Join Web Page panel (owners; premium) ---------------------------------------------
    ("/o/<slug>/manage/join-page", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/join-page", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404,
        data={"enabled": "y", "slug": "acme-training", "allowed_domains": "example.com"},
    ),
    # The page's QR code (issue 19; the page is on): owners, as the panel.
    ("/o/<slug>/manage/join-page/qr.svg", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/join-page/qr.png", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/join-page/qr/print", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),

    # --- Import Learners (staff; premium; the manager may add new people) ------------------
    ("/o/<slug>/manage/imports", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/imports/template.<any(csv, xlsx):kind>", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/imports", "POST"): R(LOGIN, 404, 403, 403, C(302), C(302), 404, data=_upload),
    ("/o/<slug>/imports/<int:import_id>", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/imports/<int:import_id>/run", "POST"): R(
        LOGIN, 404, 403, 403, C(302), C(302), 404, data=CONFIRMED,
    ),

    # --- CSV exports (issue 19): whoever may see the panel; GETs, nothing changes -----------
    ("/o/<slug>/manage/members/export.csv", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/manage/invitations/export.csv", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/manage/join-requests/export.csv", "GET"): R(LOGIN, 404, 403, 403, 200, 200, 404),
    ("/o/<slug>/manage/activity/export.csv", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),

    # --- Accounts ----------------------------------------------------------------------------
    ("/register", "GET"): R(200, 302, 302, 302, 302, 302, 302),
    ("/register", "POST"): R(
        C(302), 302, 302, 302, 302, 302, 302,
        data={"name": "Reg Istrant", "username": "registrant", "email": "registrant@example.com",
              "password": PASSWORD, "confirm": PASSWORD},
        session=True,
    ),
    # Una's confirmation link: GET shows a button; the POST confirms her address, whoever
    # holds the link (it is the proof).
    ("/verify/<token>", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/verify/<token>", "POST"): R(C(LOGIN), C(302), C(302), C(302), C(302), C(302), C(302)),
    # "Forgot your password?": the same answer for an address no account uses (nothing is
    # mailed); an account goes to its own page to change it. Una's reset link: whoever holds
    # it sets her password (it is the proof, and confirms her address), then every session
    # of hers ends and the browser is logged out, to log in with it.
    ("/password/forgot", "GET"): R(200, 302, 302, 302, 302, 302, 302),
    ("/password/forgot", "POST"): R(LOGIN, 302, 302, 302, 302, 302, 302, data={"email": "no.one@example.com"}),
    ("/password/reset/<token>", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/password/reset/<token>", "POST"): R(
        C(LOGIN), C(LOGIN), C(LOGIN), C(LOGIN), C(LOGIN), C(LOGIN), C(LOGIN),
        data={"password": "a brand new password", "confirm": "a brand new password"}, session=True,
    ),

    ("/static/<path:filename>", "GET"): R(200, 200, 200, 200, 200, 200, 200),

    # --- API Tokens panel (issue 20): owners only ("api_tokens.manage"). Creating answers
    # the panel with the new token on it (shown once); revoking goes back to the panel.
    ("/o/<slug>/manage/api-tokens", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/api-tokens", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(200), 404, data={"name": "HR sync", "scope": "read"},
    ),
    ("/o/<slug>/manage/api-tokens/<int:token_id>/revoke", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404, data=CONFIRMED,
    ),

    # --- Webhooks panel (issue 21): owners only ("webhooks.manage"). Adding answers the panel
    # with the new secret on it (shown once); the endpoint's actions go back to its page.
    # Its endpoint posts to a closed port on 127.0.0.1: "Send test event" fails at once,
    # and is logged (a change).
    ("/o/<slug>/manage/webhooks", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/webhooks", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(200), 404,
        data={"url": "http://127.0.0.1:9/another-hook", "description": "LMS", "events": ["member.joined"]},
    ),
    ("/o/<slug>/manage/webhooks/<int:endpoint_id>", "GET"): R(LOGIN, 404, 403, 403, 403, 200, 404),
    ("/o/<slug>/manage/webhooks/<int:endpoint_id>/events", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404, data={"events": ["member.joined", "member.removed"]},
    ),
    ("/o/<slug>/manage/webhooks/<int:endpoint_id>/<any(enable, disable):change>", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404,
    ),
    ("/o/<slug>/manage/webhooks/<int:endpoint_id>/test", "POST"): R(LOGIN, 404, 403, 403, 403, C(302), 404),
    ("/o/<slug>/manage/webhooks/<int:endpoint_id>/delete", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404, data=CONFIRMED,
    ),
    ("/o/<slug>/manage/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver", "POST"): R(
        LOGIN, 404, 403, 403, 403, C(302), 404,
    ),

    # --- The JSON API (issue 20): a bearer token or nothing. A session cookie opens nothing
    # there (401, JSON), whoever it is; tests/api/test_api_matrix.py has the tokens. Its
    # description and reference page are public.
    ("/api/v1/openapi.json", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    ("/api/v1/docs", "GET"): R(200, 200, 200, 200, 200, 200, 200),
    **{
        (f"/api/v1{path}", method): R(401, 401, 401, 401, 401, 401, 401)
        for path, methods in {
            "/invitations": ("GET", "POST"),
            "/invitations/<int:invitation_id>": ("GET", "PATCH"),
            "/invitations/<int:invitation_id>/resend": ("POST",),
            "/invitations/<int:invitation_id>/cancel": ("POST",),
            "/invite-links": ("GET", "POST"),
            "/invite-links/<int:link_id>": ("GET", "DELETE"),
            "/join-requests": ("GET",),
            "/join-requests/<int:request_id>": ("DELETE",),
            "/join-requests/<int:request_id>/<any(accept, reject):decision>": ("POST",),
            "/members": ("GET",),
            "/members/<int:membership_id>": ("GET", "PATCH", "DELETE"),
            "/groups": ("GET",),
        }.items()
        for method in methods
    },
}


# --- The world -------------------------------------------------------------------------------

def _url_values(world):
    """(endpoint, argument) -> value, with the argument alone as the fallback."""
    return {
        "slug": world.slug,
        "group_id": world.group_id,
        "user_id": world.groupie_id,
        "import_id": world.import_id,
        "kind": "csv",
        "invitation_id": world.invitation_id,
        "membership_id": world.membership_id,
        "request_id": world.join_request_id,
        "decision": "accept",
        "message_id": world.outbox_message_id,
        "notification_id": world.owner_notification_id,
        "filename": "app.js",
        ("links", "link_id"): world.link_id,
        ("join_requests", "link_id"): world.join_link_id,
        ("invitations", "token"): world.invitation_token,
        ("links", "token"): world.link_token,
        ("join_requests", "token"): world.join_token,
        ("accounts", "token"): world.verify_token,
        ("accounts.reset_password", "token"): world.reset_token,
        # The API Tokens panel's token, and the API's objects: the same as the panels'.
        ("api_tokens", "token_id"): world.api_token_id,
        ("api", "invitation_id"): world.invitation_id,
        ("api", "link_id"): world.link_id,
        ("api", "request_id"): world.join_request_id,
        ("api", "membership_id"): world.membership_id,
        "endpoint_id": world.endpoint_id,
        "delivery_id": world.delivery_id,
        "change": "disable",
    }


def build_url(app, rule, method, world, query=""):
    values = _url_values(world)
    blueprint = rule.endpoint.split(".")[0]
    args = {}
    for name in rule.arguments:
        key = next((key for key in ((rule.endpoint, name), (blueprint, name)) if key in values), name)
        if key not in values:
            raise KeyError(f"no world value for <{name}> of {rule.rule} ({rule.endpoint})")
        args[name] = values[key]
    return app.url_map.bind("localhost").build(rule.endpoint, args, method=method) + query


@pytest.fixture
def build_world(app, team, make_user, make_org, add_member, make_invitation, make_link):
    """Acme Training (premium) with one object of each kind, and the rival's own org.
    Returns plain values (ids, tokens, names): every request gets a fresh session."""

    def build(rival_objects=False):
        org = team.org
        org.plan = Plan.PREMIUM
        db.session.commit()
        rival = make_user(name="Rita Rival")
        rival_org = make_org(owner=rival, name="Rival Ventures", plan=Plan.PREMIUM)

        group = create_group(org, team.owner, "Trainers", JoinMethod.OPEN)
        groupie = make_user(name="Gus Groupie")
        db.session.commit()
        add_member(org, groupie, Role.MEMBER)
        db.session.add(GroupMember(group_id=group.id, user_id=groupie.id))
        db.session.commit()

        invitation, invitation_token = make_invitation(org, team.owner, team.outsider.email)
        link, link_token = make_link(org, team.manager)
        requester = make_user(name="Rhea Requester")
        join_link, join_token = create_join_link(
            org, team.owner, "Volunteers for the spring fair", Role.MEMBER, [], Notify.ALL, [],
        )
        request = request_to_join(join_link, requester, "I would like to help.")
        db.session.commit()
        page = page_of(org)
        page.enabled = True
        db.session.commit()
        assert page.slug == org.slug  # so <slug> is "acme-training" in /join/<slug> too
        with app.test_request_context():
            imp = preview_import(org, team.owner, "learners.csv", LEARNERS_CSV)
            db.session.commit()
        una = make_user(name="Una Unverified", verified=False)
        with app.test_request_context():
            api_token, _ = create_token(org, team.owner, "LMS sync", Scope.WRITE)
            db.session.commit()
            endpoint, _ = add_endpoint(org, team.owner, "http://127.0.0.1:9/hook", [])
            (event_id,) = write(org, "member.joined", [{"id": 1}], [endpoint.id])
            db.session.commit()
            delivery_id = db.session.scalar(db.select(WebhookDelivery.id).filter_by(event_id=event_id))

        world = SimpleNamespace(
            slug=org.slug,
            group_id=group.id, groupie_id=groupie.id, import_id=imp.id,
            invitation_id=invitation.id, invitation_token=invitation_token,
            link_id=link.id, link_token=link_token,
            join_link_id=join_link.id, join_token=join_token, join_request_id=request.id,
            membership_id=team.memberships[Role.MEMBER].id, member_username=team.member.username,
            verify_token=verification_token(una), reset_token=password_reset_token(una),
            api_token_id=api_token.id,
            endpoint_id=endpoint.id, delivery_id=delivery_id,
            outbox_message_id=db.session.scalar(db.select(db.func.min(OutboxMessage.id))),
            owner_notification_id=db.session.scalar(
                db.select(Notification.id).filter_by(user_id=team.owner.id)),
            actors={"anonymous": None},
        )
        for name, user in (("nobody", team.outsider), ("collaborator", team.collaborator),
                           ("member", team.member), ("manager", team.manager),
                           ("owner", team.owner), ("rival", rival)):
            world.actors[name] = SimpleNamespace(id=user.id, name=user.name, email=user.email)

        if rival_objects:
            # The same kinds of objects in the rival's organization, for the loaders' test.
            rival_group = create_group(rival_org, rival, "Rival Group")
            partner = make_user(name="Pia Partner")
            rival_membership = add_member(rival_org, partner, Role.MEMBER)
            rival_invitation, _ = make_invitation(rival_org, rival, "someone@rival.example")
            rival_link, _ = make_link(rival_org, rival)
            rival_join_link, _ = create_join_link(
                rival_org, rival, "Rival volunteers", Role.MEMBER, [], Notify.NOBODY, [],
            )
            rival_request = request_to_join(rival_join_link, make_user(name="Ray Requester"), "")
            db.session.commit()
            with app.test_request_context():
                rival_import = preview_import(rival_org, rival, "rival.csv", LEARNERS_CSV)
                db.session.commit()
                rival_token, _ = create_token(rival_org, rival, "Rival sync", Scope.READ)
                db.session.commit()
                rival_endpoint, _ = add_endpoint(rival_org, rival, "http://127.0.0.1:9/rival", [])
                (rival_event,) = write(rival_org, "member.joined", [{"id": 2}], [rival_endpoint.id])
                db.session.commit()
                rival_delivery = db.session.scalar(db.select(WebhookDelivery.id).filter_by(event_id=rival_event))
            world.rival_ids = {
                "group_id": rival_group.id, "import_id": rival_import.id,
                "invitation_id": rival_invitation.id, "membership_id": rival_membership.id,
                "request_id": rival_request.id, "token_id": rival_token.id,
                "endpoint_id": rival_endpoint.id, "delivery_id": rival_delivery,
                ("links", "link_id"): rival_link.id, ("join_requests", "link_id"): rival_join_link.id,
            }
        db.session.remove()
        return world

    return build


# --- Requests as production would see them ----------------------------------------------------

def fresh_request_state():
    """What a new app context would give the next request: an empty ``g`` (Flask-Login's
    cached user, Flask-WTF's token) and a new database session (the role cache lives on
    the session's User objects)."""
    for name in list(vars(g)):
        delattr(g, name)
    db.session.remove()


def send(client, method, url, data=None):
    fresh_request_state()
    response = client.open(url, method=method, data=data)
    response.get_data()  # read it all (static files stream), then release it
    response.close()
    db.session.remove()
    return response


def logged_in_client(app, world, actor):
    client = app.test_client()
    if actor != "anonymous":
        person = world.actors[actor]
        token = csrf_token(client)
        response = send(client, "POST", "/login",
                        {"email": person.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, f"{actor} could not log in"
    # Sanity check: the dashboard greets this actor, or shows the welcome page.
    html = send(client, "GET", "/").get_data(as_text=True)
    if actor == "anonymous":
        assert "Hello," not in html and 'href="/login' in html
    else:
        assert f"Hello, {world.actors[actor].name}" in html, f"GET / does not run as {actor}"
    client.matrix_csrf = csrf_token(client)
    return client


def csrf_token(client):
    fresh_request_state()
    token = client.csrf_token()
    db.session.remove()
    return token


# --- The database as a value -----------------------------------------------------------------

# Who is logged in, not what the app holds: the matrix itself logs actors in and out, and
# the rows that end sessions are marked ``session=True``. Not compared; kept by restore().
SESSION_TABLES = {"user_sessions"}
# Counts the database keeps from other tables (triggers, migration 0021): they change with
# those, and restore() lets the triggers write them again from the rows it puts back.
DERIVED_TABLES = {"membership_days", "invitation_days"}


def _rows(table):
    order = list(table.primary_key.columns) or list(table.columns)
    return [tuple(row) for row in db.session.execute(db.select(table).order_by(*order))]


def dump():
    """Every row of every table but the login sessions, in primary-key order."""
    state = {table.name: _rows(table) for table in db.metadata.sorted_tables
             if table.name not in SESSION_TABLES | DERIVED_TABLES}
    db.session.remove()
    return state


def restore(snapshot):
    """The tables of ``snapshot`` as they were; the login sessions as they are now, but
    for accounts the snapshot does not have (made by the request undone)."""
    db.session.remove()
    users = [row[0] for row in snapshot["users"]]
    sessions = {
        table.name: [tuple(row) for row in db.session.execute(
            db.select(table).where(table.c.user_id.in_(users)))]
        for table in db.metadata.sorted_tables if table.name in SESSION_TABLES
    }
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    for table in db.metadata.sorted_tables:
        rows = snapshot.get(table.name) or sessions.get(table.name)
        if rows:
            keys = [column.key for column in table.columns]
            db.session.execute(table.insert(), [dict(zip(keys, row)) for row in rows])
    db.session.commit()
    db.session.remove()


def differences(before, after):
    return sorted(name for name in before if before[name] != after[name])


# --- Running the matrix ----------------------------------------------------------------------

def rows_of(app):
    """(rule, method) for every rule of the URL map, sorted."""
    pairs = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - SKIPPED_METHODS):
            pairs.append((rule, method))
    return sorted(pairs, key=lambda pair: (pair[0].rule, pair[1]))


def observed_code(response):
    if response.status_code == 302 and response.location.startswith("/login"):
        return LOGIN
    return response.status_code


RESULTS = {}  # actor -> (answers checked, unexpected), for the summary


@pytest.mark.parametrize("actor", ACTORS)
def test_authorization_matrix(app, build_world, actor):
    world = build_world()
    snapshot = dump()
    client = logged_in_client(app, world, actor)
    expected_user = None if actor == "anonymous" else world.actors[actor].id
    ran_as = []

    def record_user(sender, **extra):
        ran_as.append(current_user.id if current_user.is_authenticated else None)

    request_started.connect(record_user, app)
    unexpected, checked = [], 0
    try:
        for rule, method in rows_of(app):
            key = (rule.rule, method)
            label = f"{method} {rule.rule} as {actor}"
            row = TABLE.get(key)
            if row is None or actor not in row.codes:
                unexpected.append(f"{label}: no expectation in TABLE")
                continue
            expected = row.codes[actor]
            url = build_url(app, rule, method, world, row.query)
            data = None
            if method == "POST":
                data = row.data(world) if callable(row.data) else dict(row.data or {})
                data["csrf_token"] = client.matrix_csrf
            ran_as.clear()
            try:
                response = send(client, method, url, data)
            except Exception as error:  # noqa: BLE001 - an exception is an unexpected 500
                unexpected.append(f"{label}: expected {expected}, raised {error!r}\n"
                                  + "".join(traceback.format_exc(limit=-3)))
                restore(snapshot)
                client = logged_in_client(app, world, actor)
                continue
            checked += 1
            code = observed_code(response)
            changed = differences(snapshot, dump())
            got = C(code) if changed else code
            if got != expected:
                detail = f" (tables changed: {', '.join(changed)})" if changed else ""
                where = f" → {response.location}" if response.status_code in (301, 302, 303) else ""
                unexpected.append(f"{label} [{url}]: expected {expected}, got {got}{where}{detail}")
            if ran_as != [expected_user]:
                unexpected.append(f"{label}: ran as user {ran_as}, not {expected_user}")
            if changed:
                restore(snapshot)
            if row.session:
                client = logged_in_client(app, world, actor)
    finally:
        request_started.disconnect(record_user, app)
    RESULTS[actor] = (checked, len(unexpected))
    assert not unexpected, f"{len(unexpected)} unexpected answers:\n" + "\n".join(unexpected)


# Arguments naming an object of one organization, as opposed to an account (user_id), a
# dev outbox message or a fixed value (kind, decision).
ORG_SCOPED_ARGS = {"group_id", "import_id", "invitation_id", "membership_id", "request_id", "link_id",
                   "token_id", "endpoint_id", "delivery_id"}


def test_acme_urls_never_reach_the_rival_organizations_objects(app, build_world):
    """The loaders: Acme's owner, who passes every policy check in Acme, uses the ids of
    the rival organization's objects in Acme's URLs: 404 every time, nothing changed."""
    world = build_world(rival_objects=True)
    snapshot = dump()
    client = logged_in_client(app, world, "owner")
    unexpected, checked = [], 0
    for rule, method in rows_of(app):
        if not ORG_SCOPED_ARGS & set(rule.arguments) or rule.rule.startswith(API):
            continue  # the API takes no session: tests/api/test_api_matrix.py has its 404s
        blueprint = rule.endpoint.split(".")[0]
        swapped = SimpleNamespace(**vars(world))
        for name in ORG_SCOPED_ARGS & set(rule.arguments):
            value = world.rival_ids.get((blueprint, name), world.rival_ids.get(name))
            attribute = {"link_id": "join_link_id" if blueprint == "join_requests" else "link_id",
                         "request_id": "join_request_id", "token_id": "api_token_id"}.get(name, name)
            setattr(swapped, attribute, value)
        row = TABLE[(rule.rule, method)]
        url = build_url(app, rule, method, swapped, row.query)
        data = None
        if method == "POST":
            data = row.data(world) if callable(row.data) else dict(row.data or {})
            data["csrf_token"] = client.matrix_csrf
        response = send(client, method, url, data)
        checked += 1
        changed = differences(snapshot, dump())
        if response.status_code != 404 or changed:
            unexpected.append(f"{method} {url}: {response.status_code}, tables changed: {changed}")
            restore(snapshot)
    assert checked >= 20
    assert not unexpected, "\n".join(unexpected)


# Public token pages with a token that matches nothing: (rule, method, body, anonymous,
# logged in). Nothing is written and nothing is a 500. "/i/<token>/switch" only logs out.
UNKNOWN_TOKEN_ROWS = [
    ("/i/<token>", "GET", None, 404, 404),
    ("/i/<token>/accept", "POST", {}, 404, 404),
    ("/i/<token>/decline", "POST", {}, 404, 404),
    ("/i/<token>/register", "GET", None, 404, 404),
    ("/i/<token>/register", "POST", {}, 404, 404),
    ("/i/<token>/ask", "POST", {}, 404, 404),
    ("/l/<token>", "GET", None, 404, 404),
    ("/l/<token>/join", "POST", {}, LOGIN, 404),
    ("/l/<token>/ask", "POST", {}, 404, 404),
    ("/r/<token>", "GET", None, 404, 404),
    ("/r/<token>", "POST", {"message": "Let me in"}, LOGIN, 404),
    # A form error on an unknown link: the error page needed the link (it was a 500).
    ("/r/<token>", "POST", {"message": "x" * 3000}, LOGIN, 404),
    ("/join/<slug>", "GET", None, 404, 404),
    ("/join/<slug>", "POST", {}, 404, 404),
    ("/verify/<token>", "GET", None, 200, 200),
    ("/verify/<token>", "POST", {}, 400, 400),
    ("/password/reset/<token>", "GET", None, 400, 400),
    ("/password/reset/<token>", "POST", {"password": "a brand new password", "confirm": "a brand new password"},
     400, 400),
]


@pytest.mark.parametrize("actor", ["anonymous", "nobody", "member"])
def test_unknown_tokens_are_refused_never_a_500(app, build_world, actor):
    public = {(rule.rule, method) for rule, method in rows_of(app)
              if "token" in rule.arguments or rule.rule.startswith("/join/")}
    assert public - {(rule, method) for rule, method, *_ in UNKNOWN_TOKEN_ROWS} == {("/i/<token>/switch", "POST")}
    world = build_world()
    snapshot = dump()
    client = logged_in_client(app, world, actor)
    unexpected = []
    for rule, method, body, anonymous, logged_in in UNKNOWN_TOKEN_ROWS:
        url = rule.replace("<token>", "no-such-token").replace("<slug>", "no-such-page")
        data = None if body is None else {**body, "csrf_token": client.matrix_csrf}
        code = observed_code(send(client, method, url, data))
        expected = anonymous if actor == "anonymous" else logged_in
        changed = differences(snapshot, dump())
        if code != expected or changed:
            unexpected.append(f"{method} {url} as {actor}: expected {expected}, got {code}, changed {changed}")
    assert not unexpected, "\n".join(unexpected)


def test_the_dev_outbox_is_404_unless_turned_on(app, client, make_invitation, team):
    make_invitation(team.org, team.owner, "someone@example.com")
    message_id = db.session.scalar(db.select(db.func.min(OutboxMessage.id)))
    app.config["DEV_OUTBOX_PAGE"] = False
    assert not app.debug
    assert client.get("/dev/outbox").status_code == 404
    assert client.get(f"/dev/outbox/{message_id}/html").status_code == 404


def test_a_session_opens_nothing_in_the_api(app, build_world):
    """The owner's session cookie (and a CSRF token, for what it is worth) on every API
    route: a JSON 401 that asks for a bearer token, and nothing changes."""
    world = build_world()
    snapshot = dump()
    client = logged_in_client(app, world, "owner")
    checked = 0
    for rule, method in rows_of(app):
        if not rule.rule.startswith(API) or rule.endpoint.startswith("api_reference."):
            continue
        url = build_url(app, rule, method, world)
        response = send(client, method, url, {"csrf_token": client.matrix_csrf} if method != "GET" else None)
        assert response.status_code == 401, (method, url, response.status_code)
        assert response.is_json and response.get_json()["error"]["code"] == "unauthorized", (method, url)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, url)
        checked += 1
    assert checked >= 18
    assert differences(snapshot, dump()) == []


# --- Group managers and their group's invitations (issue 22, seed 004) ---------------------
# The main matrix has no group manager among its actors; this one has them, over the
# routes that answer differently for them: the group page's list, the list's own pages,
# and resending and cancelling (which go back to the group's page with ?from_group=).
# Gina manages Trainers, Carl manages Coaches (both members); Mia is a plain member who
# is in Trainers; Cole a collaborator; Otto in no organization; Max the org's manager.

GROUP_ACTORS = ("group_manager", "other_group_manager", "member", "collaborator", "nobody", "manager")
LIST = "200 with the list"  # the group page, showing its invitations


def G(group_manager, other_group_manager, member, collaborator, nobody, manager):
    return dict(zip(GROUP_ACTORS, (group_manager, other_group_manager, member, collaborator, nobody, manager)))


# (method, path with {names} filled from the world, body, expected per actor); every POST
# is confirmed (confirmed=yes), as the in-page confirmation sends it.
GROUP_TABLE = [
    ("GET", "/o/{slug}/groups/{trainers}", None, G(LIST, 200, 200, 200, 404, LIST)),
    ("GET", "/o/{slug}/groups/{coaches}", None, G(200, LIST, 200, 200, 404, LIST)),
    ("GET", "/o/{slug}/groups/{trainers}/invitations", None, G(200, 403, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/groups/{trainers}/invitations?page=2", None, G(200, 403, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/groups/{coaches}/invitations", None, G(403, 200, 403, 403, 404, 200)),
    # An invitation into Trainers only, as Member: Trainers' manager and the staff.
    ("POST", "/o/{slug}/invitations/{trainers_only}/cancel?from_group={trainers}", CONFIRMED,
     G(C(302), 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{trainers_only}/resend?from_group={trainers}", CONFIRMED,
     G(C(302), 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{trainers_only}/cancel", CONFIRMED, G(C(302), 403, 403, 403, 404, C(302))),
    # Into Coaches only: its manager, whichever page the button was on.
    ("POST", "/o/{slug}/invitations/{coaches_only}/cancel?from_group={trainers}", CONFIRMED,
     G(403, C(302), 403, 403, 404, C(302))),
    # Naming both groups, naming none, or above Member: staff only.
    ("POST", "/o/{slug}/invitations/{both_groups}/cancel?from_group={trainers}", CONFIRMED,
     G(403, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{both_groups}/resend?from_group={coaches}", CONFIRMED,
     G(403, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{no_group}/cancel", CONFIRMED, G(403, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{as_manager}/cancel?from_group={trainers}", CONFIRMED,
     G(403, 403, 403, 403, 404, C(302))),
    # Editing (issue 18): a group's manager edits an invitation they manage within their
    # group and Member; raising it to Manager, adding a group they do not manage, or
    # leaving no group is refused (422, nothing changed). The staff may do all of it.
    ("GET", "/o/{slug}/invitations/{trainers_only}/edit?from_group={trainers}", None,
     G(200, 403, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/invitations/{trainers_only}?from_group={trainers}", None,
     G(302, 403, 403, 403, 404, 302)),
    ("POST", "/o/{slug}/invitations/{trainers_only}/edit?from_group={trainers}",
     lambda values: _edit(Role.COLLABORATOR, values["trainers"]), G(C(302), 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{trainers_only}/edit?from_group={trainers}",
     lambda values: _edit(Role.MANAGER, values["trainers"]), G(422, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{trainers_only}/edit?from_group={trainers}",
     lambda values: _edit(Role.MEMBER, values["trainers"], values["coaches"]), G(422, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{trainers_only}/edit?from_group={trainers}",
     lambda values: _edit(Role.MEMBER), G(422, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{both_groups}/edit", lambda values: _edit(Role.MEMBER, values["trainers"]),
     G(403, 403, 403, 403, 404, C(302))),
    ("POST", "/o/{slug}/invitations/{as_manager}/edit?from_group={trainers}",
     lambda values: _edit(Role.MEMBER, values["trainers"]), G(403, 403, 403, 403, 404, C(302))),
    # Another organization's group as the way back: 404 before anything happens.
    ("POST", "/o/{slug}/invitations/{trainers_only}/cancel?from_group={rival_group}", CONFIRMED,
     G(404, 404, 404, 404, 404, 404)),
    ("GET", "/o/{slug}/groups/{rival_group}/invitations", None, G(404, 404, 404, 404, 404, 404)),
]


@pytest.fixture
def build_group_world(app, team, make_user, make_org, add_member, make_invitation):
    def build():
        org = team.org
        trainers = create_group(org, team.owner, "Trainers")
        coaches = create_group(org, team.owner, "Coaches")
        gina = make_user(name="Gina Groupmanager")
        carl = make_user(name="Carl Coachmanager")
        add_member(org, gina, Role.MEMBER)
        add_member(org, carl, Role.MEMBER)
        db.session.add_all([
            GroupMember(group_id=trainers.id, user_id=gina.id, is_manager=True),
            GroupMember(group_id=coaches.id, user_id=carl.id, is_manager=True),
            GroupMember(group_id=trainers.id, user_id=team.member.id),
        ])
        db.session.commit()
        rival = make_user(name="Rita Rival")
        rival_org = make_org(owner=rival, name="Rival Ventures")
        rival_group = create_group(rival_org, rival, "Rival Group")
        db.session.commit()
        invite = lambda email, *groups, role=Role.MEMBER: make_invitation(  # noqa: E731
            org, team.owner, email, role=role, groups=groups)[0].id
        world = SimpleNamespace(
            values=dict(
                slug=org.slug, trainers=trainers.id, coaches=coaches.id, rival_group=rival_group.id,
                trainers_only=invite("t@example.com", trainers),
                coaches_only=invite("c@example.com", coaches),
                both_groups=invite("tc@example.com", trainers, coaches),
                no_group=invite("none@example.com"),
                as_manager=invite("boss@example.com", trainers, role=Role.MANAGER),
            ),
            actors={},
        )
        for name, user in (("group_manager", gina), ("other_group_manager", carl),
                           ("member", team.member), ("collaborator", team.collaborator),
                           ("nobody", team.outsider), ("manager", team.manager)):
            world.actors[name] = SimpleNamespace(id=user.id, name=user.name, email=user.email)
        db.session.remove()
        return world

    return build


def run_rows(app, world, actor, rows, shown=lambda url, html: None):
    """Run ``rows`` of (method, path, body, expected per actor) as ``actor`` in ``world``
    the way the main matrix runs its rows: a fresh request state, the whole database
    compared and put back after a change. ``shown(url, html)`` names what a 200 page
    showed (a mark such as LIST), or None. Returns the unexpected answers."""
    snapshot = dump()
    client = logged_in_client(app, world, actor)
    unexpected = []
    for method, path, body, codes in rows:
        url = path.format(**world.values)
        data = None
        if method == "POST":
            data = {**(body(world.values) if callable(body) else body or {}), "csrf_token": client.matrix_csrf}
        response = send(client, method, url, data)
        code = observed_code(response)
        if code == 200:
            code = shown(url, response.get_data(as_text=True)) or code
        changed = differences(snapshot, dump())
        got = C(code) if changed else code
        if got != codes[actor]:
            unexpected.append(f"{method} {url} as {actor}: expected {codes[actor]}, got {got}")
        if changed:
            restore(snapshot)
    return unexpected


def _group_page_with_list(url, html):
    on_group_page = not url.split("?")[0].endswith("/invitations")
    return LIST if on_group_page and 'id="group-invitations"' in html else None


@pytest.mark.parametrize("actor", GROUP_ACTORS)
def test_group_managers_manage_their_groups_invitations_only(app, build_group_world, actor):
    unexpected = run_rows(app, build_group_world(), actor, GROUP_TABLE, _group_page_with_list)
    assert not unexpected, "\n".join(unexpected)


# --- Members' links (issue 22, seed 001) ------------------------------------------------------
# "If you do not have this permission, you will only be able to share the link with existing
# members." Mia is a plain member of Safety (not its manager), Ned a member in no group,
# Cole a collaborator who is in Safety too, Otto in no organization, Max the org's manager.
# Nobody but the owner may add new people here. "+ address" marks a link page that shows
# the link's address (to copy and share again).

LINK_ACTORS = ("member_in_group", "member_elsewhere", "collaborator", "nobody", "manager")
ADDRESS = "200 + address"


def L(member_in_group, member_elsewhere, collaborator, nobody, manager):
    return dict(zip(LINK_ACTORS, (member_in_group, member_elsewhere, collaborator, nobody, manager)))


def _new_link(access, group):
    return lambda values: {"expiration": "7d", "access": access, "role": Role.MEMBER, "groups": [values[group]]}


MEMBER_LINK_TABLE = [
    ("GET", "/o/{slug}/links/new", None, L(200, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/links/new?group={safety}", None, L(200, 403, 403, 404, 200)),
    ("POST", "/o/{slug}/links/new", _new_link("members", "safety"), L(C(302), 403, 403, 404, C(302))),
    # "Anyone with the link" needs people.add_new: a form error for Mia, who is refused it.
    ("POST", "/o/{slug}/links/new", _new_link("anyone", "safety"), L(422, 403, 403, 404, 422)),
    # A group Mia is not in.
    ("POST", "/o/{slug}/links/new", _new_link("members", "forklifts"), L(422, 403, 403, 404, C(302))),
    # Mia's own link: hers and the staff's to see, copy and share; nobody else's.
    ("GET", "/o/{slug}/links/{mias_link}", None, L(ADDRESS, 403, 403, 404, ADDRESS)),
    ("POST", "/o/{slug}/links/{mias_link}/share", lambda values: {"addresses": "friend@example.com"},
     L(C(ADDRESS), 403, 403, 404, C(ADDRESS))),
    ("GET", "/o/{slug}/links/{owners_link}", None, L(403, 403, 403, 404, ADDRESS)),
    # Their QR codes (issue 19) go with the page.
    ("GET", "/o/{slug}/links/{mias_link}/qr.svg", None, L(200, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/links/{mias_link}/qr/print", None, L(200, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/links/{owners_link}/qr.svg", None, L(403, 403, 403, 404, 200)),
    ("GET", "/o/{slug}/manage/links", None, L(403, 403, 403, 404, 200)),
]


@pytest.fixture
def build_link_world(app, team, make_user, add_member, make_link):
    def build():
        org = team.org
        org.managers_may_add_people = False
        safety = create_group(org, team.owner, "Safety")
        forklifts = create_group(org, team.owner, "Forklifts")
        ned = make_user(name="Ned Neighbour")
        add_member(org, ned, Role.MEMBER)
        db.session.add_all([GroupMember(group_id=safety.id, user_id=team.member.id),
                            GroupMember(group_id=safety.id, user_id=team.collaborator.id)])
        db.session.commit()
        mias_link, _ = make_link(org, team.member, access="members", groups=[safety])
        owners_link, _ = make_link(org, team.owner, groups=[forklifts])
        world = SimpleNamespace(
            values=dict(slug=org.slug, safety=safety.id, forklifts=forklifts.id,
                        mias_link=mias_link.id, owners_link=owners_link.id),
            actors={},
        )
        for name, user in (("member_in_group", team.member), ("member_elsewhere", ned),
                           ("collaborator", team.collaborator), ("nobody", team.outsider),
                           ("manager", team.manager)):
            world.actors[name] = SimpleNamespace(id=user.id, name=user.name, email=user.email)
        db.session.remove()
        return world

    return build


def _link_address_shown(url, html):
    return ADDRESS if 'id="link-url"' in html else None


@pytest.mark.parametrize("actor", LINK_ACTORS)
def test_members_make_members_only_links_for_their_groups(app, build_link_world, actor):
    unexpected = run_rows(app, build_link_world(), actor, MEMBER_LINK_TABLE, _link_address_shown)
    assert not unexpected, "\n".join(unexpected)


def test_the_table_covers_every_route_and_method(app):
    """Last: every (rule, method) of the URL map has a row and every row a route; prints
    the summary of the matrix tests that ran."""
    pairs = {(rule.rule, method) for rule, method in rows_of(app)}
    missing = sorted(pairs - set(TABLE))
    stale = sorted(set(TABLE) - pairs)
    assert not missing, f"routes without an expectation: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"
    for key, row in TABLE.items():
        assert set(row.codes) == set(ACTORS), key
    rules = {rule for rule, _ in pairs}
    answers = sum(checked for checked, _ in RESULTS.values())
    bad = sum(count for _, count in RESULTS.values())
    ran = "" if len(RESULTS) == len(ACTORS) else f" (only {len(RESULTS)} of {len(ACTORS)} actors ran)"
    print(f"\nauthorization matrix: {len(rules)} routes, {len(pairs)} (route, method) pairs × "
          f"{len(ACTORS)} actors = {len(pairs) * len(ACTORS)} cells; {answers} answers checked, "
          f"{bad} unexpected{ran}")
