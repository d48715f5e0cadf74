"""German and English in a real browser: switching the language in the settings changes the
labels and the date format; a signed-out visitor gets the browser's language; times are shown in
the person's time zone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from playwright.sync_api import BrowserContext, Page, expect

from resonanz import i18n

ROW_TIME = "[data-results] tbody tr[data-mention-id] time"
DE = i18n.translations("de")


def first_row_time(page: Page) -> tuple[datetime, str]:
    time = page.locator(ROW_TIME).first
    return datetime.fromisoformat(time.get_attribute("datetime") or ""), time.inner_text().strip()


def test_switching_to_german_changes_labels_and_dates(
    signed_in: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    page = signed_in("switcher")  # an English-speaking analyst in UTC
    page.goto("/mentions")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Mentions", exact=True)).to_be_visible()
    published, shown = first_row_time(page)
    assert shown == i18n.format_datetime(published, "en", "UTC", format="short")

    page.goto("/settings")
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "de")

    page.goto("/mentions")
    german_heading = DE.gettext("Mentions")
    assert german_heading != "Mentions"
    expect(page.get_by_role("heading", name=german_heading, exact=True)).to_be_visible()
    expect(page.get_by_role("searchbox", name=DE.gettext("Search"))).to_be_visible()
    expect(page.get_by_role("link", name=DE.gettext("Next page"))).to_be_visible()
    published, shown = first_row_time(page)
    assert shown == i18n.format_datetime(published, "de", "UTC", format="short")
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{2}, \d{2}:\d{2}", shown), shown  # 22.10.26, 13:36
    screenshot(page, "explorer-german")

    page.goto("/settings")
    page.get_by_label(DE.gettext("Language")).select_option("en")
    page.get_by_role("button", name=DE.gettext("Save"), exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_signed_out_visitors_get_the_browsers_language(new_context: Callable[..., BrowserContext]) -> None:
    german = new_context(locale="de-DE").new_page()
    german.goto("/login")
    expect(german.locator("html")).to_have_attribute("lang", "de")
    expect(german.get_by_role("heading", name=DE.gettext("Sign in"))).to_be_visible()
    english = new_context(locale="en-GB").new_page()
    english.goto("/login")
    expect(english.get_by_role("heading", name="Sign in")).to_be_visible()


def test_times_are_shown_in_the_persons_time_zone(signed_in: Callable[..., Page]) -> None:
    page = signed_in("manager")  # German, Europe/Berlin
    page.goto("/mentions")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    published, shown = first_row_time(page)
    assert shown == i18n.format_datetime(published, "de", "Europe/Berlin", format="short")
    assert shown != i18n.format_datetime(published, "de", "UTC", format="short")
