"""Seed 004: the invitation email tells more beside "View invitation": what the organization
is, in a line from its description, and each group with its description. The HTML and
text parts say the same, and the preview shows exactly that email. The form's help text
names every separator the address field takes."""
import re

import pytest

from invites.extensions import db
from invites.groups.service import create_group
from invites.invitations.messages import one_line

ABOUT = "Onboarding and safety courses\nfor Acme's teams.\n\nA second paragraph that the email leaves out."
GROUPS = {
    "Safety Training": "The yearly safety course every team member takes.",
    "New Hires": "Your first two weeks: accounts, tools & the people to ask.",
}


@pytest.fixture
def described(team):
    team.org.description = ABOUT
    made = []
    for name, description in GROUPS.items():
        group = create_group(team.org, team.owner, name)
        group.description = description
        made.append(group)
    create_group(team.org, team.owner, "Plain")  # no description
    db.session.commit()
    return {group.name: group for group in made}


def invite(client, team, groups, address="ivy@example.com", path="invitations/new"):
    return client.post_form(f"/o/{team.org.slug}/{path}", {
        "addresses": address, "role": "member", "groups": [str(g.id) for g in groups],
    })


def test_both_parts_of_a_delivered_invitation_name_the_groups_and_say_what_the_org_is(client, auth, team, described, smtp):
    auth.login(team.owner)
    assert invite(client, team, described.values()).status_code == 302
    [mail] = smtp.to("ivy@example.com")
    text, html = smtp.text(mail), smtp.html(mail)
    assert "About Acme Training: Onboarding and safety courses for Acme's teams." in text
    assert "A second paragraph" not in text and "A second paragraph" not in html
    assert "You will also join these groups:" in text
    assert "- New Hires: Your first two weeks: accounts, tools & the people to ask." in text
    assert "- Safety Training: The yearly safety course every team member takes." in text
    assert "About Acme Training: Onboarding and safety courses for Acme&#39;s teams." in html
    assert "<li><strong>New Hires</strong>: Your first two weeks: accounts, tools &amp; the people to ask.</li>" in html
    assert "<li><strong>Safety Training</strong>: The yearly safety course every team member takes.</li>" in html
    assert "View invitation" in html and "/i/" in text


def test_a_group_without_a_description_is_named_alone_and_one_group_is_the_group(client, auth, team, described, smtp):
    team.org.description = ""
    db.session.commit()
    plain = db.session.scalar(db.select(described["New Hires"].__class__).filter_by(name="Plain"))
    auth.login(team.owner)
    assert invite(client, team, [plain]).status_code == 302
    [mail] = smtp.to("ivy@example.com")
    text, html = smtp.text(mail), smtp.html(mail)
    assert "You will also join the group:\n- Plain\n" in text.replace("\r\n", "\n")
    assert "<li><strong>Plain</strong></li>" in html
    assert "About Acme Training" not in text and "About Acme Training" not in html


def test_the_preview_shows_the_same_groups_and_line(client, auth, team, described):
    auth.login(team.owner)
    page = invite(client, team, described.values(), path="invitations/preview").get_data(as_text=True)
    text = re.search(r'<pre class="mail-text">(.*?)</pre>', page, re.S).group(1)
    assert "About Acme Training: Onboarding and safety courses for Acme&#39;s teams." in text
    assert "- Safety Training: The yearly safety course every team member takes." in text
    html = invite(client, team, described.values(), path="invitations/preview.html").get_data(as_text=True)
    assert "<li><strong>Safety Training</strong>: The yearly safety course every team member takes.</li>" in html
    assert "About Acme Training: Onboarding and safety courses" in html


def test_one_line_folds_and_cuts():
    assert one_line("  a\n b  \n\nc") == "a b"
    assert one_line(None) == ""
    long = one_line("word " * 200)
    assert len(long) == 300 and long.endswith("…")


def test_the_address_help_text_names_semicolons(client, auth, team):
    auth.login(team.owner)
    page = client.get(f"/o/{team.org.slug}/invitations/new").get_data(as_text=True)
    assert "separated by commas, semicolons, spaces or new lines" in page
