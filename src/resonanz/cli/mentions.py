"""``resonanz mentions search|show``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from resonanz.analysis.feedback import do_correct
from resonanz.cli.context import console, fmt_time, handle_errors, print_json, print_table, session_scope
from resonanz.errors import InputError
from resonanz.mentions import service
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import MentionRead
from resonanz.mentions.search import search_mentions

app = typer.Typer(help="Search and read stored mentions.", no_args_is_help=True)


def _cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    stamp, _, mid = value.rpartition("~")
    try:
        return datetime.fromisoformat(stamp), int(mid)
    except ValueError as exc:
        raise InputError("use the value printed after 'more:'", location="--after") from exc


def _snippet(m: Mention, width: int = 110) -> str:
    text = " ".join(((m.title + " — ") if m.title else "").split() + m.text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("search")
@handle_errors
def search(
    query: Annotated[str, typer.Argument(help='words (all must occur), "a phrase", prefix*')],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    after: Annotated[str | None, typer.Option(help="next page: the value printed after 'more:'")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Full-text search, newest first. Case, ß/ss and ä/ae do not matter."""
    with session_scope() as session:
        found = search_mentions(session, query=query, limit=limit, before=_cursor(after))
        data = [MentionRead.model_validate(m).model_dump() for m in found]
        rows = [(m.id, fmt_time(m.published_at), m.platform, _snippet(m)) for m in found]
        next_cursor = f"{found[-1].published_at.isoformat()}~{found[-1].id}" if len(found) == limit else None
    if as_json:
        print_json(data)
        return
    if not rows:
        console.print("no mentions match")
        return
    print_table(f"Mentions matching {query!r}", ["id", "published", "platform", "text"], rows)
    if next_cursor:
        console.print(f"more: --after {next_cursor}", highlight=False)


@app.command("show")
@handle_errors
def show(mention_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One mention with its thread (parent and replies)."""
    with session_scope() as session:
        m = service.get(session, id=mention_id)
        data = MentionRead.model_validate(m).model_dump()
        parent = service.get(session, id=m.parent_id) if m.parent_id else None
        replies = service.replies(session, mention_id=m.id)
        data["parent"] = MentionRead.model_validate(parent).model_dump() if parent else None
        data["replies"] = [MentionRead.model_validate(r).model_dump() for r in replies]
        data["metrics"], data["media"] = m.metrics, m.media
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]#{data['id']}[/bold] {data['platform']} {data['kind']} {fmt_time(data['published_at'])}")
    if data["url"]:
        console.print(data["url"], highlight=False)
    if data["title"]:
        console.print(f"[bold]{data['title']}[/bold]", highlight=False)
    console.print(data["text"], markup=False, highlight=False)
    if data["parent"]:
        console.print(f"in reply to #{data['parent']['id']}: {data['parent']['title'] or data['parent']['text'][:80]}")
    for r in data["replies"]:
        console.print(f"  ↳ #{r['id']} {fmt_time(r['published_at'])}: {r['text'][:100]}", markup=False)


@app.command("correct")
@handle_errors
def correct(
    mention_id: int,
    task: Annotated[str, typer.Option(help="sentiment, intent, offensive or language")],
    label: Annotated[str, typer.Option(help="the right label, e.g. negative, complaint, de")],
    note: Annotated[str | None, typer.Option(help="why (kept with the correction)")] = None,
    actor: Annotated[str, typer.Option(help="who corrects (until sign-in exists)")] = "cli",
) -> None:
    """Correct a model's label; shown instead of the guess and used by `models train --with-feedback`."""
    with session_scope() as session:
        entry = do_correct(session, mention_id=mention_id, task=task, label=label, actor=actor, note=note)
        previous = entry.previous
    console.print(f"#{mention_id} {task}: {previous or '—'} -> [bold]{label}[/bold]")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="mentions")
