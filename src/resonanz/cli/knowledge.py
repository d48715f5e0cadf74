"""``resonanz kb list|add|import|review`` (the knowledge base) and ``resonanz replies
pending|outbox|send-due|csat`` (the reply side), over the same actions as the API and the pages.

Exit codes: 3 not found, 4 conflict, 5 bad input (the message names the line or field)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from resonanz.cases import approvals, csat, knowledge, outbox, replies
from resonanz.cases.models import Case
from resonanz.cases.reply_models import OutboxEntry
from resonanz.cli.context import console, database, fmt_time, handle_errors, print_json, print_table, session_scope
from resonanz.clock import now
from resonanz.errors import InputError, NotFoundError

kb = typer.Typer(help="The knowledge base: approved answers per language, with tags and review dates.",
                 no_args_is_help=True)  # fmt: skip
rp = typer.Typer(help="Replies: the approval queue, the outbox, CSAT links.", no_args_is_help=True)


@kb.command("list")
@handle_errors
def kb_list(
    q: Annotated[str | None, typer.Option(help="words to find (folded: ue = ü)")] = None,
    lang: Annotated[str | None, typer.Option(help="de or en")] = None,
    tag: Annotated[str | None, typer.Option()] = None,
    due: Annotated[bool, typer.Option("--due", help="only articles due for review")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List articles."""
    with session_scope() as session:
        rows = knowledge.list_articles(session, q=q, lang=lang, tag=tag, due_before=now() if due else None, limit=500)
        if as_json:
            print_json([{"id": a.id, "title": a.title, "lang": a.lang, "tags": a.tags, "status": a.status,
                         "review_at": a.review_at, "body": a.body} for a in rows])  # fmt: skip
            return
        print_table("Knowledge base", ["id", "title", "lang", "tags", "status", "review by"],
                    [[a.id, a.title, a.lang, ", ".join(a.tags), a.status, fmt_time(a.review_at)]
                     for a in rows])  # fmt: skip


@kb.command("add")
@handle_errors
def kb_add(
    title: Annotated[str, typer.Argument()],
    body: Annotated[str, typer.Option(help="the answer's text")],
    lang: Annotated[str, typer.Option(help="de or en")] = "de",
    tag: Annotated[list[str] | None, typer.Option(help="repeat for several tags")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="not suggested until published")] = False,
) -> None:
    """Add an article (published unless --draft)."""
    with session_scope() as session:
        article = knowledge.do_create_article(session, title=title, body=body, lang=lang, tags=tag or [],
                                              status="draft" if draft else "published", actor=None)  # fmt: skip
        console.print(f"article {article.id} added: {article.title}")


@kb.command("import")
@handle_errors
def kb_import(path: Annotated[Path, typer.Argument(help='JSON lines: {"title", "body", "lang", "tags"?}')]) -> None:
    """Import articles from a JSON-lines file: all or nothing (the first bad line is named)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}", location="path") from None
    with session_scope() as session:
        made = knowledge.import_articles(session, lines=lines, actor=None)
        console.print(f"{len(made)} articles imported")


@kb.command("review")
@handle_errors
def kb_review(article_id: Annotated[int, typer.Argument()]) -> None:
    """Confirm an article is still right: its next review moves on by 180 days."""
    with session_scope() as session:
        article = knowledge.do_review_article(
            session, article=knowledge.get_article(session, id=article_id), actor=None
        )
        console.print(f"article {article.id} reviewed; next review by {fmt_time(article.review_at)}")


@rp.command("pending")
@handle_errors
def pending(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Replies waiting for approval."""
    with session_scope() as session:
        rows = replies.list_pending_approval(session)
        if as_json:
            print_json(
                [{"id": r.id, "case_id": r.case_id, "text": r.text, "reasons": r.approval_reasons} for r in rows]
            )
            return
        print_table("Waiting for approval", ["id", "case", "why", "text"],
                    [[r.id, r.case_id, "; ".join(x["reason"] for x in r.approval_reasons), r.text[:60]]
                     for r in rows])  # fmt: skip


@rp.command("outbox")
@handle_errors
def outbox_list(
    status: Annotated[str | None, typer.Option(help="pending, unknown, sending, sent, failed")] = None,
) -> None:
    """Outbox entries with their tries and last error (the visible failures)."""
    with session_scope() as session:
        stmt = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(200)
        if status:
            stmt = stmt.where(OutboxEntry.status == status)
        rows = list(session.scalars(stmt))
        print_table("Outbox", ["id", "reply", "via", "status", "tries", "next try", "last error"],
                    [[e.id, e.reply_id, e.connector_kind, e.status, e.attempts, fmt_time(e.next_attempt_at),
                      (e.last_error or "")[:80]] for e in rows])  # fmt: skip


@rp.command("send-due")
@handle_errors
def send_due() -> None:
    """Try every due outbox entry now (what the worker's sweep does every 30 s)."""
    db = database()
    with db.sessions() as session:
        ids = outbox.due_entries(session)
    for outbox_id in ids:
        result = outbox.send_entry(db.sessions, outbox_id=outbox_id, settings=db.settings)
        console.print(f"outbox {outbox_id}: {result.status} {result.detail}")
    if not ids:
        console.print("nothing due")


@rp.command("csat")
@handle_errors
def csat_link(
    case_id: Annotated[int, typer.Argument()],
    base_url: Annotated[str, typer.Option(help="where customers reach this Resonanz")] = "http://127.0.0.1:8000",
) -> None:
    """Make a satisfaction link for a case (valid 14 days, answered once)."""
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError(f"case {case_id} does not exist")
        console.print(csat.link(base_url, csat.do_create_survey(session, case=case, actor=None)))


@rp.command("crisis")
@handle_errors
def crisis(state: Annotated[str, typer.Argument(help="on or off")]) -> None:
    """Switch crisis mode: while on, every `crisis` approval rule holds."""
    if state not in ("on", "off"):
        raise InputError("say on or off", location="state")
    with session_scope() as session:
        approvals.do_set_setting(session, key=approvals.CRISIS_MODE, value=state == "on", actor=None)
        console.print(f"crisis mode {state}")


@rp.command("rules")
@handle_errors
def rules() -> None:
    """Approval rules."""
    with session_scope() as session:
        print_table("Approval rules", ["id", "name", "kind", "params", "active"],
                    [[r.id, r.name, r.kind, r.params, r.active] for r in approvals.list_rules(session)])  # fmt: skip


@rp.command("rule")
@handle_errors
def rule(
    name: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option(help="new_agent, high_risk, crisis or brand")],
    days: Annotated[int | None, typer.Option(help="new_agent: account younger than this")] = None,
    priority: Annotated[str | None, typer.Option(help="high_risk: at least this priority")] = None,
    risk: Annotated[float | None, typer.Option(help="high_risk: a mention's risk score at least this")] = None,
    brand: Annotated[list[int] | None, typer.Option(help="brand: brand ids (repeat)")] = None,
    inactive: Annotated[bool, typer.Option("--inactive")] = False,
) -> None:
    """Create or replace an approval rule."""
    params: dict[str, object] = {}
    if days is not None:
        params["days"] = days
    if priority is not None:
        params["priority"] = priority
    if risk is not None:
        params["risk"] = risk
    if brand:
        params["brand_ids"] = list(brand)
    with session_scope() as session:
        saved = approvals.do_save_rule(session, name=name, kind=kind, params=params, active=not inactive, actor=None)
        console.print(f"rule {saved.id} saved: {saved.name} ({saved.kind} {saved.params})")


@rp.command("block")
@handle_errors
def block(
    phrase: Annotated[str, typer.Argument()],
    kind: Annotated[str, typer.Option(help="legal, guarantee, competitor or custom")] = "custom",
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Block a phrase in replies (it becomes a review finding)."""
    with session_scope() as session:
        row = approvals.do_add_phrase(session, phrase=phrase, kind=kind, reason=reason, actor=None)
        console.print(f"phrase {row.id} blocked: {row.phrase} ({row.kind})")


def register(app: typer.Typer) -> None:
    """Add this area's commands to ``app``."""
    app.add_typer(kb, name="kb")
    app.add_typer(rp, name="replies")
