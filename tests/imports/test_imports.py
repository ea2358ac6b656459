"""Import Learners (F14) with real files: CSV (with BOM, Excel's semicolons), XLSX, limits,
bad files, formula-looking cells; a 500-row import through a real SMTP server."""
import io

import pytest
from openpyxl import Workbook, load_workbook

from invites.activity.models import Activity
from invites.errors import DomainError
from invites.extensions import db
from invites.groups.service import create_group
from invites.imports import service
from invites.imports.models import Fate, Import, ImportRow
from invites.imports.spreadsheet import read_rows, safe_cell, template_csv, template_xlsx
from invites.invitations.models import Invitation, Status


@pytest.fixture
def premium(team):
    team.org.plan = "premium"
    db.session.commit()
    return team.org


def csv_file(rows, header="email,groups,first name,last name", bom=False, sep=","):
    text = "\n".join([header.replace(",", sep)] + [sep.join(r) for r in rows]) + "\n"
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def xlsx_file(rows, header=("email", "groups", "first name", "last name")):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def people(n, domain="example.com"):
    return [(f"p{i}@{domain}", "", f"First{i}", f"Last{i}") for i in range(n)]


def upload(client, org, data, name="people.csv"):
    return client.post_form(f"/o/{org.slug}/imports", {"file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data")


def test_csv_with_bom_and_semicolon_separated_groups(app, premium, team):
    data = csv_file([("Ann@Example.com", "New Hires; Safety", "Ann", "Lée")], header="Email,Groups,First Name,LAST_NAME", bom=True)
    [row] = read_rows("people.csv", data)
    assert row == {"row_number": 2, "email": "Ann@Example.com", "groups": "New Hires; Safety",
                   "first_name": "Ann", "last_name": "Lée"}
    assert service.split_groups(row["groups"]) == ["New Hires", "Safety"]


def test_excels_csv_with_semicolons_and_windows_encoding(app):
    data = "email;groups;first name;last name\r\nzoe@example.com;A;Zoë;Ørsted\r\n".encode("cp1252")
    [row] = read_rows("export.csv", data)
    assert row["email"] == "zoe@example.com" and row["first_name"] == "Zoë" and row["last_name"] == "Ørsted"


def test_xlsx_and_formula_cells_kept_as_text(app):
    data = xlsx_file([("=HYPERLINK(\"http://evil.example\",\"click\")", "=1+1", "Ann", "Lee"),
                      ("bob@example.com", "G", "Bob", "Bee")])
    rows = read_rows("people.xlsx", data)
    assert rows[0]["email"] == '=HYPERLINK("http://evil.example","click")'
    assert rows[0]["groups"] == "=1+1"
    assert rows[1]["email"] == "bob@example.com"
    assert safe_cell(rows[0]["email"]).startswith("'=") and safe_cell("+1") == "'+1"
    assert safe_cell("ann@example.com") == "ann@example.com"


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.csv", "The file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png", "not a spreadsheet"),
    (b"PK\x03\x04garbage that is not a real zip", "broken.xlsx", "not a spreadsheet"),
    (b"name,groups\nAnn,G\n", "noemail.csv", "no “email” column"),
    (b"email\n", "header-only.csv", "no people"),
    (b"\n\n  \n", "blank.csv", "no rows"),
])
def test_bad_files_are_refused_with_a_clear_message(app, data, name, message):
    with pytest.raises(DomainError) as error:
        read_rows(name, data)
    assert message in error.value.message and error.value.field == "file"


def test_500_rows_are_accepted_and_501_refused(app):
    assert len(read_rows("ok.csv", csv_file(people(500)))) == 500
    with pytest.raises(DomainError, match="more than 500"):
        read_rows("big.csv", csv_file(people(501)))
    with pytest.raises(DomainError, match="more than 500"):
        read_rows("big.xlsx", xlsx_file(people(501)))
    assert len(read_rows("ok.xlsx", xlsx_file(people(500)))) == 500


def test_the_templates_read_back(app):
    for name, data in (("t.csv", template_csv()), ("t.xlsx", template_xlsx())):
        [row] = read_rows(name, data)
        assert row["email"] == "ann.lee@example.com" and service.split_groups(row["groups"]) == ["New Hires", "Safety Training"]


def test_preview_says_each_rows_fate_and_saves_nothing_else(client, auth, team, premium, smtp, make_invitation):
    create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    make_invitation(team.org, team.owner, "pending@example.com")
    smtp.messages.clear()
    data = csv_file([
        ("new@example.com", "New Hires", "New", "Person"),
        (team.member.email, "", "Mia", "Member"),
        ("pending@example.com", "", "Pen", "Ding"),
        ("not an address", "", "X", "Y"),
        ("new@example.com", "", "Again", "Dup"),
        ("other@example.com", "Nope", "O", "N"),
        ('=HYPERLINK("http://evil.example")', "", "F", "F"),
    ])
    auth.login(team.manager)
    response = upload(client, team.org, data)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    imp = db.session.scalar(db.select(Import))
    fates = [row.fate for row in db.session.scalars(db.select(ImportRow).order_by(ImportRow.row_number))]
    assert fates == [Fate.INVITE, Fate.MEMBER, Fate.RESEND, Fate.INVALID_EMAIL, Fate.DUPLICATE,
                     Fate.UNKNOWN_GROUP, Fate.INVALID_EMAIL]
    assert service.counts(imp) == {Fate.INVITE: 1, Fate.MEMBER: 1, Fate.RESEND: 1, Fate.INVALID_EMAIL: 2,
                                   Fate.DUPLICATE: 1, Fate.UNKNOWN_GROUP: 1}
    for label in ("Will be invited", "Already a member: skipped", "Already invited: will be resent",
                  "Invalid email", "Duplicate in file", "Unknown group", "No group called Nope"):
        assert label in page, label
    assert "=HYPERLINK(&#34;http://evil<wbr>.example&#34;)" in page and '<a href="http://evil' not in page
    assert smtp.messages == [] and db.session.scalar(db.select(db.func.count(Invitation.id))) == 1
    assert "import.previewed" in set(db.session.scalars(db.select(Activity.verb)))


def test_upload_are_you_sure_continue_then_summary_and_history(client, auth, team, premium, smtp):
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    auth.login(team.manager)
    location = upload(client, team.org, xlsx_file([("ann@example.com", "new hires", "Ann", "Lee"),
                                                   ("bob@example.com", "", "Bob", "Bee")]), "people.xlsx").location
    confirm = client.post_form(f"{location}/run").get_data(as_text=True)
    assert "Are You Sure?" in confirm and "2 invitation emails will be sent now" in confirm and "Continue" in confirm
    assert smtp.messages == []
    response = client.post_form(f"{location}/run", {"confirmed": "yes"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == location
    page = client.get(location).get_data(as_text=True)
    assert "Summary: 2 sent, 0 not delivered" in page
    assert sorted(m["To"] for m in smtp.messages) == ["ann@example.com", "bob@example.com"]
    ann = db.session.scalar(db.select(Invitation).filter_by(email="ann@example.com"))
    assert [g.id for g in ann.groups] == [group.id] and ann.import_id is not None
    history = client.get(f"/o/{team.org.slug}/manage/imports").get_data(as_text=True)
    assert "people.xlsx" in history and "Max Manager" in history
    panel = client.get(f"/o/{team.org.slug}/manage/invitations").get_data(as_text=True)
    assert f"From import #{ann.import_id}" in panel
    # Running it again sends nothing.
    client.post_form(f"{location}/run", {"confirmed": "yes"})
    assert len(smtp.messages) == 2


def test_500_rows_over_one_connection_with_every_50th_refused(app, team, premium, smtp):
    smtp.fail_with(lambda n, envelope: "550 5.1.1 No such user" if n % 50 == 0 else None)
    with app.test_request_context():
        imp = service.preview_import(team.org, team.owner, "big.csv", csv_file(people(500)))
        db.session.commit()
        service.run_import(team.org, team.owner, imp, commit=db.session.commit)
        db.session.commit()
    assert len(smtp.messages) == 490 and smtp.connection_count == 1
    assert imp.sent_count == 490 and imp.failed_count == 10
    failed = db.session.scalars(db.select(Invitation).where(Invitation.delivery_error.is_not(None))).all()
    assert len(failed) == 10 and all("550" in inv.delivery_error for inv in failed)
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 500  # nothing lost
    assert all(inv.status == Status.PENDING for inv in failed)
    rows = db.session.scalars(db.select(ImportRow).filter_by(outcome="not_delivered")).all()
    assert len(rows) == 10 and rows[0].row_number == 51  # the 50th message is the 51st line
    summary = [s for s in db.session.scalars(db.select(Activity.summary).filter_by(verb="import.run"))]
    assert summary == ["ran the import of big.csv: 490 sent, 10 not delivered, 0 skipped"]


def test_the_premium_panel_offers_the_manual_path_too(client, auth, team, premium):
    auth.login(team.manager)
    page = client.get(f"/o/{team.org.slug}/manage/imports").get_data(as_text=True)
    assert "Preview Upload" in page and f'href="/o/{team.org.slug}/invitations/new"' in page
    assert client.get(f"/o/{team.org.slug}/invitations/new").status_code == 200


def test_free_plan_explains_and_refuses(client, auth, team):
    auth.login(team.owner)
    page = client.get(f"/o/{team.org.slug}/manage/imports").get_data(as_text=True)
    assert "part of the premium plan" in page and "Preview Upload" not in page
    assert f'href="/o/{team.org.slug}/invitations/new"' in page  # F14's manual path: up to 10
    assert upload(client, team.org, csv_file(people(2))).status_code == 403
    assert client.get(f"/o/{team.org.slug}/imports/template.csv").status_code == 403
    assert db.session.scalar(db.select(db.func.count(Import.id))) == 0


@pytest.mark.parametrize("who, status", [("member", 403), ("collaborator", 403), ("outsider", 404)])
def test_only_owners_and_managers_import(client, auth, team, premium, who, status):
    auth.login(getattr(team, who))
    assert client.get(f"/o/{team.org.slug}/manage/imports").status_code == status
    assert upload(client, team.org, csv_file(people(2))).status_code == status
    assert db.session.scalar(db.select(db.func.count(Import.id))) == 0


def test_another_organizations_import_is_404(client, auth, team, premium, make_org, make_user):
    with client.application.test_request_context():
        imp = service.preview_import(team.org, team.owner, "a.csv", csv_file(people(1)))
        db.session.commit()
    rival = make_user()
    rival_org = make_org(owner=rival, name="Rival", plan="premium")
    auth.login(rival)
    assert client.get(f"/o/{rival_org.slug}/imports/{imp.id}").status_code == 404
    assert client.post_form(f"/o/{rival_org.slug}/imports/{imp.id}/run", {"confirmed": "yes"}).status_code == 404


def test_upload_errors_show_on_the_form(client, auth, team, premium):
    auth.login(team.owner)
    response = upload(client, team.org, b"name\nAnn\n")
    assert response.status_code == 422 and "no “email” column" in response.get_data(as_text=True)
    response = client.post_form(f"/o/{team.org.slug}/imports", {}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file" in response.get_data(as_text=True)
    big = b"email\n" + b"x" * (3 * 1024 * 1024)
    assert upload(client, team.org, big).status_code == 413


def test_the_xlsx_template_download(client, auth, team, premium):
    auth.login(team.owner)
    response = client.get(f"/o/{team.org.slug}/imports/template.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [c.value for c in sheet[1]] == ["email", "groups", "first name", "last name"]
