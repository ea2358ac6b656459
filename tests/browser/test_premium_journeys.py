"""The premium features in a real Chromium against the live app (Playwright): the owner
turns the Join Web Page on for one email domain and copies its address, a visitor
registers, confirms the address from the emailed link and joins, another domain is
refused with the rule; the owner downloads the CSV template, fills it in, previews it,
goes through "Are You Sure?" and "Continue" to the summary and the History; and axe-core
on every page of both features, on the premium and the free plan."""
import csv
import io
import re

import pytest
from playwright.sync_api import expect

from invites.accounts.service import find_user_by_email
from invites.extensions import db
from invites.groups.service import create_group
from invites.imports import service as imports
from invites.imports.models import Import, ImportStatus
from invites.invitations.models import Invitation
from invites.join_page import service as join_page
from tests.support import new_page, on_live_server, role_in

pytestmark = pytest.mark.browser

IMPORT_PAGE = re.compile(r"/o/acme-training/imports/(\d+)$")


def go_premium(team):
    team.org.plan = "premium"
    db.session.commit()
    return team.org


def csv_bytes(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def with_domains(team, domains, groups=()):
    """The join page on, through the service, with these allowed domains."""
    page = join_page.page_of(team.org)
    join_page.update_page(
        team.org, team.owner, page, enabled=True, slug=page.slug, groups=list(groups),
        allowed_domains=domains,
    )
    db.session.commit()
    return page


# ---- the Join Web Page ---------------------------------------------------------------------

def test_owner_opens_the_join_page_and_a_visitor_registers_confirms_and_joins(
    page, browser, browser_context_args, live_server, team, smtp, browser_login,
):
    go_premium(team)
    slug = team.org.slug

    # The owner turns the page on for example.com addresses.
    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{slug}/manage/join-page")
    expect(page.get_by_role("heading", name="Join Web Page")).to_be_visible()
    expect(page.locator("main")).to_contain_text('Off The address answers "not available"')
    switch = page.get_by_role("switch", name="Join Web Page is on")
    expect(switch).not_to_be_checked()
    switch.check()
    expect(page.get_by_label("Address", exact=True)).to_have_value("acme-training")
    page.get_by_label("Allowed email domains").fill("example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#flashes")).to_contain_text("Join Web Page saved.")
    expect(page.get_by_role("switch", name="Join Web Page is on")).to_be_checked()
    expect(page.get_by_label("Allowed email domains")).to_have_value("example.com")
    expect(page.locator("main")).to_contain_text("People can join at this address.")

    # Copy to Clipboard: the clipboard (granted to this context) then holds the address.
    join_url = f"{live_server}/join/acme-training"
    expect(page.locator("#join-url")).to_have_value(join_url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    status = page.locator("#copy-status")
    expect(status).to_have_text("")
    page.get_by_role("button", name="Copy to Clipboard").click()
    expect(status).to_have_text("Copied to the clipboard.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == join_url

    # A visitor opens the copied address in a browser of their own and registers.
    context, visitor = new_page(browser, browser_context_args)
    try:
        visitor.goto(copied)
        expect(visitor.get_by_role("heading", name="Join Acme Training")).to_be_visible()
        expect(visitor.locator("main")).to_contain_text(
            "Open to people with a confirmed email address at example.com."
        )
        expect(visitor.get_by_role("button", name="Log in")).to_have_attribute(
            "href", "/login?next=/join/acme-training"
        )
        visitor.get_by_role("button", name="Create an account").click()
        expect(visitor.get_by_role("heading", name="Create an account")).to_be_visible()
        visitor.get_by_label("Full name").fill("Vera Visitor")
        visitor.get_by_label("Username").fill("vera")
        visitor.get_by_label("Email").fill("vera@example.com")
        visitor.get_by_label("Password", exact=True).fill("a long new password")
        visitor.get_by_label("Repeat password").fill("a long new password")
        visitor.get_by_role("button", name="Create account").click()

        # Back on the join page, which first asks to confirm the address.
        expect(visitor).to_have_url(join_url)
        expect(visitor.locator("#flashes")).to_contain_text("Welcome, Vera Visitor! Your account is ready.")
        expect(visitor.locator("#flashes")).to_contain_text("We sent a confirmation link to vera@example.com.")
        expect(visitor.locator("article [role=status]")).to_contain_text("Confirm your email address first")
        expect(visitor.get_by_role("button", name="Join", exact=True)).to_have_count(0)
        assert role_in(team.org, find_user_by_email("vera@example.com")) is None

        # The confirmation mail; its link shows a button, which confirms.
        [message] = smtp.to("vera@example.com")
        assert message["Subject"] == "Confirm your email address"
        [link] = [url for url in smtp.links(message) if "/verify/" in url]
        visitor.goto(on_live_server(link, live_server))
        expect(visitor.get_by_role("heading", name="Confirm your email")).to_be_visible()
        visitor.get_by_role("button", name="Confirm my email").click()
        expect(visitor.locator("#flashes")).to_contain_text("Thank you: vera@example.com is confirmed.")

        # Back to the join page: Join.
        visitor.goto(join_url)
        expect(visitor.locator("article [role=status]")).to_have_count(0)
        visitor.get_by_role("button", name="Join", exact=True).click()
        expect(visitor).to_have_url(f"{live_server}/o/{slug}")
        expect(visitor.locator("#flashes")).to_contain_text("You joined Acme Training as Member.")
    finally:
        context.close()

    vera = find_user_by_email("vera@example.com")
    assert vera.is_verified and vera.name == "Vera Visitor"
    assert role_in(team.org, vera) == "member"


def test_the_join_page_refuses_another_domain_and_shows_the_rule(
    page, live_server, team, make_user, browser_login,
):
    go_premium(team)
    with_domains(team, "example.com")
    dora = make_user(name="Dora Other", email="dora@other.org")
    browser_login(page, dora)
    page.goto(f"{live_server}/join/acme-training")
    refusal = page.locator("main .form-errors")
    expect(refusal).to_have_text(
        "Acme Training accepts people with an email address at example.com. "
        "Your account's address is at other.org."
    )
    expect(page.get_by_role("button", name=re.compile("Join"))).to_have_count(0)
    assert role_in(team.org, dora) is None


# ---- Import Learners -----------------------------------------------------------------------

def test_owner_imports_learners_from_the_csv_template(page, live_server, team, smtp, browser_login, tmp_path):
    go_premium(team)
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    slug = team.org.slug

    browser_login(page, team.owner)
    page.goto(f"{live_server}/o/{slug}/manage/imports")
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("No imports yet.")

    # The CSV template, downloaded and read.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV template").click()
    download = download_info.value
    assert download.suggested_filename == "import-learners-template.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as template:
        header, example = list(csv.reader(template))
    assert header == ["email", "groups", "first name", "last name"]
    assert example[0] == "ann.lee@example.com"

    # Three people under the template's header: one in a group, one invalid address.
    learners = tmp_path / "learners.csv"
    learners.write_bytes(csv_bytes([
        header,
        ["ann@example.com", "New Hires", "Ann", "Lee"],
        ["bob@example.com", "", "Bob", "Brown"],
        ["carl-at-example.com", "", "Carl", "Cole"],
    ]))
    page.get_by_label("Spreadsheet (CSV or XLSX)").set_input_files(learners)
    page.get_by_role("button", name="Preview Upload").click()

    # The preview: counts and each row's fate; nothing sent yet.
    expect(page).to_have_url(IMPORT_PAGE)
    import_id = int(IMPORT_PAGE.search(page.url).group(1))
    expect(page.get_by_role("heading", name="Preview of learners.csv")).to_be_visible()
    counts = page.get_by_role("list", name="Rows by what will happen").get_by_role("listitem")
    expect(counts).to_have_text(["Will be invited 2", "Invalid email 1"])
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("ann@example.com")
    expect(rows.nth(0)).to_contain_text("Ann Lee")
    expect(rows.nth(0)).to_contain_text("New Hires")
    expect(rows.nth(0)).to_contain_text("Will be invited")
    expect(rows.nth(1)).to_contain_text("bob@example.com")
    expect(rows.nth(1)).to_contain_text("Will be invited")
    expect(rows.nth(2)).to_contain_text("carl-at-example.com")
    expect(rows.nth(2)).to_contain_text("Invalid email")
    expect(rows.nth(2)).to_contain_text("Not a valid email address.")
    assert smtp.messages == []

    # Upload -> Are You Sure? -> Continue, with the progress shown while it runs.
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Are You Sure?")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "2 invitation emails will be sent now, from the rows of learners.csv."
    )
    progress = page.locator("#import-progress")
    expect(progress).to_be_hidden()
    seen_while_running = []

    def watch(route):
        seen_while_running.append((progress.is_visible(), page.get_by_role("button", name="Continue").is_disabled()))
        route.continue_()

    run_url = f"{live_server}/o/{slug}/imports/{import_id}/run"
    page.route(run_url, watch)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{live_server}/o/{slug}/imports/{import_id}")
    page.unroute(run_url, watch)
    assert seen_while_running == [(True, True)]
    expect(page.get_by_role("heading", name="Import of learners.csv")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Summary: 2 sent, 0 not delivered, 1 skipped.")
    expect(page.locator("#flashes")).to_contain_text("Import finished: 2 sent, 0 not delivered.")
    results = page.locator("main table tbody tr td:last-child")
    expect(results.nth(0)).to_contain_text("Sent")
    expect(results.nth(1)).to_contain_text("Sent")
    expect(results.nth(2)).to_contain_text("Skipped")

    # The History on the panel lists the file.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Import Learners").click()
    history_row = history.locator("tbody tr")
    expect(history_row).to_have_count(1)
    expect(history_row.get_by_role("link", name="learners.csv")).to_have_attribute(
        "href", f"/o/{slug}/imports/{import_id}"
    )
    expect(history_row.locator("td")).to_have_text(
        ["learners.csv", "Olivia Owner", re.compile(r" ago$"), "Sent", "2", "0"]
    )

    assert len(smtp.messages) == 2
    assert len(smtp.to("ann@example.com")) == 1 and len(smtp.to("bob@example.com")) == 1
    db.session.expire_all()
    ann = db.session.scalar(db.select(Invitation).filter_by(org_id=team.org.id, email="ann@example.com"))
    assert ann.import_id == import_id and [g.id for g in ann.groups] == [group.id]
    assert db.session.get(Import, import_id).status == ImportStatus.DONE


# ---- accessibility -------------------------------------------------------------------------

def test_the_join_page_panel_is_accessible_on_both_plans(page, live_server, team, browser_login, assert_accessible):
    go_premium(team)
    create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    browser_login(page, team.owner)
    panel = f"{live_server}/o/{team.org.slug}/manage/join-page"
    page.goto(panel)
    expect(page.get_by_role("button", name="Copy to Clipboard")).to_be_visible()
    expect(page.get_by_role("checkbox", name="New Hires")).to_be_visible()
    assert_accessible(page)
    # With an error shown on a field.
    page.get_by_label("Allowed email domains").fill("not a domain!")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#allowed_domains-error")).to_contain_text("is not a domain")
    assert_accessible(page)

    team.org.plan = "free"
    db.session.commit()
    page.goto(panel)
    expect(page.locator("main")).to_contain_text("The Join Web Page is part of the premium plan.")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    assert_accessible(page)


def test_the_public_join_page_is_accessible(
    page, live_server, team, make_user, browser_login, assert_accessible,
):
    go_premium(team)
    group = create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    with_domains(team, "example.com", groups=[group])
    url = f"{live_server}/join/acme-training"

    # Logged out.
    page.goto(url)
    expect(page.get_by_role("button", name="Create an account")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You will also join: New Hires.")
    assert_accessible(page)

    # Logged in with an address at the domain: Join.
    ella = make_user(name="Ella Eligible", email="ella@example.com")
    browser_login(page, ella)
    page.goto(url)
    expect(page.get_by_role("button", name="Join", exact=True)).to_be_visible()
    assert_accessible(page)


def test_the_public_join_pages_refusals_are_accessible(
    page, live_server, team, make_user, browser_login, assert_accessible,
):
    go_premium(team)
    with_domains(team, "example.com")
    url = f"{live_server}/join/acme-training"

    # Logged in with an unconfirmed address: confirm first.
    una = make_user(name="Una Unconfirmed", email="una@example.com", verified=False)
    browser_login(page, una)
    page.goto(url)
    expect(page.locator("article [role=status]")).to_contain_text("Confirm your email address first")
    assert_accessible(page)

    # Logged in at another domain: refused, with the rule shown.
    page.context.clear_cookies()
    dora = make_user(name="Dora Other", email="dora@other.org")
    browser_login(page, dora)
    page.goto(url)
    expect(page.locator("main .form-errors")).to_contain_text("accepts people with an email address at example.com")
    assert_accessible(page)

    # Already a member.
    page.context.clear_cookies()
    browser_login(page, team.member)
    page.goto(url)
    expect(page.locator("article [role=status]")).to_contain_text("You are already a member of Acme Training.")
    assert_accessible(page)


@pytest.fixture
def import_history(app, team, smtp, make_invitation):
    """Premium Acme Training with two imports of the same file, which has a row of every
    fate: one run (the sink refuses Ann's message, so one row is not delivered) and one
    only previewed. Returns their ids (done, previewed)."""
    go_premium(team)
    create_group(team.org, team.owner, "New Hires")
    db.session.commit()
    make_invitation(team.org, team.owner, "eve@example.com")
    smtp.fail_with(lambda n, envelope: "550 mailbox unavailable" if "ann@example.com" in envelope.rcpt_tos else None)
    data = csv_bytes([
        ["email", "groups", "first name", "last name"],
        ["ann@example.com", "New Hires", "Ann", "Lee"],
        ["bob@example.com", "", "Bob", "Brown"],
        ["eve@example.com", "", "Eve", "Early"],
        ["dan@example.com", "Night Shift", "Dan", "Doe"],
        ["not-an-address", "", "Carl", "Cole"],
        ["ann@example.com", "", "Ann", "Again"],
        [team.member.email, "", "Mia", "Member"],
    ])
    with app.test_request_context():
        done = imports.preview_import(team.org, team.owner, "first.csv", data)
        db.session.commit()
        imports.run_import(team.org, team.owner, done, commit=db.session.commit)
        db.session.commit()
        # The same file and one new person: Ann, Bob and Eve are pending invitations now.
        data += csv_bytes([["fay@example.com", "New Hires", "Fay", "Fox"]])
        previewed = imports.preview_import(team.org, team.manager, "second.csv", data)
        db.session.commit()
    return done.id, previewed.id


def test_the_import_panel_is_accessible_on_both_plans(
    page, live_server, team, import_history, browser_login, assert_accessible,
):
    slug = team.org.slug
    browser_login(page, team.owner)

    # The panel with its history.
    page.goto(f"{live_server}/o/{slug}/manage/imports")
    expect(page.get_by_role("region", name="History").locator("tbody tr")).to_have_count(2)
    assert_accessible(page)

    # The panel with an upload error.
    page.get_by_role("button", name="Preview Upload").click()
    expect(page.locator("main")).to_contain_text("Choose a file to upload.")
    assert_accessible(page)

    # The free plan's panel.
    team.org.plan = "free"
    db.session.commit()
    page.goto(f"{live_server}/o/{slug}/manage/imports")
    expect(page.locator("main")).to_contain_text("part of the premium plan")
    assert_accessible(page)


def test_the_preview_confirmation_and_results_are_accessible(
    page, live_server, team, import_history, browser_login, assert_accessible,
):
    done_id, previewed_id = import_history
    slug = team.org.slug
    browser_login(page, team.owner)

    # The preview, with a row of every kind that is not sent.
    page.goto(f"{live_server}/o/{slug}/imports/{previewed_id}")
    expect(page.get_by_role("heading", name="Preview of second.csv")).to_be_visible()
    counts = page.get_by_role("list", name="Rows by what will happen").get_by_role("listitem")
    expect(counts).to_have_text([  # every fate
        "Will be invited 1", "Already invited: will be resent 3", "Already a member: skipped 1",
        "Invalid email 1", "Unknown group 1", "Duplicate in file 1",
    ])
    assert_accessible(page)

    # Are You Sure?
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Are You Sure?")).to_be_visible()
    assert_accessible(page)

    # The import after it ran: the summary and each row's result.
    page.goto(f"{live_server}/o/{slug}/imports/{done_id}")
    expect(page.locator("main")).to_contain_text("Summary: 2 sent, 1 not delivered")
    expect(page.locator("main table")).to_contain_text("550 mailbox unavailable")
    assert_accessible(page)
