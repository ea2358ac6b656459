"""Issue 19 in Chromium, on a 390 px phone: the owner makes an invite link bound to a
domain (with its QR code beside it) and leaves one free seat; an allowed person joins
through it, someone at another domain is told the rule and finds no Join button, and the
next allowed person, finding the last seat taken, lands on the waiting list that the
owner then sees on the Overview and the Join Requests panel."""
import re

import pytest
from playwright.sync_api import expect

from invites.extensions import db
from invites.orgs.seats import seats_used
from tests.support import new_page, wider_than_screen

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LINK_PAGE = re.compile(r"/o/[^/]+/links/(\d+)$")


def test_a_domain_bound_link_with_its_code_an_allowed_a_refused_person_and_the_last_seat(
    browser, browser_context_args, live_server, team, make_user, browser_login,
):
    allowed = make_user(name="Ada Allowed", email="ada@example.com")
    outsider = make_user(name="Otto Outside", email="otto@elsewhere.test")
    late = make_user(name="Lena Late", email="lena@example.com")
    members = seats_used(team.org)
    db.session.commit()

    def person_page(user):
        context, page = new_page(browser, {**browser_context_args, "viewport": PHONE})
        browser_login(page, user)
        return context, page

    context, owner = person_page(team.owner)
    contexts = [context]
    try:
        # One seat left, set under Permissions.
        owner.goto(f"{live_server}/o/{team.org.slug}/manage/permissions")
        owner.get_by_label("Member limit (optional)").fill(str(members + 1))
        owner.get_by_role("button", name="Save").click()
        expect(owner.get_by_text("Permissions saved.")).to_be_visible()

        owner.goto(f"{live_server}/o/{team.org.slug}/links/new")
        owner.get_by_label("Anyone with the link").check()
        owner.get_by_label("Allowed email domains (optional)").fill("example.com")
        owner.get_by_label("Maximum number of uses (optional)").fill("10")
        assert not wider_than_screen(owner)
        owner.get_by_role("button", name="Create").click()
        expect(owner).to_have_url(LINK_PAGE)
        expect(owner.get_by_text("example.com", exact=True)).to_be_visible()
        code = owner.get_by_role("img", name="QR code for the invite link")
        expect(code).to_be_visible()
        assert code.evaluate("img => img.complete && img.naturalWidth > 0") and not wider_than_screen(owner)
        address = owner.locator("#link-url").input_value()

        # Allowed: joins.
        context, ada = person_page(allowed)
        contexts.append(context)
        ada.goto(address)
        expect(ada.get_by_text("For people with a confirmed email address at example.com.")).to_be_visible()
        ada.get_by_role("button", name="Join Acme Training").click()
        expect(ada.get_by_text("You joined Acme Training as Member.")).to_be_visible()

        # Another domain: the rule, and nothing to press.
        context, otto = person_page(outsider)
        contexts.append(context)
        otto.goto(address)
        expect(otto.get_by_text("Acme Training accepts people with an email address at example.com.")).to_be_visible()
        expect(otto.get_by_role("button", name="Join Acme Training")).to_have_count(0)
        assert not wider_than_screen(otto)

        # The last seat went to Ada: Lena goes on the waiting list.
        context, lena = person_page(late)
        contexts.append(context)
        lena.goto(address)
        lena.get_by_role("button", name="Join Acme Training").click()
        expect(lena.get_by_text("Acme Training has no free seat right now, so you are on its waiting list.")).to_be_visible()
        assert not wider_than_screen(lena)

        owner.goto(f"{live_server}/o/{team.org.slug}")
        expect(owner.locator("#seats")).to_contain_text(f"{members + 1} of {members + 1} seats used")
        expect(owner.locator("#seats")).to_contain_text("none free")
        owner.goto(f"{live_server}/o/{team.org.slug}/manage/join-requests")
        row = owner.get_by_role("row").filter(has_text="Lena Late")
        expect(row).to_contain_text("Waiting list")
        expect(row.get_by_role("button", name=re.compile("Accept"))).to_be_visible()
        assert not wider_than_screen(owner)
    finally:
        for context in contexts:
            context.close()
