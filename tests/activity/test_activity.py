from datetime import datetime, timedelta

from invites import clock
from invites.activity.service import page_of_activity, record
from invites.extensions import db


def test_activity_panel_lists_newest_first_for_owners(client, team, auth):
    start = datetime(2026, 1, 1, 9, 0)
    for minute in range(3):
        clock.freeze(start + timedelta(minutes=minute))
        record(team.org, team.manager, "test.thing", f"did thing {minute}")
    db.session.commit()
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/manage/activity").get_data(as_text=True)
    positions = [html.index(f"did thing {n}") for n in (2, 1, 0)]
    assert positions == sorted(positions)
    assert "Max Manager" in html and 'datetime="2026-01-01T09:02:00Z"' in html
    assert ">1 second ago</time>" in html  # seen from the frozen clock's 09:02


def test_activity_is_paginated_with_a_fixed_number_of_queries(team, count_queries):
    for n in range(30):
        record(team.org, team.manager if n % 2 else team.member, "test.thing", f"thing {n}")
    db.session.commit()
    org = db.session.get(type(team.org), team.org.id)
    with count_queries() as statements:
        page = page_of_activity(org, 1, 10)
        names = {entry.actor.name for entry in page.items}  # actors come with the page
    assert len(page.items) == 10 and page.total == 31  # 30 + "created the organization"
    assert names == {"Max Manager", "Mia Member"}
    assert len(statements) == 1  # the page, its bounded count and the actors in one query


def test_a_page_past_the_end_is_empty_and_still_counts(team):
    for n in range(3):
        record(team.org, team.manager, "test.thing", f"thing {n}")
    db.session.commit()
    past = page_of_activity(team.org, 9, 2)
    assert past.items == [] and past.total == 4 and past.pages == 2
    first = page_of_activity(team.org, 1, 2)
    assert len(first.items) == 2 and first.total == 4 and first.total_is_exact


def test_activity_panel_answers_htmx_with_its_table(client, team, auth):
    auth.login(team.owner)
    fragment = client.get(
        f"/o/{team.org.slug}/manage/activity", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="activity-table">')
    assert "created the organization Acme Training" in fragment


def test_activity_escapes_what_users_typed(client, team, auth):
    from invites.groups.service import create_group

    create_group(team.org, team.owner, '<script>alert("x")</script>')
    db.session.commit()
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/manage/activity").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


def test_a_long_list_counts_only_a_few_pages_ahead(client, team, auth, app, count_queries):
    from invites.pagination import LOOKAHEAD_PAGES

    per_page = 2
    rows = (LOOKAHEAD_PAGES + 5) * per_page  # more than the count looks at from page 1
    for n in range(rows - 1):
        record(team.org, team.manager, "test.thing", f"thing {n}")
    db.session.commit()  # with "created the organization": `rows` in all
    org = db.session.get(type(team.org), team.org.id)

    first = page_of_activity(org, 1, per_page)
    assert not first.total_is_exact and first.total == (1 + LOOKAHEAD_PAGES) * per_page
    assert first.has_next and first.pages == 1 + LOOKAHEAD_PAGES
    near_the_end = page_of_activity(org, 10, per_page)  # counts up to page 30: sees them all
    assert near_the_end.total_is_exact and near_the_end.total == rows
    assert near_the_end.pages == LOOKAHEAD_PAGES + 5

    app.config["PAGE_SIZE"] = per_page
    auth.login(team.owner)
    html = client.get(f"/o/{team.org.slug}/manage/activity").get_data(as_text=True)
    assert f"Page 1 of more than {1 + LOOKAHEAD_PAGES}" in html
    html = client.get(f"/o/{team.org.slug}/manage/activity?page=10").get_data(as_text=True)
    assert f"Page 10 of {LOOKAHEAD_PAGES + 5} ({rows} in all)" in html
    last = client.get(f"/o/{team.org.slug}/manage/activity?page={LOOKAHEAD_PAGES + 5}").get_data(as_text=True)
    assert 'rel="next"' not in last and "thing 0" in last
