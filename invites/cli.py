"""Operator commands: ``seed-demo`` and ``set-plan`` (``db upgrade`` comes from Flask-Migrate)."""
from datetime import timedelta

import click
from flask import Flask, current_app

from invites.accounts.models import User
from invites.accounts.service import register_user
from invites.errors import DomainError
from invites.extensions import db
from invites.groups import service as groups
from invites.clock import now
from invites.groups.models import Group, JoinMethod
from invites.invitations import sending as invitations
from invites.invitations.answering import accept_invitation, decline_invitation
from invites.join_requests import service as join_requests
from invites.join_requests.models import JoinLink, Notify
from invites.links import service as links
from invites.links.models import Access
from invites.join_page import service as join_pages
from invites.invitations.models import Invitation
from invites.orgs import service as orgs
from invites.orgs.models import Membership, Organization, Plan, Role

DEMO_PASSWORD = "demo-password"
DEMO_ORG = "Acme Training"
DEMO_PEOPLE = [
    ("owner@demo.test", "owner", "Olivia Owner", Role.OWNER),
    ("manager@demo.test", "manager", "Max Manager", Role.MANAGER),
    ("member@demo.test", "member", "Mia Member", Role.MEMBER),
    ("collaborator@demo.test", "collaborator", "Cole Collaborator", Role.COLLABORATOR),
]
# (name, join method, description: the invitation email shows it beside the name)
DEMO_GROUPS = [
    ("New Hires", JoinMethod.INVITE_ONLY, "Your first two weeks: accounts, tools and the people to ask."),
    ("Safety Training", JoinMethod.OPEN, "The yearly safety course every team member takes."),
]
# (address, role, groups, message, what becomes of it)
DEMO_INVITATIONS = [
    ("new.hire@demo.test", Role.MEMBER, ["New Hires"], "Welcome! Your first course is in New Hires.", "pending"),
    ("partner@demo.test", Role.COLLABORATOR, [], "", "pending"),
    ("no.thanks@demo.test", Role.MEMBER, ["Safety Training"], "", "declined"),
    ("too.late@demo.test", Role.MEMBER, [], "", "expired"),
]


def seed_demo() -> Organization:
    """Create (or complete) the demo organization; safe to run again."""
    users: dict[str, User] = {}
    for email, username, name, _ in DEMO_PEOPLE:
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if user is None:
            user = register_user(name, username, email, DEMO_PASSWORD, verified=True)
        users[email] = user
    owner = users[DEMO_PEOPLE[0][0]]
    org = db.session.scalar(db.select(Organization).filter_by(slug="acme-training"))
    if org is None:
        org = orgs.create_organization(
            owner, DEMO_ORG, "acme-training",
            "Onboarding and safety courses for Acme's teams and partners.",
        )
        # A new organization lets only owners add new people (seed 001); the demo's
        # manager sends its invitations, so the demo allows managers from the start.
        org.managers_may_add_people = True
    org.plan = Plan.PREMIUM
    for email, _, _, role in DEMO_PEOPLE:
        user = users[email]
        if db.session.scalar(db.select(Membership).filter_by(org_id=org.id, user_id=user.id)) is None:
            db.session.add(Membership(org_id=org.id, user_id=user.id, role=role))
    db.session.flush()
    for name, method, description in DEMO_GROUPS:
        group = db.session.scalar(db.select(Group).filter_by(org_id=org.id, name=name))
        if group is None:
            group = groups.create_group(org, owner, name, method)
            groups.add_to_group(org, owner, group, users["manager@demo.test"], is_manager=True)
            groups.add_to_group(org, owner, group, users["member@demo.test"])
        group.description = group.description or description
    db.session.commit()
    _seed_invitations(org, users["manager@demo.test"])
    _seed_ways_in(org, owner)
    join_page = join_pages.page_of(org)  # premium: the public /join/acme-training is on
    join_page.enabled = True
    db.session.commit()
    return org


def _seed_invitations(org: Organization, manager: User) -> None:
    """A few invitations in different states, sent like any other (to the outbox when no
    MAIL_SERVER is set, so their links can be followed from /dev/outbox). Their links are
    on PUBLIC_URL, which ``make run`` sets to the address it serves."""
    if db.session.scalar(db.select(Invitation.id).filter_by(org_id=org.id).limit(1)) is not None:
        return
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        for email, role, group_names, message, fate in DEMO_INVITATIONS:
            chosen = db.session.scalars(
                db.select(Group).where(Group.org_id == org.id, Group.name.in_(group_names))
            ).all()
            [outcome] = invitations.send_invitations(org, manager, email, role, chosen, message, commit=db.session.commit)
            assert outcome.invitation is not None  # the demo's addresses are new: each is invited
            if fate == "declined":
                decline_invitation(outcome.invitation, by_link=True)
            elif fate == "expired":
                outcome.invitation.expires_at = now() - timedelta(days=1)
            db.session.commit()


# People who came in by each way over the last weeks, and two join requests waiting, so
# the Overview has something to show: (address, name, way in, days ago).
DEMO_JOINERS = [
    ("ana.learner@demo.test", "Ana Learner", "link", 40), ("ben.learner@demo.test", "Ben Learner", "link", 26),
    ("chloe.learner@demo.test", "Chloe Learner", "invitation", 19),
    ("dev.learner@demo.test", "Dev Learner", "invitation", 12),
    ("eli.learner@demo.test", "Eli Learner", "link", 9), ("fay.learner@demo.test", "Fay Learner", "invitation", 3),
]
DEMO_REQUESTERS = [("gus.contractor@demo.test", "Gus Contractor"), ("hana.contractor@demo.test", "Hana Contractor")]


def _demo_user(email: str, name: str) -> User:
    found = db.session.scalar(db.select(User).filter_by(email=email))
    return found or register_user(name, email.split("@")[0].replace(".", "_"), email, DEMO_PASSWORD, verified=True)


def _seed_ways_in(org: Organization, owner: User) -> None:
    """An invite link and a join request link used by demo learners, invitations accepted,
    one about to expire, and join requests waiting; the joins spread over six weeks."""
    if db.session.scalar(db.select(JoinLink.id).filter_by(org_id=org.id).limit(1)) is not None:
        return
    safety = db.session.scalar(db.select(Group).filter_by(org_id=org.id, name="Safety Training"))
    base_url = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base_url):
        link, _ = links.create_link(org, owner, expiration="never", access=Access.ANYONE, role=Role.MEMBER,
                                    groups=[safety] if safety else [], max_uses=50)
        for email, name, way, days_ago in DEMO_JOINERS:
            user = _demo_user(email, name)
            if way == "link":
                membership = links.use_link(link, user).membership
            else:
                [outcome] = invitations.send_invitations(org, owner, email, Role.MEMBER, [], "", commit=db.session.commit)
                assert outcome.invitation is not None
                membership = accept_invitation(outcome.invitation, user, by_link=True)
                invitation = outcome.invitation
                invitation.created_at = invitation.sent_at = now() - timedelta(days=days_ago + 2)
                invitation.responded_at = now() - timedelta(days=days_ago)
            membership.created_at = now() - timedelta(days=days_ago)
            db.session.commit()
        [soon] = invitations.send_invitations(org, owner, "starts.monday@demo.test", Role.MEMBER, [], "",
                                              commit=db.session.commit)
        assert soon.invitation is not None
        soon.invitation.expires_at = now() + timedelta(days=2)
        join_link, _ = join_requests.create_join_link(org, owner, "Contractors", Role.COLLABORATOR, [], Notify.NOBODY)
        db.session.commit()
        for email, name in DEMO_REQUESTERS:
            user = _demo_user(email, name)
            join_requests.request_to_join(join_link, user, "I start on the Riverside site next week.")
        db.session.commit()


def register_commands(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed a database that has no accounts.")
    def seed_demo_command(if_empty: bool) -> None:
        """Create the demo organization "Acme Training" and its people (idempotent)."""
        if if_empty and db.session.scalar(db.select(User.id).limit(1)) is not None:
            click.echo("The database already has accounts; demo not seeded.")
            return
        org = seed_demo()
        click.echo(f"Demo organization: {org.name} (/o/{org.slug}, plan {org.plan})")
        click.echo(f"Links in the demo's emails start with {current_app.config['PUBLIC_URL']} "
                   "(PUBLIC_URL; `make run PORT=…` sets it to the address it serves).")
        if org.managers_may_add_people:
            click.echo("Managers may add new people: on in the demo (a new organization "
                       "starts with it off; owners change it under Permissions).")
        click.echo(f"Log in with any of these, password {DEMO_PASSWORD!r}:")
        for email, _, _, role in DEMO_PEOPLE:
            click.echo(f"  {email:<26} {Role.LABELS[role]}")

    @app.cli.command("set-plan")
    @click.argument("slug")
    @click.argument("plan", type=click.Choice(Plan.ALL))
    def set_plan_command(slug: str, plan: str) -> None:
        """Put the organization SLUG on PLAN (premium or free)."""
        org = db.session.scalar(db.select(Organization).filter_by(slug=slug))
        if org is None:
            raise click.ClickException(f"No organization with the slug {slug!r}.")
        try:
            orgs.set_plan(org, plan)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        db.session.commit()
        click.echo(f"{org.name} is now on the {plan} plan.")

    @app.cli.command("send-reminders")
    @click.option("--limit", type=click.IntRange(min=1), default=None, help="Send at most this many.")
    def send_reminders_command(limit: int | None) -> None:
        """Mail the invitation reminders that are due (run it from cron every few minutes;
        several machines at once never send one twice)."""
        from invites.invitations.reminders import send_due_reminders

        run = send_due_reminders(limit=limit)
        click.echo(f"Reminders sent: {run.sent}; passed over (answered, expired or not delivered): {run.skipped}.")
        _report_failures(run.failed)

    @app.cli.command("expire-memberships")
    @click.option("--warn-days", type=click.IntRange(min=1, max=90), default=None,
                  help="Warn this many days before access ends (default ACCESS_WARNING_DAYS, 7).")
    def expire_memberships_command(warn_days: int | None) -> None:
        """Remove the memberships whose access has ended and warn of those ending soon
        (run it from cron every hour or day; several machines at once never act twice)."""
        from invites.orgs.expiry import expire_memberships

        run = expire_memberships(warn_days=warn_days or app.config["ACCESS_WARNING_DAYS"])
        click.echo(f"Memberships whose access ended, removed: {run.removed}; members warned: {run.warned}.")
        _report_failures(run.failed)


    @app.cli.command("deliver-webhooks")
    @click.option("--once", is_flag=True, help="One pass over what is due, then exit (for cron).")
    @click.option("--interval", type=click.FloatRange(min=0.1), default=2.0,
                  help="Seconds to wait when nothing is due (long-running; default 2).")
    def deliver_webhooks_command(once: bool, interval: float) -> None:
        """Send the webhook events that are due, signed, retried with backoff (run it
        beside the web server, or from cron with --once; several workers at once never
        send one twice)."""
        from invites.webhooks.delivery import work

        run = work(once=once, interval=interval)
        click.echo(f"Webhook deliveries: {run.delivered} delivered, {run.failed} failed attempts (retried later).")
        for url in run.disabled:
            click.echo(f"Disabled after failing for too long: {url}", err=True)

    @app.cli.command("prune")
    @click.option("--days", type=click.IntRange(min=1), default=None,
                  help="Keep this many days (default WEBHOOK_LOG_DAYS, 30).")
    def prune_command(days: int | None) -> None:
        """Delete webhook events and their delivery log older than the days kept, once
        every delivery of each is settled (run it from cron daily)."""
        from invites.webhooks.delivery import prune

        removed = prune(days or app.config["WEBHOOK_LOG_DAYS"])
        click.echo(f"Webhook events pruned: {removed}.")


def _report_failures(failed: dict[str, str]) -> None:
    """The addresses a scheduled command could not mail, on stderr, and exit status 1."""
    for email, reason in failed.items():
        click.echo(f"Not delivered, tried again next run: {email}: {reason}", err=True)
    if failed:
        raise SystemExit(1)
