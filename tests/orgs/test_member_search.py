"""The Members panel's search (issue 17, part 4): inside names, usernames and addresses,
as typed, in the panel's order, a page at a time; on PostgreSQL gathered through an index
of ``memberships.search_text`` (its trigrams, or its characters and pairs of characters:
migration 0020) when the planner expects few matches, and read in order when it expects
many."""
import pytest
from sqlalchemy import insert, text

from invites.accounts.models import User
from invites.extensions import db
from invites.orgs import service
from invites.orgs.models import Membership, Role, search_text
from invites.orgs.service import page_of_members


def names(org, search, page=1, per_page=100):
    return [m.user.name for m in page_of_members(org, page, per_page, search).items]


@pytest.fixture
def people(team, make_user, add_member):
    """The team, and members whose names and addresses hold the characters to test."""
    for name, email in [
        ("Ann_Underscore", "ann_u@example.com"),
        ("Pat 100% Percent", "pat@example.com"),
        ("Ada Lovelace", "countess@analytical.example"),
        ("zoë Zed", "zoe@example.com"),
    ]:
        add_member(team.org, make_user(name=name, email=email), Role.MEMBER)
    return team


def test_a_part_of_a_name_finds_its_members(people):
    assert names(people.org, "love") == ["Ada Lovelace"]
    # "an" is in Max Manager's and Ann's names, and in Ada's address ("analytical").
    assert names(people.org, "an") == ["Max Manager", "Ada Lovelace", "Ann_Underscore"]


def test_a_part_of_a_username_or_an_address_finds_its_member(people):
    assert names(people.org, people.manager.username[2:]) == ["Max Manager"]
    assert names(people.org, "analytical.exam") == ["Ada Lovelace"]
    assert names(people.org, "countess@") == ["Ada Lovelace"]


def test_the_search_ignores_case_and_surrounding_spaces(people):
    assert names(people.org, "  LOVELACE ") == ["Ada Lovelace"]
    assert names(people.org, "COUNTESS") == ["Ada Lovelace"]
    assert names(people.org, "ZOË") == ["zoë Zed"]


@pytest.mark.parametrize("search, expected", [
    ("_", ["Ann_Underscore"]),
    ("n_u", ["Ann_Underscore"]),
    ("%", ["Pat 100% Percent"]),
    ("100%", ["Pat 100% Percent"]),
    ("0% p", ["Pat 100% Percent"]),
    ("a%e", []),       # a wildcard would match "Ada Lovelace", "Max Manager", ...
    ("an_", []),       # a wildcard would match "Ann", "Manager"
    ("___", []),
    ("%%%", []),
])
def test_percent_and_underscore_match_only_themselves(people, search, expected):
    assert names(people.org, search) == expected


def test_matches_keep_the_panel_order_owners_first_then_by_name(people):
    assert names(people.org, "e") == [
        "Olivia Owner", "Max Manager", "Ada Lovelace", "Ann_Underscore", "Mia Member",
        "Pat 100% Percent", "zoë Zed", "Cole Collaborator",
    ]
    assert names(people.org, "e") == [n for n in names(people.org, None) if n in names(people.org, "e")]


def test_the_search_pages_through_the_matches(people):
    everyone = names(people.org, "example")
    first = page_of_members(people.org, 1, 3, "example")
    second = page_of_members(people.org, 2, 3, "example")
    last = page_of_members(people.org, 3, 3, "example")
    assert [m.user.name for m in first.items + second.items + last.items] == everyone
    assert len(everyone) == 8 and first.total == 8 and first.pages == 3
    assert page_of_members(people.org, 4, 3, "example").items == []


def test_an_outsider_is_never_found(people):
    assert names(people.org, "otto") == []
    assert names(people.org, "outsider") == []


def test_nothing_matches_nothing(people):
    assert names(people.org, "zz-nomatch") == []
    assert page_of_members(people.org, 1, 25, "zz-nomatch").total == 0


def test_the_search_follows_an_accounts_new_name_username_and_address(people):
    ada = next(m.user for m in page_of_members(people.org, 1, 50, "lovelace").items)
    ada.name, ada.username, ada.email = "Ada King", "countess-of-lovelace", "ada@engine.example"
    db.session.commit()
    assert names(people.org, "king") == ["Ada King"]
    assert names(people.org, "of-love") == ["Ada King"]
    assert names(people.org, "engine.ex") == ["Ada King"]
    assert names(people.org, "analytical") == []  # the old address no longer finds her
    stored = db.session.scalar(db.select(Membership.search_text).where(Membership.user_id == ada.id))
    assert stored == search_text("Ada King", "countess-of-lovelace", "ada@engine.example")


def test_a_term_never_matches_across_two_fields(people, client, auth):
    ada = next(m.user for m in page_of_members(people.org, 1, 50, "lovelace").items)
    assert names(people.org, "lovelace") == ["Ada Lovelace"]
    # Name, username and address are kept one per line: the end of one and the start of
    # the next, with the line break between them, is in no single field.
    assert names(people.org, f"lovelace\n{ada.username[:4]}") == []
    auth.login(people.owner)
    page = client.get(f"/o/{people.org.slug}/manage/members?q=lovelace%0A{ada.username[:4]}")
    assert page.status_code == 200 and "Ada Lovelace" not in page.get_data(as_text=True)


def test_a_line_break_inside_a_field_is_kept_as_a_space():
    assert search_text("Ann\nLee", "ann", "ann@example.com") == "ann lee\nann\nann@example.com"


def test_letters_beyond_ascii_match_in_any_case(people, make_user, add_member):
    add_member(people.org, make_user(name="ÉLODIE Ørsted"))
    assert names(people.org, "élodie") == ["ÉLODIE Ørsted"]
    assert names(people.org, "ØRSTED") == ["ÉLODIE Ørsted"]


def test_the_migration_fills_the_search_text_of_existing_members(app, people):
    import flask_migrate

    ada = next(m.user for m in page_of_members(people.org, 1, 50, "lovelace").items)
    ada_id, ada_username = ada.id, ada.username
    db.session.close()  # the migration alters the table from another connection
    flask_migrate.downgrade(revision="0019")
    try:
        db.session.execute(text("UPDATE users SET name = 'Ada KING', email = 'ada@engine.example' WHERE id = :id"),
                           {"id": ada_id})
        db.session.commit()
    finally:
        flask_migrate.upgrade()
    stored = dict(db.session.execute(text("SELECT user_id, search_text FROM memberships")).all())
    assert stored[ada_id] == f"ada king\n{ada_username}\nada@engine.example"
    assert len(stored) == 8 and all(value for value in stored.values())
    assert names(people.org, "engine") == ["Ada KING"]


# ---- PostgreSQL: the trigram indexes and the two shapes of the search ---------------------

SEARCH_INDEX = "ix_memberships_search_trgm"
PAIRS_INDEX = "ix_memberships_search_pairs"


def add_crowd(team, size, org=None, prefix="p"):
    """``size`` more members of ``org`` (the team's), named like the bench's ("Person i",
    "p{i}", "p{i}@crowd.test"), and fresh statistics, so the planner weighs the indexes as
    it would at that size."""
    owner, org = team.owner, org or team.org
    users = db.session.execute(insert(User).returning(User.id), [
        {"name": f"Person {i}", "username": f"{prefix}{i}", "email": f"{prefix}{i}@crowd.test",
         "password_hash": owner.password_hash} for i in range(size)
    ]).scalars().all()
    db.session.execute(insert(Membership), [
        {"org_id": org.id, "user_id": u, "role": Role.MEMBER, "role_order": 2, "sort_name": f"person {i}",
         "search_text": search_text(f"Person {i}", f"{prefix}{i}", f"{prefix}{i}@crowd.test")}
        for i, u in enumerate(users)
    ])
    db.session.commit()
    # What autovacuum does on a live server: the rows just added move from the GIN
    # indexes' pending lists into the indexes proper, and the statistics are fresh.
    for name in (SEARCH_INDEX, PAIRS_INDEX):
        db.session.execute(text("SELECT gin_clean_pending_list(:name)"), {"name": name})
    db.session.execute(text("ANALYZE users"))
    db.session.execute(text("ANALYZE memberships"))
    db.session.commit()
    return team


@pytest.fixture
def crowd(team):
    return add_crowd(team, 3_000)


@pytest.mark.postgres_only
def test_the_migration_builds_the_indexes_of_the_searched_text(app):
    definitions = dict(db.session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'memberships' AND indexdef LIKE '%USING gin%'"
    )).all())
    assert set(definitions) == {SEARCH_INDEX, PAIRS_INDEX}
    assert definitions[SEARCH_INDEX].endswith("(search_text gin_trgm_ops)")
    assert definitions[PAIRS_INDEX].endswith("(member_search_pairs(search_text))")


@pytest.mark.postgres_only
@pytest.mark.parametrize("stored, term", [
    ("person 42\np42\np42@crowd.test", "42"), ("zoë zed", "ë"), ("zoë zed", "oë z"), ("ann_u", "n_"),
    ("pat 100% percent", "0%"), ("a\nb", "a\nb"), ("x", "x"), ("ab", "ab"),
])
def test_the_pairs_of_a_term_are_among_the_pairs_of_any_text_holding_it(app, stored, term):
    assert term in stored
    pairs = service.character_pairs(term)
    assert db.session.scalar(text("SELECT member_search_pairs(:t) @> CAST(:pairs AS text[])"),
                             {"t": stored, "pairs": pairs})
    assert not db.session.scalar(text("SELECT member_search_pairs(:t) @> CAST(:pairs AS text[])"),
                                 {"t": stored.replace(term, "|"), "pairs": pairs + ["|" * 2]})


@pytest.mark.postgres_only
@pytest.mark.parametrize("term, expected, index", [
    ("son 4242", ["Person 4242"], SEARCH_INDEX),  # a trigram: "424"
    ("qv", ["Jürgen Qvist"], PAIRS_INDEX),  # too short for a trigram
    ("ü", ["Jürgen Qvist"], PAIRS_INDEX),
    # No three letters or digits in a row, but pg_trgm knows "q" starts a word ("  q"):
    # either index finds it, and the planner picks one.
    ("-q", ["Jürgen Qvist"], (SEARCH_INDEX, PAIRS_INDEX)),
])
@pytest.mark.parametrize("others", [0, 20_000])
def test_a_rare_term_is_looked_up_in_an_index(team, make_user, make_org, add_member, term, expected, index, others):
    """Also when another organization is larger: the planner may then find this one's
    members through their organization, which is no search index."""
    add_member(team.org, make_user(name="Jürgen Qvist", email="jurgen-qvist@example.com"))
    if others:
        add_crowd(team, others, org=make_org(name="Other"), prefix="o")
    crowd = add_crowd(team, 10_000)  # on fewer rows, reading them all costs less
    statements = []
    from sqlalchemy import event

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert names(crowd.org, term) == expected
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    page_query = next(s for s in statements if "matching_members" in s[0])
    cursor = db.session.connection().connection.driver_connection.cursor()
    cursor.execute("EXPLAIN " + page_query[0], page_query[1])
    plan = "\n".join(line for (line,) in cursor.fetchall())
    assert any(f"Bitmap Index Scan on {name}" in plan for name in ((index,) if isinstance(index, str) else index)), plan
    assert "Seq Scan on memberships" not in plan, plan
    # never row by row: the pairs are an index's condition or not asked at all
    assert not any("Filter:" in line and "member_search_pairs" in line for line in plan.splitlines()), plan


@pytest.mark.postgres_only
@pytest.mark.parametrize("search", ["son 42", "son 1", "4242", "son", "p1", "@crowd", "1%", "n_1", "zz-nomatch",
                                    "zq", "99", "7", "@c", "n_"])
def test_every_shape_of_the_search_answers_the_same(crowd, monkeypatch, search):
    """Read in order, gathered by the LIKE alone (the trigram index's shape), and gathered
    by the pairs as well: the same rows, order, total and exactness, page after page,
    past the end too. Each shape is taken by hand, whatever the planner would choose."""
    from sqlalchemy import true

    chosen = [(p.total, [m.id for m in p.items]) for p in [page_of_members(crowd.org, 1, 25, search)]]
    matching = db.select(Membership).where(Membership.org_id == crowd.org.id, service.member_matches(search))
    monkeypatch.setattr(service, "FEW_MEMBERS", -1)  # nothing gathered: read in order
    for page in (1, 2, 3, 200):
        in_order = page_of_members(crowd.org, page, 25, search)
        for gathering in (true(), service.pairs_held(service.character_pairs(search))):
            gathered = service._gathered(matching.where(gathering), page, 25)
            assert [m.id for m in gathered.items] == [m.id for m in in_order.items]
            assert (gathered.total, gathered.total_is_exact) == (in_order.total, in_order.total_is_exact)
        if page == 1:  # and whichever shape the planner chose
            assert chosen == [(in_order.total, [m.id for m in in_order.items])]
