"""The harness itself: the server answers, chromium loads a page from it, the XSS corpus landed."""

from __future__ import annotations

import json

from playwright.sync_api import Page

from tests.browser.browser_xss_corpus import records
from tests.browser.conftest import Workspace


def test_chromium_loads_healthz_from_the_served_workspace(page: Page, workspace: Workspace) -> None:
    response = page.goto("/healthz")
    assert response is not None and response.status == 200
    body = json.loads(page.inner_text("body"))
    assert body["status"] == "ok"
    assert len(workspace.xss_mention_ids) == len(records())  # every payload record landed, none quarantined
