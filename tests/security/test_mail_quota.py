"""F4: only confirmed accounts make the app mail strangers, within daily caps per
organization and per account, and never with a subject or sender they chose."""
import io

import pytest

from invites.config import Config
from invites.extensions import db
from invites.invitations.models import Invitation
from invites.mail.models import MailQuotaUsage
from invites.orgs.models import Organization, Role


@pytest.fixture
def caps(app):
    """Small caps (the production defaults are checked separately)."""
    def set_caps(organization, account, plan="free"):
        app.config["DAILY_INVITATION_MAILS"] = {
            **Config.DAILY_INVITATION_MAILS, plan: {"organization": organization, "account": account},
        }
    return set_caps


def addresses(n, prefix="spam"):
    return ", ".join(f"{prefix}{i}@corp.test" for i in range(n))


def test_the_production_defaults_are_in_the_spirit_of_ten_a_day(app):
    defaults = Config.DAILY_INVITATION_MAILS
    assert defaults["free"]["account"] <= 20 and defaults["free"]["organization"] <= 50
    assert defaults["premium"]["account"] >= 500  # a whole spreadsheet import


def test_an_unconfirmed_account_cannot_create_an_organization(client, make_user, auth):
    squatter = make_user(email="victim@v.test", verified=False)
    auth.login(squatter)
    response = client.post_form("/orgs/new", {"name": "Spam Org", "slug": "spam-org"})
    assert response.status_code == 200 and "Confirm your email address" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(Organization).filter_by(slug="spam-org")) is None


def test_an_unconfirmed_account_sends_no_invitation(client, auth, team, make_user, add_member, smtp):
    unconfirmed = make_user(name="Una Unconfirmed", verified=False)
    add_member(team.org, unconfirmed, Role.MANAGER)
    auth.login(unconfirmed)
    response = client.post_form(f"/o/{team.org.slug}/invitations/new",
                                {"addresses": addresses(3), "role": "member"})
    assert response.status_code == 422 and "Confirm your email address" in response.get_data(as_text=True)
    assert smtp.messages == [] and db.session.scalar(db.select(Invitation)) is None


def test_past_the_account_cap_nothing_is_sent_and_nothing_lost(client, auth, team, smtp, caps):
    caps(organization=100, account=10)
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/invitations/new"
    assert client.post_form(url, {"addresses": addresses(8), "role": "member"}).status_code == 302
    assert len(smtp.messages) == 8
    response = client.post_form(url, {"addresses": addresses(3, "more"), "role": "member"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "10 invitation emails a day" in page and "Nothing was sent" in page
    assert "more0@corp.test" in page  # what was typed is still in the form
    assert len(smtp.messages) == 8
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 8
    # Within the cap still goes.
    assert client.post_form(url, {"addresses": addresses(2, "last"), "role": "member"}).status_code == 302
    assert len(smtp.messages) == 10


def test_the_organization_cap_counts_every_sender(client, auth, team, smtp, caps):
    caps(organization=5, account=100)
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/invitations/new"
    assert client.post_form(url, {"addresses": addresses(4), "role": "member"}).status_code == 302
    auth.logout()
    auth.login(team.manager)
    response = client.post_form(url, {"addresses": addresses(2, "mgr"), "role": "member"})
    assert response.status_code == 422
    assert "Acme Training may send 5 invitation emails a day" in response.get_data(as_text=True)
    assert len(smtp.messages) == 4


def test_the_account_cap_spans_organizations(client, auth, team, make_org, smtp, caps):
    caps(organization=100, account=5)
    second = make_org(owner=team.owner, name="Second Org")
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/invitations/new", {"addresses": addresses(4), "role": "member"})
    response = client.post_form(f"/o/{second.slug}/invitations/new", {"addresses": addresses(2, "b"), "role": "member"})
    assert response.status_code == 422 and len(smtp.messages) == 4


def test_the_count_starts_again_the_next_day(client, auth, team, smtp, caps):
    from datetime import datetime

    from invites import clock

    caps(organization=100, account=2)
    clock.freeze(datetime(2026, 12, 3, 23, 0))
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/invitations/new"
    assert client.post_form(url, {"addresses": addresses(2), "role": "member"}).status_code == 302
    assert client.post_form(url, {"addresses": addresses(1, "x"), "role": "member"}).status_code == 422
    clock.freeze(datetime(2026, 12, 4, 0, 5))
    assert client.post_form(url, {"addresses": addresses(1, "x"), "role": "member"}).status_code == 302


def test_resends_and_shared_links_count_too(client, auth, team, smtp, caps, make_invitation):
    caps(organization=100, account=3)
    invitation, _ = make_invitation(team.org, team.owner, "one@corp.test")  # 1
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/invitations/{invitation.id}/resend")  # 2
    response = client.post_form(f"/o/{team.org.slug}/links/new",
                                {"expiration": "7d", "access": "anyone", "role": "member"})
    share = client.post_form(f"{response.location}/share", {"addresses": "a@corp.test, b@corp.test"})
    assert "3 invitation emails a day" in share.get_data(as_text=True)
    assert sorted(m["To"] for m in smtp.messages) == ["one@corp.test", "one@corp.test"]
    assert db.session.scalar(db.select(db.func.sum(MailQuotaUsage.sent))) == 2


def test_an_import_past_the_cap_is_refused_and_stays_ready(client, auth, team, smtp, caps):
    team.org.plan = "premium"
    db.session.commit()
    caps(organization=100, account=3, plan="premium")
    auth.login(team.owner)
    data = ("email\n" + "\n".join(f"p{i}@corp.test" for i in range(5)) + "\n").encode()
    location = client.post_form(f"/o/{team.org.slug}/imports", {"file": (io.BytesIO(data), "p.csv")},
                                content_type="multipart/form-data").location
    client.post_form(f"{location}/run", {"confirmed": "yes"})
    page = client.get(location).get_data(as_text=True)
    assert "3 invitation emails a day" in page and "Continue" in page or "Upload" in page
    assert smtp.messages == [] and db.session.scalar(db.select(Invitation)) is None


def test_the_subject_and_sender_are_never_free_text(client, auth, team, smtp):
    auth.login(team.owner)
    client.post_form(f"/o/{team.org.slug}/manage/invitations/email",
                     {"invitation_subject": "Invoice overdue - action required", "invitation_intro": "Hi"})
    client.post_form(f"/o/{team.org.slug}/invitations/new", {"addresses": "spam0@corp.test", "role": "member"})
    [mail] = smtp.messages
    assert mail["Subject"] == "Olivia Owner invited you to join Acme Training"
    assert mail["From"] == Config.MAIL_DEFAULT_SENDER
    text = smtp.text(mail)
    assert "Olivia Owner" in text and "Acme Training" in text
