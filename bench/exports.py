"""The members' CSV export (issue 19) at the world's size: the file streamed through
gunicorn to a client that reads it as it arrives, timed, and the peak RSS (VmHWM) of the
worker that served it, which must stay under 150 MB however many members there are.
"""
import http.client
import time
from urllib.parse import urlsplit

from sqlalchemy import text

from invites.extensions import db

PEAK_LIMIT_MB = 150


def put_members_in_groups(app, world):
    """Every member but the owner in one group (the n-th member in the n-th group), so each
    row's Groups cell is read as it would be in use."""
    with app.app_context():
        db.session.execute(text("""
            INSERT INTO group_members (group_id, user_id, is_manager, created_at)
            SELECT g.id, m.user_id, false, now() AT TIME ZONE 'UTC'
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM groups WHERE org_id = :org) AS g
            JOIN (SELECT user_id, row_number() OVER (ORDER BY id) AS n FROM memberships
                  WHERE org_id = :org AND user_id <> :owner) AS m ON m.n = g.n
            ON CONFLICT DO NOTHING
        """), {"org": world.org_id, "owner": world.owner_id})
        db.session.commit()


def measure_member_export(url, world, app=None):
    """(rows, megabytes, seconds to the first byte, seconds in all, peak RSS of the
    worker before the export and after it, in MB) for GET /o/<slug>/manage/members/export.csv
    through gunicorn on ``url``'s database. With ``app``, members are first put in groups."""
    from bench.run import _children, _peak_rss_kb, gunicorn, http_login

    if app is not None:
        put_members_in_groups(app, world)
    with gunicorn(url) as (base, process):
        cookie = http_login(base)
        before = max(_peak_rss_kb(pid) for pid in _children(process.pid)) / 1024
        host = urlsplit(base)
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
        started = time.perf_counter()
        conn.request("GET", f"/o/{world.slug}/manage/members/export.csv", headers={"Cookie": cookie})
        response = conn.getresponse()
        assert response.status == 200, response.status
        assert response.getheader("Transfer-Encoding") == "chunked"  # streamed, no Content-Length
        first = response.read(64 * 1024)
        to_first_byte = time.perf_counter() - started
        assert first.startswith(b"\xef\xbb\xbf"), first[:20]
        size, lines = len(first), first.count(b"\n")  # "\r\n" may fall across two reads
        while chunk := response.read(64 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
        peak = max(_peak_rss_kb(pid) for pid in _children(process.pid)) / 1024
    return lines - 1, size / 1e6, to_first_byte, seconds, before, peak
