"""The mentions explorer in a real browser: search, filters, pagination, a mention with its thread
and author card, and the raw payload only for those allowed to see it."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace

ROWS = "[data-results] tbody tr[data-mention-id]"


def row_ids(page: Page) -> list[int]:
    return [int(v) for v in page.locator(ROWS).evaluate_all("rows => rows.map(r => r.dataset.mentionId)")]


def shown_total(page: Page) -> int:
    return int(page.locator("[data-count]").get_attribute("data-count") or "-1")


def test_search_finds_the_crisis_and_says_so_when_nothing_matches(
    signed_in: Callable[..., Page], screenshot: Callable[[Page, str], None]
) -> None:
    page = signed_in("analyst")
    page.goto("/mentions")
    everything = shown_total(page)
    assert everything > 100

    page.get_by_role("searchbox", name="Search").fill("NordwelleDown")
    page.get_by_role("search").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=NordwelleDown"))
    found = shown_total(page)
    assert 0 < found < everything
    expect(page.locator(ROWS).first).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("NordwelleDown")
    screenshot(page, "explorer-desktop")

    page.get_by_role("searchbox", name="Search").fill("zzqx-nothing-says-this")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_text("No mentions match.")).to_be_visible()
    assert row_ids(page) == []


def test_filters_by_language_and_sentiment_narrow_the_list(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst")
    page.goto("/mentions")
    everything = shown_total(page)
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Language", exact=True).select_option("de")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"lang=de"))
    german = shown_total(page)
    assert 0 < german < everything
    sources = page.locator(f"{ROWS} td:last-child").all_inner_texts()
    assert sources and all(text.strip().endswith("· de") for text in sources), sources

    page.get_by_label("Sentiment", exact=True).select_option("negative")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"sentiment=negative"))
    negative_german = shown_total(page)
    assert 0 < negative_german < german
    rows = page.locator(ROWS)
    assert rows.count() == page.locator(f"{ROWS} .badge--negative").count() > 0
    expect(page.get_by_text("Filters (2)")).to_be_visible()

    page.get_by_role("link", name="Reset").click()
    expect(page).to_have_url(re.compile(r"/mentions$"))
    assert shown_total(page) == everything


def test_pages_follow_on_without_gaps_or_repeats(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst")
    page.goto("/mentions?lang=en")
    first = row_ids(page)
    assert len(first) == 25  # the smallest page size
    first_times = page.locator(f"{ROWS} time").evaluate_all("ts => ts.map(t => t.dateTime)")

    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"after="))
    second = row_ids(page)
    second_times = page.locator(f"{ROWS} time").evaluate_all("ts => ts.map(t => t.dateTime)")
    assert second and not set(first) & set(second)
    assert first_times[-1] >= second_times[0]  # newest first, continued

    page.get_by_role("link", name="First page").click()
    expect(page).not_to_have_url(re.compile(r"after="))
    assert row_ids(page) == first

    tampered = page.goto("/mentions?lang=en&after=not-a-real-cursor")
    assert tampered is not None and tampered.status < 500
    expect(page.get_by_role("alert")).to_be_visible()


def test_a_mention_shows_its_thread_and_author_and_raw_payload_only_for_admins(
    signed_in: Callable[..., Page], workspace: Workspace, screenshot: Callable[[Page, str], None]
) -> None:
    page = signed_in("analyst")
    page.goto(f"/mentions/{workspace.reply_id}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Thread")).to_be_visible()
    parent_link = page.locator("[data-parent] a")
    expect(parent_link).to_have_attribute("href", f"/mentions/{workspace.parent_id}")
    expect(page.get_by_role("complementary").get_by_role("heading", name="Author")).to_be_visible()
    expect(page.locator("[data-raw]")).to_have_count(0)  # analysts lack mentions.raw

    parent_link.click()
    expect(page).to_have_url(re.compile(rf"/mentions/{workspace.parent_id}$"))
    expect(page.locator(f"[data-reply] a[href='/mentions/{workspace.reply_id}']")).to_be_visible()

    admin = signed_in("admin")
    admin.goto(f"/mentions/{workspace.reply_id}")
    raw = admin.locator("[data-raw]")
    expect(raw).to_have_count(1)
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_be_visible()
    screenshot(admin, "mention-detail")

    missing = admin.goto("/mentions/999999999")
    assert missing is not None and missing.status == 404


def test_a_viewer_reads_mentions_but_gets_no_correction_forms(
    signed_in: Callable[..., Page], workspace: Workspace
) -> None:
    viewer = signed_in("viewer")
    viewer.goto(f"/mentions/{workspace.reply_id}")
    expect(viewer.get_by_role("heading", name="Thread")).to_be_visible()
    expect(viewer.locator("form[data-correct]")).to_have_count(0)
    expect(viewer.locator("[data-raw]")).to_have_count(0)

    analyst = signed_in("analyst")  # analysts correct the analysis (the feedback loop)
    analyst.goto(f"/mentions/{workspace.reply_id}")
    expect(analyst.locator("form[data-correct]")).to_have_count(2)
