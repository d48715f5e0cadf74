"""The inbox in a real browser: the queue lists a case, keyboard j + Enter opens it, a note is added,
the status changes along the transition table, and a colleague in a second browser context opening
the same case shows up as "viewing" on the first page (heartbeat + SSE, inbox.js; no inline script)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from resonanz.cases import actions
from resonanz.cases.models import CaseMention
from resonanz.config import Settings
from resonanz.db.database import open_database
from resonanz.mentions.models import Mention
from tests.browser.conftest import Workspace


def make_case(workspace: Workspace, subject: str) -> int:
    db = open_database(Settings(database_url=workspace.database_url), migrate=False)
    try:
        with db.sessions() as s:
            taken = select(CaseMention.mention_id)
            mention = s.scalars(select(Mention).where(Mention.id.not_in(taken)).order_by(Mention.id).limit(1)).one()
            case = actions.do_create_case(
                s, mentions=[mention], subject=subject, priority="urgent", route=False, actor=None
            )
            s.commit()
            return case.id
    finally:
        db.dispose()


def test_inbox_case_note_status_and_presence(signed_in: Callable[..., Page], workspace: Workspace) -> None:
    subject = f"Browser inbox {uuid.uuid4().hex[:8]}"
    case_id = make_case(workspace, subject)
    page = signed_in("admin")
    page.goto(f"/inbox?q={subject}")
    row = page.locator(f'[data-case-row][data-case-id="{case_id}"]')
    expect(row).to_contain_text(subject)
    page.keyboard.press("j")
    expect(row).to_have_class(re.compile("is-selected"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/inbox/cases/{case_id}$"))
    expect(page.locator("#case-heading")).to_contain_text(subject)

    page.locator("#note-body").fill("Browser note for @demo-manager")
    page.locator("[data-note-form] button[type=submit]").click()
    expect(page.locator("[data-notes] .inbox-note")).to_contain_text("Browser note for @demo-manager")

    page.locator('[data-status-form="open"] button').click()
    expect(page.locator(".inbox-case-header [data-status]")).to_have_attribute("data-status", "open")
    expect(page.locator("[data-timeline]")).to_contain_text("status changed")

    colleague = signed_in("manager")
    colleague.goto(f"/inbox/cases/{case_id}")
    expect(colleague.locator("#case-heading")).to_contain_text(subject)
    presence = page.locator("[data-presence]")
    expect(presence).to_contain_text("Maria Becker", timeout=15_000)
    expect(presence.locator('[data-presence-kind="viewing"]')).to_have_count(1)
    colleague.locator("#note-body").press_sequentially("tippe", delay=30)
    expect(presence.locator('[data-presence-kind="typing"]')).to_have_count(1, timeout=15_000)
    page.keyboard.press("?")
    expect(page.locator("[data-shortcut-help]")).to_be_visible()
