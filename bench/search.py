"""The Members panel's search at 100,000 members (issue 17, part 4).

``measure_member_search(app, world)`` times the whole service call, as the page makes it:
the page's rows and its bounded count (``invites.pagination.paginate``). The terms cover
each shape the query has to be fast for: a few matches ("4242"), about a thousand matches
late in the panel's order ("son 99"), nearly everyone ("person", "@bench"), a term too short
for trigrams ("p"), and nothing at all ("zz-nomatch").
"""
import statistics
import time

from invites.extensions import db

# The last three were the slow shapes before migration 0020: thousands of matches late in
# the order ("son 9": 11,111), and terms too short for a trigram, common or rare ("99", "zq").
TERMS = ("4242", "son 99", "person", "p", "zz-nomatch", "@bench", "son 9", "99", "zq")
RUNS = 7


def measure_member_search(app, world, terms=TERMS, runs=RUNS):
    """{term: median ms of ``page_of_members`` over ``runs`` calls}, on ``world`` as it
    stands (grown to 100,000 and migrated by the caller); each call in a fresh session,
    after one warm-up call."""
    from invites.orgs.models import Organization
    from invites.orgs.service import page_of_members

    results = {}
    with app.app_context():
        per_page = app.config["PAGE_SIZE"]
        for term in terms:
            timings = []
            for run in range(runs + 1):
                org = db.session.get(Organization, world.org_id)
                started = time.perf_counter()
                page = page_of_members(org, 1, per_page, term)
                elapsed = (time.perf_counter() - started) * 1000
                assert page.items is not None
                db.session.remove()
                if run:  # the first call warms the caches
                    timings.append(elapsed)
            results[term] = statistics.median(timings)
    return results
