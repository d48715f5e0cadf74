"""The query editor in a real browser: sign in, write a query, watch the live test count change as
you type (and a syntax error with its caret), save it, and find it in the list."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect


def test_write_test_save_and_list_a_query(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst")
    page.goto("/queries/new")
    count = page.locator("[data-test-count]")
    editor = page.get_by_label("Query", exact=True)

    editor.press_sequentially("nordwelle", delay=20)
    expect(count).to_be_visible()
    expect(count).to_have_attribute("data-count", re.compile(r"^[1-9]\d*$"))
    broad = int(count.get_attribute("data-count") or "0")
    expect(page.locator("[data-test-curve] svg polyline")).to_have_count(1)
    expect(page.locator("[data-test-samples] li").first).to_be_visible()

    editor.press_sequentially(" AND (", delay=20)
    error = page.locator("[data-test-error]")
    expect(error).to_be_visible()
    expect(page.locator("[data-test-caret]")).to_contain_text("^")
    expect(count).to_be_hidden()

    editor.press_sequentially("app OR tarif)", delay=20)
    expect(error).to_be_hidden()
    expect(count).to_be_visible()
    page.wait_for_function(
        "broad => { const el = document.querySelector('[data-test-count]');"
        " return el && !el.hidden && Number(el.dataset.count) < broad; }",
        arg=broad,
    )
    narrow = int(count.get_attribute("data-count") or "0")
    assert 0 <= narrow < broad

    page.get_by_label("Name", exact=True).fill("Nordwelle app or tariff (browser)")
    page.get_by_label("Note on this change").fill("written in the browser test")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/queries/\d+\?saved=1$"))
    expect(page.locator("[data-saved]")).to_be_visible()
    expect(page.locator("[data-versions] li")).to_have_count(1)

    page.goto("/queries")
    row = page.locator("[data-queries] tr", has_text="Nordwelle app or tariff (browser)")
    expect(row).to_have_count(1)
    expect(row.locator("code")).to_have_text("nordwelle AND (app OR tarif)")


def test_a_budgeted_answer_shows_the_estimate_and_the_share_checked(signed_in: Callable[..., Page]) -> None:
    """On a large store a checked draft scans an even sample of its candidates; the editor must
    say "about N" with the share checked, not present the sample's count as the answer. The
    server's answer is replaced here (a small test store never needs the budget), the rendering
    is the page's own."""
    page = signed_in("analyst")
    answer = {
        "normalized": "#nordwelledown",
        "count": 1234,
        "partial": True,
        "estimate": 356274,
        "scanned_share": 0.125,
        "candidates": 400000,
        "elapsed_ms": 812.0,
        "volume": [],
        "samples": [],
    }
    page.route("**/api/v1/queries/test", lambda route: route.fulfill(json=answer))
    page.goto("/queries/new")
    page.get_by_label("Query", exact=True).press_sequentially("#nordwelledown", delay=10)
    count = page.locator("[data-test-count]")
    expect(count).to_contain_text("356,274")
    expect(count).to_contain_text("12.5%")
    expect(count).to_contain_text("1,234")


def test_the_period_narrows_the_live_test_to_recent_days(signed_in: Callable[..., Page]) -> None:
    """Choosing "Last 7 days" tests the same draft again with ``since`` a week back: the count is
    that of the period (never more than all history's), and "All history" brings it back."""
    page = signed_in("analyst")
    page.goto("/queries/new")
    count = page.locator("[data-test-count]")
    page.get_by_label("Query", exact=True).press_sequentially("nordwelle", delay=20)
    expect(count).to_have_attribute("data-count", re.compile(r"^[1-9]\d*$"))
    everything = int(count.get_attribute("data-count") or "0")

    with page.expect_request("**/api/v1/queries/test") as sent:
        page.get_by_label("Period").select_option("7")
    body = sent.value.post_data_json
    assert body["text"] == "nordwelle" and "since" in body
    since = datetime.fromisoformat(body["since"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < datetime.now(UTC) - since < timedelta(days=7, hours=1)
    sent.value.response()
    page.wait_for_function("() => !document.querySelector('[data-query-editor]').hasAttribute('aria-busy')")
    recent = int(count.get_attribute("data-count") or "0")
    assert 0 <= recent <= everything

    with page.expect_request("**/api/v1/queries/test") as sent:
        page.get_by_label("Period").select_option("")
    assert "since" not in sent.value.post_data_json
    expect(count).to_have_attribute("data-count", str(everything))
