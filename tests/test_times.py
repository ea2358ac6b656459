"""Times as pages show them (invites/times.py): relative wording from Babel, the full date
in the viewer's zone in the title, UTC for visitors."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from invites import clock
from invites.accounts.service import set_time_zone
from invites.extensions import db
from invites.times import full_date, known_zone, relative, show_time

NOW = datetime(2026, 11, 25, 14, 0)


@pytest.mark.parametrize("offset, words", [
    (timedelta(0), "1 second ago"),
    (timedelta(seconds=-30), "30 seconds ago"),
    (timedelta(seconds=45), "in 45 seconds"),
    (timedelta(minutes=-5), "5 minutes ago"),
    (timedelta(hours=-2), "2 hours ago"),
    (timedelta(hours=-23, minutes=-50), "1 day ago"),
    (timedelta(days=-1), "1 day ago"),
    (timedelta(days=6), "in 6 days"),
    (timedelta(days=6, hours=23), "in 1 week"),
    (timedelta(days=14), "in 2 weeks"),
    (timedelta(days=-80), "3 months ago"),
    (timedelta(days=400), "in 1 year"),
])
def test_relative_words_past_and_future(offset, words):
    assert relative(NOW + offset, NOW) == words


def test_the_title_is_the_full_date_in_the_given_zone_with_its_name():
    stored = datetime(2026, 11, 25, 2, 16)  # naive UTC, as the database keeps it
    assert full_date(stored, ZoneInfo("UTC")) == \
        "Wednesday, November 25, 2026, 2:16\u202fAM Coordinated Universal Time"
    # Paris is an hour ahead in November; New York five hours behind, the day before.
    assert full_date(stored, ZoneInfo("Europe/Paris")) == \
        "Wednesday, November 25, 2026, 3:16\u202fAM Central European Standard Time"
    assert full_date(stored, ZoneInfo("America/New_York")) == \
        "Tuesday, November 24, 2026, 9:16\u202fPM Eastern Standard Time"
    # Summer time is named as such.
    assert full_date(datetime(2026, 7, 1, 12, 0), ZoneInfo("Europe/Paris")).endswith(
        "2:00\u202fPM Central European Summer Time")


def test_show_time_is_a_time_element_for_a_visitor_in_utc(app):
    clock.freeze(NOW)
    with app.test_request_context("/"):
        html = str(show_time(NOW - timedelta(hours=2)))
    assert html == (
        '<time datetime="2026-11-25T12:00:00Z" '
        'title="Wednesday, November 25, 2026, 12:00\u202fPM Coordinated Universal Time">'
        "2 hours ago</time>"
    )
    with app.test_request_context("/"):
        assert show_time(None) == ""


def test_a_users_zone_shifts_the_title_on_their_pages(client, auth, team, make_user, make_invitation):
    clock.freeze(NOW)
    kim = make_user(name="Kim Kolkata", email="kim@example.com")
    set_time_zone(kim, "Asia/Kolkata")
    db.session.commit()
    invitation, token = make_invitation(team.org, team.owner, "kim@example.com")
    expires = invitation.expires_at
    in_kolkata = full_date(expires, ZoneInfo("Asia/Kolkata"))
    assert in_kolkata.endswith("India Standard Time")

    # A visitor sees UTC.
    html = client.get(f"/i/{token}").get_data(as_text=True)
    assert f'title="{full_date(expires, ZoneInfo("UTC"))}"' in html
    assert "India Standard Time" not in html
    assert "This invitation expires <time" in html and ">in 2 weeks</time>" in html

    # Kim, logged in, sees her zone; the element and the words stay the same.
    auth.login(kim)
    html = client.get(f"/i/{token}").get_data(as_text=True)
    assert f'<time datetime="{expires:%Y-%m-%dT%H:%M:%S}Z" title="{in_kolkata}">in 2 weeks</time>' in html


def test_only_offered_zones_are_known():
    assert known_zone("Europe/Paris") == "Europe/Paris"
    assert known_zone("Etc/UTC") == "UTC"  # what some browsers report
    assert known_zone("Asia/Calcutta") == "Asia/Calcutta"  # an alias browsers still send
    for refused in ("Mars/Olympus_Mons", "", None, "../../etc/passwd", "Etc/GMT+5", "posixrules"):
        assert known_zone(refused) is None
