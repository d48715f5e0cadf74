"""The reply composer in a real browser: the panel loads into the case page (care.js, no inline
script), a suggested knowledge answer is used, a phone number is flagged and sends the reply to the
approval queue, the author cannot approve it and a colleague approves it on /approvals."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from resonanz.cases import actions
from resonanz.cases.models import CaseMention
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.db.database import open_database
from resonanz.mentions.models import Mention
from resonanz.sources.models import Source
from tests.browser.conftest import Workspace


def make_case(workspace: Workspace, subject: str) -> int:
    db = open_database(Settings(database_url=workspace.database_url), migrate=False)
    try:
        with db.sessions() as s:
            if s.scalar(select(Source).where(Source.kind == "outbound_webhook")) is None:
                s.add(Source(name=f"portal-{uuid.uuid4().hex[:6]}", kind="outbound_webhook",
                             config={"url": "http://127.0.0.1:9/replies"}, created_at=now()))  # fmt: skip
            taken = select(CaseMention.mention_id)
            mention = s.scalars(select(Mention).where(Mention.id.not_in(taken)).order_by(Mention.id).limit(1)).one()
            case = actions.do_create_case(s, mentions=[mention], subject=subject, priority="normal", route=False,
                                          tags=["verspaetung"], actor=None)  # fmt: skip
            s.commit()
            return case.id
    finally:
        db.dispose()


def test_compose_flag_and_approve(signed_in: Callable[..., Page], workspace: Workspace) -> None:
    subject = f"Zug verspätet {uuid.uuid4().hex[:6]}"
    case_id = make_case(workspace, subject)
    page = signed_in("admin")
    page.goto(f"/inbox/cases/{case_id}")
    composer = page.locator("[data-care-panel] [data-care-composer]")
    expect(composer).to_be_visible(timeout=15_000)
    suggestion = composer.locator('[data-suggestion-kind="article"]').first
    expect(suggestion.locator("[data-reasons]")).to_contain_text("verspaetung")
    suggestion.locator("[data-use-suggestion]").click()
    text = composer.locator("[data-care-text]")
    expect(text).not_to_have_value("")
    text.press("End")
    text.press_sequentially(" Rufen Sie an: 0171 2345678", delay=5)
    composer.locator("[data-care-submit]").click(timeout=60_000)  # the first check loads the classifiers
    expect(page.locator('[data-reply-status="pending_approval"]')).to_be_visible()
    expect(page.locator('[data-reply-status="pending_approval"]')).to_contain_text("personal_data")

    page.goto("/approvals")
    card = page.locator("[data-approval]").filter(has_text=subject)
    card.locator('button[value="approve"]').click(timeout=30_000)
    expect(page.locator("[data-error]")).to_contain_text("another colleague")

    approver = signed_in("manager")
    approver.goto("/approvals")
    card = approver.locator("[data-approval]").filter(has_text=subject)
    expect(card.locator('[data-finding="personal_data"]')).to_be_visible()
    card.locator('input[name="comment"]').fill("Hotline ist öffentlich, ok")
    card.locator('button[value="approve"]').click(timeout=30_000)
    expect(approver.locator('[data-done="queued"]')).to_be_visible()
    approver.goto(f"/care/cases/{case_id}")
    # the server's worker may already have tried it (the demo has no receiver): queued, sent or failed
    expect(approver.locator("[data-reply-id]").first).to_have_attribute(
        "data-reply-status", re.compile("queued|sent|failed")
    )
