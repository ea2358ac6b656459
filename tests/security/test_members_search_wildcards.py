"""Security review, hardening gaps: the Members search put what was typed into a LIKE
pattern as is, so ``q=_`` (any one character) or ``q=%`` matched everyone. ``%`` and ``_``
now match only themselves."""
import pytest

from invites.orgs.models import Role
from invites.orgs.service import page_of_members


def names(org, search):
    return {m.user.name for m in page_of_members(org, 1, 100, search).items}


@pytest.fixture
def literal(team, make_user, add_member):
    """Two members whose names hold the characters themselves."""
    add_member(team.org, make_user(name="Ann_Underscore", email="ann_u@example.com"), Role.MEMBER)
    add_member(team.org, make_user(name="Pat 100% Percent"), Role.MEMBER)
    return team


@pytest.mark.parametrize("search, expected", [
    ("_", {"Ann_Underscore"}),
    ("%", {"Pat 100% Percent"}),
    ("100%", {"Pat 100% Percent"}),
    ("n_u", {"Ann_Underscore"}),  # in the name and in the address, not "n" + any + "u"
    ("a%e", set()),               # was: every name with an "a" and a later "e"
    ("__", set()),
])
def test_wildcards_match_only_themselves(literal, search, expected):
    assert names(literal.org, search) == expected


def test_plain_searches_still_match_inside_names_usernames_and_addresses(literal):
    assert names(literal.org, "MIA") == {"Mia Member"}
    assert names(literal.org, literal.manager.username[2:]) == {"Max Manager"}
    assert names(literal.org, "ann_u@example") == {"Ann_Underscore"}


def test_the_members_panel_answers_the_same(client, auth, literal):
    auth.login(literal.owner)
    response = client.get(f"/o/{literal.org.slug}/manage/members?q=_", headers={"HX-Request": "true"})
    table = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ann_Underscore" in table
    for other in ("Olivia Owner", "Max Manager", "Mia Member", "Cole Collaborator", "Pat 100% Percent"):
        assert other not in table
