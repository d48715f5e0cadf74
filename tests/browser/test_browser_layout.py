"""The layout on a 375 px phone and a 1440 px desktop, and keyboard use: the menu button opens the
navigation, nothing scrolls sideways, focus is always visible and the skip link works."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from resonanz.accounts.permissions import Role, has_permission
from resonanz.web.templating import NAV
from tests.browser.conftest import Workspace

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}
SCROLL_WIDTH = "document.documentElement.scrollWidth"
FOCUS_VISIBLE = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
  return {tag: el.tagName, text: (el.innerText || el.value || "").slice(0, 30), ring,
          onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight};
}
"""


def test_phone_menu_button_opens_the_navigation_and_nothing_scrolls_sideways(
    signed_in: Callable[..., Page],
    new_context: Callable[..., BrowserContext],
    workspace: Workspace,
    screenshot: Callable[[Page, str], None],
) -> None:
    page = signed_in("analyst", viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto("/mentions")
    menu = page.get_by_role("button", name="Menu")
    nav_link = page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Mentions")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav_link).to_be_hidden()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"]
    screenshot(page, "explorer-phone")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav_link).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"]
    page.keyboard.press("Escape")
    expect(nav_link).to_be_hidden()

    for path in (
        "/mentions?limit=100",
        f"/mentions/{workspace.reply_id}",
        f"/mentions/{workspace.xss_mention_ids[0]}",
        "/settings",
    ):
        page.goto(path)
        assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], path
    signed_out = new_context(viewport=PHONE, is_mobile=True).new_page()
    signed_out.goto("/login")
    assert signed_out.evaluate(SCROLL_WIDTH) <= PHONE["width"]


def test_desktop_shows_the_navigation_and_the_results_table(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst", viewport=DESKTOP)
    page.goto("/mentions")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main navigation")
    allowed = [item.label for item in NAV if has_permission(Role.analyst, item.permission)]
    assert "Mentions" in allowed and "Admin" not in allowed
    for item in NAV:  # every area the role may enter, and no other
        expect(nav.get_by_role("link", name=item.label, exact=True)).to_have_count(1 if item.label in allowed else 0)
        if item.label in allowed:
            expect(nav.get_by_role("link", name=item.label, exact=True)).to_be_visible()
    expect(page.get_by_role("columnheader", name="Published")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= DESKTOP["width"]


def test_keyboard_focus_is_always_visible_and_the_skip_link_jumps_to_the_content(
    signed_in: Callable[..., Page],
) -> None:
    page = signed_in("analyst", viewport=DESKTOP)
    page.goto("/mentions")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUS_VISIBLE)
    assert first is not None and first["ring"] and first["onScreen"], first
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_VISIBLE)
        assert state is not None and state["ring"] and state["onScreen"], (state, seen)
        seen.append(state)
    assert {s["tag"] for s in seen} >= {"A", "INPUT"}  # through the navigation into the search form

    page.goto("/mentions")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
