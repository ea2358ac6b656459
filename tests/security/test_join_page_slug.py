"""Security review F12: an owner of A set A's Join Web Page address to ``beta-org``, the
slug of another organization, so /join/beta-org showed Acme Training (and Beta Org's own
page later got ``beta-org-2``). Another organization's slug is now refused like any taken
address; the organization's own slug stays fine."""
import pytest

from invites.errors import DomainError
from invites.extensions import db
from invites.join_page import service
from invites.join_page.models import JoinPage


@pytest.fixture
def premium(team):
    team.org.plan = "premium"
    db.session.commit()
    return team.org


@pytest.fixture
def beta(make_user, make_org):
    return make_org(owner=make_user(name="Bob Beta"), name="Beta Org", plan="premium")


def save(client, slug_of_org, address):
    return client.post_form(f"/o/{slug_of_org}/manage/join-page",
                            {"enabled": "y", "slug": address, "allowed_domains": ""})


def test_another_organizations_slug_is_a_form_error(client, auth, team, premium, beta):
    assert beta.slug == "beta-org"
    auth.login(team.owner)
    response = save(client, team.org.slug, "beta-org")
    assert response.status_code == 422
    assert "This address is taken by another organization; choose another." in response.get_data(as_text=True)
    assert service.page_of(team.org).slug == "acme-training"  # unchanged
    assert client.get("/join/beta-org").status_code == 404
    # Beta Org's page, made later, gets its own slug, not "beta-org-2".
    assert service.page_of(beta).slug == "beta-org"


def test_the_service_refuses_it_on_the_slug_field(app, team, premium, beta):
    with pytest.raises(DomainError) as refused:
        service.update_page(team.org, team.owner, service.page_of(team.org),
                            enabled=True, slug="Beta-Org ", groups=[], allowed_domains="")
    assert refused.value.field == "slug"


def test_its_own_organizations_slug_is_fine(client, auth, team, premium):
    auth.login(team.owner)
    assert save(client, team.org.slug, "acme-join").status_code == 302
    assert save(client, team.org.slug, team.org.slug).status_code == 302  # back to its own
    assert db.session.scalar(db.select(JoinPage.slug).filter_by(org_id=team.org.id)) == team.org.slug
    assert client.get(f"/join/{team.org.slug}").status_code == 200


def test_a_new_page_skips_another_organizations_slug(app, team, premium, make_user, make_org):
    """A page's first address is its organization's slug, or the next free ``-2``, ``-3``:
    never a slug another organization holds."""
    make_org(owner=make_user(), name="Gamma 2")  # holds the slug "gamma-2"
    gamma = make_org(owner=make_user(), name="Gamma")
    assert gamma.slug == "gamma"
    # Acme's page took "gamma" before the fix (now a new organization never gets a slug a
    # join page has: tests/orgs/test_orgs.py).
    db.session.add(JoinPage(org_id=team.org.id, slug="gamma", enabled=False))
    db.session.commit()
    assert service.page_of(gamma).slug == "gamma-3"
