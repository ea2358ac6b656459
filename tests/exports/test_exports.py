"""CSV exports (issue 19, part 5): each file read back with the csv module, formula-shaped
values neutralised, names in any script kept, the invitations filtered as the panel is,
streamed in batches, and only for those who may see the panel."""
import csv
import io
from datetime import datetime

import pytest

from invites import clock
from invites.activity.service import record
from invites.exports import rows
from invites.exports.writing import BOM, ROWS_PER_CHUNK, csv_chunks
from invites.extensions import db
from invites.groups.models import GroupMember
from invites.groups.service import create_group
from invites.imports.spreadsheet import safe_cell
from invites.invitations.models import Status
from invites.join_requests.models import Notify
from invites.join_requests.service import create_join_link, request_to_join
from invites.orgs.models import JoinedVia, Membership, Role
from tests.conftest import PASSWORD
from tests.test_security import limited  # noqa: F401  (the fixture: an app with rate limits on)

NOON = datetime(2031, 3, 2, 12, 0)  # after the fixtures' rows, made at the real time
FORMULAS = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTab", "\rReturn"]

MEMBERS_HEADER = ["Name", "Email", "Username", "Role", "Groups", "Joined (UTC)", "Way in", "Last day of access"]


def read_csv(response):
    """The rows of a CSV response, once its byte order mark is checked and taken off."""
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: spreadsheets read the names right
    return parse(body.decode("utf-8"))


def parse(text):
    """CSV text after its BOM, read as the csv module asks (newline="": a carriage return
    inside a quoted cell is part of the cell)."""
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


def export_url(org, name):
    return f"/o/{org.slug}/manage/{name}/export.csv"


def member_named(make_user, add_member, org, name, role=Role.MEMBER):
    """A member whose name is exactly ``name`` (set after registering, which strips it)."""
    user = make_user()
    user.name = name
    db.session.commit()
    add_member(org, user, role)
    return user


# --- The cell rule and the writer ------------------------------------------------------------

@pytest.mark.parametrize("text", FORMULAS + ["=1+2", "@"])
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text, cell", [
    ("Ann Lee", "Ann Lee"), ("ann@example.com", "ann@example.com"), ("", ""), (None, ""),
    ("1+1", "1+1"), (" =not first", " =not first"), ("Zoë Ærø 张伟", "Zoë Ærø 张伟"),
])
def test_other_cells_are_kept_as_they_are(text, cell):
    assert safe_cell(text) == cell


def test_the_writer_starts_with_the_bom_quotes_every_cell_and_sends_chunks():
    lines = ([str(n), "=cmd"] for n in range(ROWS_PER_CHUNK * 2 + 1))
    chunks = list(csv_chunks(["n", "cell"], lines))
    assert len(chunks) == 3 and chunks[0].startswith(BOM + '"n","cell"\r\n"0","\'=cmd"\r\n')
    parsed = parse("".join(chunks))
    assert len(parsed) == ROWS_PER_CHUNK * 2 + 2 and parsed[-1] == [str(ROWS_PER_CHUNK * 2), "'=cmd"]


# --- Members -----------------------------------------------------------------------------------

def test_members_export_has_every_member_with_groups_role_joined_and_way_in(
        client, auth, team, make_user, add_member):
    clock.freeze(NOON)
    zoe = member_named(make_user, add_member, team.org, "Zoë Ærøskøbing 张伟")
    db.session.execute(db.update(Membership).where(Membership.user_id == zoe.id)
                       .values(joined_via=JoinedVia.LINK, access_until=datetime(2031, 7, 1)))
    b_group, a_group = create_group(team.org, team.owner, "Welders, night"), create_group(team.org, team.owner, "apprentices")
    db.session.add_all([GroupMember(group_id=b_group.id, user_id=zoe.id),
                        GroupMember(group_id=a_group.id, user_id=zoe.id)])
    db.session.commit()
    auth.login(team.manager)
    response = client.get(export_url(team.org, "members"))
    assert response.is_streamed  # a generator, never the whole file at once
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme-training-members-2031-03-02.csv"'
    table = read_csv(response)
    assert table[0] == MEMBERS_HEADER
    by_name = {row[0]: row for row in table[1:]}
    assert len(by_name) == 5 and table[1][0] == "Olivia Owner"  # the panel's order: owners first
    assert by_name["Zoë Ærøskøbing 张伟"] == [
        "Zoë Ærøskøbing 张伟", zoe.email, zoe.username, "Member", "apprentices; Welders, night",
        "2031-03-02T12:00:00Z", "Invite link", "2031-06-30",  # access ends at the end of June 30
    ]
    joined = team.memberships[Role.OWNER].created_at.isoformat(timespec="seconds") + "Z"
    assert by_name["Olivia Owner"][3:] == ["Owner", "", joined, "Created the organization", ""]
    assert by_name["Mia Member"][6] == "Earlier"  # made by the fixture, which records no way in


def test_formula_shaped_names_come_back_neutralised(client, auth, team, make_user, add_member):
    for name in FORMULAS:
        member_named(make_user, add_member, team.org, name)
    auth.login(team.owner)
    names = [row[0] for row in read_csv(client.get(export_url(team.org, "members")))[1:]]
    assert {"'" + name for name in FORMULAS} <= set(names)
    assert not any(name[:1] in "=+-@\t\r" for name in names)


def test_members_stream_in_one_query_and_keep_their_groups_across_batches(
        team, make_user, add_member, make_org, monkeypatch, count_queries):
    monkeypatch.setattr(rows, "BATCH", 2)  # so one member's groups straddle two reads
    night, day, weekend = (create_group(team.org, team.owner, name) for name in ("Night", "day", "Weekend"))
    elsewhere = create_group(make_org(name="Rival"), team.owner, "Another organization's group")
    people = [member_named(make_user, add_member, team.org, f"Batch {n}") for n in range(5)]
    entries = {0: [weekend, night, day], 1: [elsewhere], 2: [night, weekend], 3: [day]}
    db.session.add_all([GroupMember(group_id=group.id, user_id=people[n].id)
                        for n, groups in entries.items() for group in groups])
    db.session.commit()
    assert team.org.id  # read back after the commit, before counting
    with count_queries() as statements:
        lines = list(rows.member_rows(team.org))
    assert len(statements) == 1 and len(lines) == 9  # the team's four and these five
    groups = {line[0]: line[4] for line in lines}
    assert [groups[f"Batch {n}"] for n in range(5)] == ["day; Night; Weekend", "", "Night; Weekend", "day", ""]


@pytest.mark.parametrize("read", [rows.member_rows, rows.invitation_rows, rows.join_request_rows, rows.activity_rows])
def test_nothing_is_read_before_the_file_is_sent(team, count_queries, read):
    """The view's database session ends when it returns, and a PostgreSQL server-side
    cursor opened in it would end with it: rows are read only as the response is sent."""
    assert team.org.id
    with count_queries() as statements:
        lines = read(team.org)
        assert statements == []
        list(lines)
    assert statements  # read once iterated


# --- Invitations -------------------------------------------------------------------------------

@pytest.fixture
def invitations(team, make_invitation):
    """Four invitations: pending into Trainers, cancelled, pending and formula-shaped,
    pending in no group."""
    trainers = create_group(team.org, team.owner, "Trainers")
    db.session.commit()
    made = {
        "ann": make_invitation(team.org, team.owner, "ann@example.com", groups=[trainers])[0],
        "bob": make_invitation(team.org, team.owner, "bob@example.com")[0],
        "formula": make_invitation(team.org, team.manager, "=1+2@example.com")[0],
        "cat": make_invitation(team.org, team.owner, "cat@elsewhere.org")[0],
    }
    made["bob"].status = Status.CANCELLED
    db.session.commit()
    return made, trainers


def emails(response):
    return [row[0] for row in read_csv(response)[1:]]


def test_invitations_export_lists_them_newest_first_with_their_details(client, auth, team, invitations):
    made, _ = invitations
    auth.login(team.owner)
    table = read_csv(client.get(export_url(team.org, "invitations")))
    assert table[0] == ["Email", "Status", "Role", "Groups", "Invited by", "Sent (UTC)", "Expires (UTC)",
                        "Answered (UTC)", "Accepted by", "Not delivered because"]
    assert [row[0] for row in table[1:]] == ["cat@elsewhere.org", "'=1+2@example.com", "bob@example.com", "ann@example.com"]
    ann = table[4]
    assert ann[1:5] == ["Pending", "Member", "Trainers", "Olivia Owner"]
    assert ann[6] == made["ann"].expires_at.isoformat(timespec="seconds") + "Z"
    assert table[3][1] == "Cancelled" and table[3][6] == ""  # no expiry once it is not pending
    assert table[2][4] == "Max Manager"


def test_invitations_export_is_filtered_exactly_as_the_panel(client, auth, team, invitations, make_org):
    made, trainers = invitations
    rival_group = create_group(make_org(name="Rival"), team.owner, "Trainers")
    db.session.commit()
    auth.login(team.owner)

    def both(**filters):
        panel = client.get(f"/o/{team.org.slug}/manage/invitations", query_string=filters).get_data(as_text=True)
        exported = emails(client.get(export_url(team.org, "invitations"), query_string=filters))
        for invitation in made.values():  # the panel shows a row exactly when the file has it
            assert (f'id="invitation-{invitation.id}"' in panel) == (safe_cell(invitation.email) in exported)
        return exported

    assert both(status=Status.CANCELLED) == ["bob@example.com"]
    assert both(status=Status.PENDING, q="EXAMPLE.com") == ["'=1+2@example.com", "ann@example.com"]
    assert both(group=trainers.id) == ["ann@example.com"]
    assert both(group=trainers.id, status=Status.CANCELLED) == []
    assert both(q="elsewhere") == ["cat@elsewhere.org"]
    # An unknown status, or another organization's group, is ignored as the panel ignores it.
    assert len(both(status="nonsense", group=rival_group.id)) == 4


def test_the_panel_link_carries_the_current_filters(client, auth, team, invitations):
    _, trainers = invitations
    auth.login(team.owner)
    url = f"/o/{team.org.slug}/manage/invitations?status=pending&q=ann&group={trainers.id}"
    expected = f'href="/o/{team.org.slug}/manage/invitations/export.csv?status=pending&amp;q=ann&amp;group={trainers.id}"'
    assert expected in client.get(url).get_data(as_text=True)
    # The table htmx swaps in when a filter changes carries the link, so it follows them.
    assert expected in client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    plain = client.get(f"/o/{team.org.slug}/manage/invitations").get_data(as_text=True)
    assert f'href="/o/{team.org.slug}/manage/invitations/export.csv"' in plain


# --- Join requests and the activity log --------------------------------------------------------

def test_join_requests_export_has_every_request_and_neutralises_messages(client, auth, team, make_user):
    clock.freeze(NOON)
    link, _ = create_join_link(team.org, team.owner, "Spring fair", Role.MEMBER, [], Notify.NOBODY, [])
    asker = make_user(name="Ása Ólafsdóttir", verified=False)
    request_to_join(link, asker, '=HYPERLINK("http://evil.example","Click")')
    db.session.commit()
    auth.login(team.manager)
    table = read_csv(client.get(export_url(team.org, "join-requests")))
    assert table[0] == ["Name", "Email", "Address confirmed", "Requested (UTC)", "Via", "Message", "Status",
                        "Decided by", "Decided (UTC)"]
    assert table[1] == ["Ása Ólafsdóttir", asker.email, "No", "2031-03-02T12:00:00Z", "Spring fair",
                        '\'=HYPERLINK("http://evil.example","Click")', "Pending", "", ""]


def test_activity_export_is_the_whole_log_newest_first(client, auth, team):
    for minute, summary in enumerate(["did a thing", "@SUM(1+1)", "-2 seats"]):
        clock.freeze(NOON.replace(minute=minute))
        record(team.org, team.manager, "test.thing", summary)
        db.session.flush()  # created_at is taken at the flush
    db.session.commit()
    auth.login(team.owner)
    response = client.get(export_url(team.org, "activity"))
    assert response.headers["Content-Disposition"] == 'attachment; filename="acme-training-activity-2031-03-02.csv"'
    table = read_csv(response)
    assert table[0] == ["When (UTC)", "Who", "What", "Action"]
    assert table[1:4] == [["2031-03-02T12:02:00Z", "Max Manager", "'-2 seats", "test.thing"],
                          ["2031-03-02T12:01:00Z", "Max Manager", "'@SUM(1+1)", "test.thing"],
                          ["2031-03-02T12:00:00Z", "Max Manager", "did a thing", "test.thing"]]
    assert table[-1][2].startswith("created the organization")


def test_each_panel_links_to_its_export(client, auth, team):
    auth.login(team.owner)
    for panel, name in (("members", "members"), ("join-requests", "join-requests"), ("activity", "activity")):
        html = client.get(f"/o/{team.org.slug}/manage/{panel}").get_data(as_text=True)
        assert f'href="/o/{team.org.slug}/manage/{name}/export.csv" download' in html, panel


# --- Who may export -----------------------------------------------------------------------------

# The panel's own rule: staff for members, invitations and join requests; owners for activity.
WHO_MAY = {
    "members": {Role.OWNER, Role.MANAGER},
    "invitations": {Role.OWNER, Role.MANAGER},
    "join-requests": {Role.OWNER, Role.MANAGER},
    "activity": {Role.OWNER},
}


@pytest.mark.parametrize("name", WHO_MAY)
@pytest.mark.parametrize("role", Role.ALL)
def test_only_those_who_may_see_the_panel_export_it(client, auth, team, name, role):
    auth.login(team.memberships[role].user)
    response = client.get(export_url(team.org, name))
    assert response.status_code == (200 if role in WHO_MAY[name] else 403)
    if response.status_code == 403:
        assert b"@example.com" not in response.get_data()


@pytest.mark.parametrize("name", WHO_MAY)
def test_another_organizations_owner_gets_404_and_visitors_the_login_page(client, auth, team, make_org, make_user, name):
    response = client.get(export_url(team.org, name))
    assert response.status_code == 302 and response.location.startswith("/login")
    rival = make_user(name="Rita Rival")
    make_org(owner=rival, name="Rival Ventures")
    auth.login(rival)
    assert client.get(export_url(team.org, name)).status_code == 404


def test_exports_are_rate_limited(limited, make_user, make_org):  # noqa: F811
    owner = make_user(email="exporter@example.com")
    org = make_org(owner=owner, name="Limits")
    client = limited.test_client()
    assert client.post_form("/login", {"email": owner.email, "password": PASSWORD}).status_code == 302
    names = ["members", "invitations", "join-requests", "activity"] * 3
    codes = [client.get(export_url(org, name)).status_code for name in names[:11]]
    assert codes[:10] == [200] * 10 and codes[10] == 429  # one budget for all four exports
