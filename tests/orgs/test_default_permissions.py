"""Seed 001: "By default, only admins can add new people to the organization." A new
organization starts with "Managers may add new people" off; its owners turn it on; the
demo keeps it on and says so."""
from types import SimpleNamespace

import pytest

from invites import policy
from invites.errors import DomainError
from invites.extensions import db
from invites.invitations import sending
from invites.links.models import Access
from invites.links.service import create_link
from invites.orgs.models import Organization, Role
from invites.orgs.service import create_organization, update_permissions


def permissions(org, actor, managers):
    update_permissions(org, actor, managers_may_add_people=managers, members_may_add_people=False,
                       require_group_on_invite=False, invitation_lifetime_days=14)
    db.session.commit()


@pytest.fixture
def fresh(make_user, add_member):
    """A new organization, made through the service, with a manager."""
    owner = make_user(name="Olga Owner")
    org = create_organization(owner, "Fresh Start")
    db.session.commit()
    manager = make_user(name="Manny Manager")
    add_member(org, manager, Role.MANAGER)
    return SimpleNamespace(org=org, owner=owner, manager=manager)


def test_a_new_organization_lets_only_its_owners_add_new_people(fresh):
    db.session.expire_all()
    org = db.session.get(Organization, fresh.org.id)
    assert org.managers_may_add_people is False and org.members_may_add_people is False
    assert policy.can(fresh.owner, "people.add_new", org)
    assert not policy.can(fresh.manager, "people.add_new", org)


def test_created_from_the_form_it_starts_the_same(client, auth, make_user):
    owner = make_user(name="Fiona Founder")
    auth.login(owner)
    assert client.post_form("/orgs/new", {"name": "From The Form"}).status_code == 302
    org = db.session.scalar(db.select(Organization).filter_by(name="From The Form"))
    assert org.managers_may_add_people is False


def test_a_manager_is_refused_new_people_until_an_owner_allows_it(app, fresh, make_invitation):
    with pytest.raises(DomainError, match="Only people who may add new people"):
        create_link_as(app, fresh)
    db.session.rollback()
    with app.test_request_context():
        [outcome] = sending.send_invitations(fresh.org, fresh.manager, "new@example.com", Role.MEMBER,
                                             [], "", commit=db.session.commit)
    assert outcome.kind == "refused" and outcome.invitation is None

    permissions(fresh.org, fresh.owner, managers=True)
    link, token = create_link_as(app, fresh)
    assert link.access == Access.ANYONE and token
    invitation, _ = make_invitation(fresh.org, fresh.manager, "new@example.com")
    assert invitation.email == "new@example.com"


def create_link_as(app, fresh):
    with app.test_request_context():
        result = create_link(fresh.org, fresh.manager, expiration="7d", custom_date=None,
                             access=Access.ANYONE, role=Role.MEMBER, groups=[], max_uses=None)
        db.session.commit()
    return result


def test_an_organization_that_allowed_managers_keeps_it(fresh):
    permissions(fresh.org, fresh.owner, managers=True)
    db.session.expire_all()
    assert db.session.get(Organization, fresh.org.id).managers_may_add_people is True


def test_the_demo_keeps_managers_adding_people_and_says_so(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Managers may add new people: on in the demo" in result.output
    org = db.session.scalar(db.select(Organization).filter_by(slug="acme-training"))
    assert org.managers_may_add_people is True
