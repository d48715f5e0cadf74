"""The dashboards in a real browser on a 375 px phone: charts render without horizontal scrolling,
a point shows its tooltip on hover, and a click opens the mentions behind it."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

#: the demo's month (generate.DEFAULT_ANCHOR is 2026-11-01)
DEMO_RANGE = "/dashboards?range=custom&since=2026-10-01&until=2026-11-01&interval=day"


def test_phone_dashboard_tooltip_and_click_through(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst", viewport={"width": 375, "height": 800})
    page.goto(DEMO_RANGE)
    volume = page.locator('[data-chart="volume"] svg')
    expect(volume).to_be_visible()
    expect(page.locator('[data-chart="terms"] svg .rz-hit').first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    point = page.locator('[data-chart="volume"] .rz-hit[data-href]').nth(10)
    point.hover()
    tooltip = page.locator("[data-rz-tooltip]")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_text(re.compile(r"\d"))

    href = point.get_attribute("data-href") or ""
    assert href.startswith("/mentions?")
    point.click()
    expect(page).to_have_url(re.compile(r"/mentions\?.*since=2026-10-"))
    expect(page.locator("main")).to_be_visible()
