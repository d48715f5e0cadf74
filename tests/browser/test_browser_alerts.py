"""Alerts in a real browser: an analyst adds a keyword rule on the demo's Nordwelle query (the
form shows only the fields of the chosen kind, through alerts.js under the CSP) and lands on the
rule's page with its backtest chart."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect


def test_add_a_keyword_rule_and_see_its_backtest(signed_in: Callable[..., Page]) -> None:
    page = signed_in("analyst")
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto("/alerts/rules")
    form = page.locator("form[data-rule-form]")
    sensitivity = form.locator("fieldset[data-for-kinds]").first
    words = form.locator("#r-text")
    expect(sensitivity).to_be_visible()
    expect(words).to_be_hidden()
    form.locator("#r-kind").select_option("keyword")
    expect(words).to_be_visible()
    expect(sensitivity).to_be_hidden()
    form.locator("#r-name").fill("Outage words")
    form.locator("#r-scope").select_option(label="Nordwelle: all mentions")
    words.fill('totalausfall OR "komplett down"')
    form.get_by_role("button", name="Add rule").click()
    expect(page).to_have_url(re.compile(r"/alerts/rules/\d+$"))
    expect(page.locator("[data-backtest] svg")).to_have_count(1)
    expect(page.locator("[data-backtest-count]")).to_contain_text("It would have fired")
    assert not problems, problems
