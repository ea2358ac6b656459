"""Any ``page`` query argument on any list page is answered with a page, never a 500: past
the end an empty one, and a number too big for the databases' OFFSET is held at
``MAX_PAGE`` (``invites.pagination.page_number``)."""
import pytest

from invites.pagination import MAX_PAGE
from tests.test_query_counts import STAFF_PAGES, grow

PAGES = ["10", str(MAX_PAGE), str(MAX_PAGE + 1), str(10**20), "-3", "0", "abc", "1e9"]


def test_every_list_page_takes_any_page_number(app, client, team, auth):
    group = grow(team.org, team.owner, team.member, 0, 3)
    auth.login(team.owner)
    failures = []
    for pattern in STAFF_PAGES + ["/notifications"]:
        path = pattern.format(slug=team.org.slug, group=group.id)
        for page in PAGES:
            url = f"{path}{'&' if '?' in path else '?'}page={page}"
            response = client.get(url)
            if response.status_code != 200:
                failures.append((url, response.status_code))
    assert failures == []


@pytest.mark.parametrize("page, shown", [("5", 5), (str(10**20), MAX_PAGE), ("-1", 1), ("x", 1)])
def test_the_page_number_is_read_within_bounds(app, page, shown):
    from invites.pagination import page_number

    with app.test_request_context(f"/?page={page}"):
        assert page_number() == shown
