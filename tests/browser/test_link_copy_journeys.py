"""Issue 22 in Chromium: a plain member makes a members-only link for their group and is
not offered "Anyone with the link" (seed 001), with JavaScript on and off; a link is copied
again on a later visit by another manager (point 5), from the panel's row and the link's
page (its Copy button only with JavaScript); and a changed SECRET_KEY says the address
can't be shown again."""
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.groups.service import add_to_group, create_group
from invites.links.models import Access, InviteLink
from tests.support import new_page

pytestmark = pytest.mark.browser

LINK_PAGE = re.compile(r"/o/[^/]+/links/(\d+)$")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_member_creates_a_members_only_link_for_their_group_and_cannot_make_an_anyone_link(
    browser, browser_context_args, live_server, team, browser_login, assert_accessible, javascript,
):
    safety = create_group(team.org, team.owner, "Safety Training")
    create_group(team.org, team.owner, "Forklifts")
    add_to_group(team.org, team.owner, safety, team.member)
    db.session.commit()
    context, page = new_page(browser, {**browser_context_args, "java_script_enabled": javascript})
    try:
        browser_login(page, team.member)
        page.goto(f"{live_server}/o/{team.org.slug}/groups/{safety.id}")
        page.get_by_role("button", name="Invite with a link").click()
        expect(page.get_by_role("heading", name="New Invite")).to_be_visible()
        access = page.get_by_role("group", name="Who may use it")
        expect(access.get_by_role("radio", name="Existing members only")).to_be_checked()
        expect(page.get_by_role("radio", name="Anyone with the link")).to_have_count(0)
        expect(access).to_contain_text("Only people who may add new people can make links for anyone.")
        expect(page.get_by_role("checkbox", name="Safety Training")).to_be_checked()
        expect(page.get_by_role("checkbox", name="Forklifts")).to_have_count(0)
        if javascript:
            assert_accessible(page)

        # A forged "anyone" (the radio is not there) is refused with a clear message.
        page.evaluate("""() => {
            const radio = document.querySelector('input[name="access"]');
            radio.value = "anyone";
        }""")
        page.get_by_role("button", name="Create").click()
        expect(page.locator("main")).to_contain_text("Not a valid choice")
        db.session.expire_all()
        assert db.session.scalar(db.select(db.func.count(InviteLink.id))) == 0

        page.goto(f"{live_server}/o/{team.org.slug}/links/new?group={safety.id}")
        page.get_by_role("button", name="Create").click()
        expect(page).to_have_url(LINK_PAGE)
        expect(page.locator("#link-url")).to_have_value(re.compile(r"/l/[\w-]{43}$"))
        # Copying takes static/app.js: without it the button is not there to do nothing
        # (the address is in the field, to select), and with it the button shows once
        # the script has run, so no click comes before it is ready.
        copy = page.locator('button[data-copy="#link-url"]')
        expect(copy).to_have_count(1)
        expect(copy).to_be_visible() if javascript else expect(copy).to_be_hidden()
        expect(page.get_by_role("button", name="Copy link")).to_have_count(1 if javascript else 0)
        db.session.expire_all()
        [link] = db.session.scalars(db.select(InviteLink)).all()
        assert link.access == Access.MEMBERS and link.created_by_id == team.member.id
        assert [g.name for g in link.groups] == ["Safety Training"]
        assert page.locator("#link-url").input_value().endswith(link.shareable_token())
    finally:
        context.close()


def test_a_link_is_copied_again_on_a_later_visit_by_another_manager(
    page, browser, browser_context_args, live_server, team, browser_login, assert_accessible,
):
    slug = team.org.slug
    # The owner makes the link and leaves.
    owner_context, owner = new_page(browser, browser_context_args)
    try:
        browser_login(owner, team.owner)
        owner.goto(f"{live_server}/o/{slug}/links/new")
        owner.get_by_role("radio", name="Anyone with the link").check()
        owner.get_by_role("button", name="Create").click()
        expect(owner).to_have_url(LINK_PAGE)
        url = owner.locator("#link-url").input_value()
        link_id = int(LINK_PAGE.search(urlsplit(owner.url).path).group(1))
    finally:
        owner_context.close()

    # Later, another manager in their own browser: the panel's row copies it.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{slug}/manage/links")
    row = page.locator(f"#link-{link_id}")
    expect(row.get_by_role("button", name=f"Copy link #{link_id}")).to_be_visible()
    copy = row.locator("button[data-copy]")
    copy.click()
    expect(copy).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert_accessible(page)

    # And the link's page: the address, Copy link, Share.
    page.evaluate("navigator.clipboard.writeText('')")
    row.get_by_role("link", name=f"Link #{link_id}").click()
    expect(page.locator("#link-url")).to_have_value(url)
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.get_by_label("Email addresses").fill("friend@example.com")
    page.get_by_role("button", name="Share").click()
    expect(page.locator("main")).to_contain_text("friend@example.com: sent")
    assert_accessible(page)


def test_after_the_secret_key_changed_the_page_says_so_and_offers_a_new_link(
    page, app, live_server, team, make_link, browser_login, assert_accessible,
):
    link, token = make_link(team.org, team.owner)
    app.config["SECRET_KEY"] = "a brand new secret key"
    browser_login(page, team.manager)
    page.goto(f"{live_server}/o/{team.org.slug}/links/{link.id}")
    expect(page.locator("#address-lost")).to_contain_text("This link's address can't be shown again")
    expect(page.locator("#link-url")).to_have_count(0)
    assert token not in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="Make a new link").click()
    expect(page.get_by_role("heading", name="New Invite")).to_be_visible()
