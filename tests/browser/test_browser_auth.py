"""Signing in and out in a real browser: the redirect to the form, the error for a wrong password,
the way back to the page asked for, and that signing out really ends the session."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import PEOPLE, sign_in


def test_wrong_password_shows_the_error_then_the_right_one_leads_to_the_page_asked_for(
    page: Page, screenshot: Callable[[Page, str], None]
) -> None:
    page.goto("/mentions")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fmentions|/login\?next=/mentions"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "login")

    sign_in(page, PEOPLE["analyst"], password="not the password at all")
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("wrong", ignore_case=True)
    expect(page.get_by_label("E-mail")).to_have_value(PEOPLE["analyst"].email)  # kept for the next try
    expect(page.get_by_label("Password")).to_have_value("")  # never echoed back

    sign_in(page, PEOPLE["analyst"])
    expect(page).to_have_url(re.compile(r"/mentions$"))
    expect(page.get_by_role("heading", name="Mentions", exact=True)).to_be_visible()
    expect(page.locator(".user-menu summary")).to_contain_text(PEOPLE["analyst"].display_name)


def test_sign_out_ends_the_session(page: Page) -> None:
    sign_in(page, PEOPLE["leaver"])
    page.goto("/mentions")
    expect(page.get_by_role("heading", name="Mentions", exact=True)).to_be_visible()
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    assert not [c for c in page.context.cookies() if c["name"] == "rz_session"]

    page.goto("/mentions")  # the old session is gone: back to the sign-in form
    expect(page).to_have_url(re.compile(r"/login"))
