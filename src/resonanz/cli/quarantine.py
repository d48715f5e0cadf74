"""``resonanz quarantine list|show|replay|discard``: what was rejected, why, and a second chance."""

from __future__ import annotations

from typing import Annotated

import typer

from resonanz.cli.context import (
    console,
    fmt_time,
    handle_errors,
    print_json,
    print_table,
    session_scope,
    settings,
)
from resonanz.errors import InputError
from resonanz.mentions import quarantine as q
from resonanz.mentions.models import QuarantineItem
from resonanz.sources import service as source_service
from resonanz.sources.replay import do_discard, do_replay

app = typer.Typer(help="Rejected items, kept with their reason; replay them after a fix.", no_args_is_help=True)

PREVIEW = 300


def _as_dict(item: QuarantineItem, *, full: bool = False) -> dict[str, object]:
    raw_text = item.raw.decode("utf-8", "replace")
    return {
        "id": item.id,
        "source_id": item.source_id,
        "run_id": item.run_id,
        "platform": item.platform,
        "stage": item.stage,
        "location": item.location,
        "reason": item.reason,
        "status": item.status,
        "attempts": item.attempts,
        "replay_error": item.replay_error,
        "created_at": item.created_at,
        "replayed_at": item.replayed_at,
        "mention_id": item.mention_id,
        "content_type": item.content_type,
        "size": len(item.raw),
        "raw": raw_text if full else raw_text[:PREVIEW],
        "context": item.context,
    }


@app.command("list")
@handle_errors
def list_cmd(
    status: Annotated[str, typer.Option(help="pending, replayed, discarded or all")] = "pending",
    source: Annotated[str | None, typer.Option(help="only items of this source")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    before: Annotated[int | None, typer.Option(help="page: items with an id below this")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List quarantined items, newest first."""
    with session_scope() as session:
        source_id = source_service.get_by_ref(session, ref=source).id if source else None
        items = q.list_items(
            session, status=None if status == "all" else status, source_id=source_id, limit=limit, before_id=before
        )
        data = [_as_dict(i) for i in items]
    if as_json:
        print_json(data)
        return
    print_table(
        f"Quarantine ({status})",
        ["id", "when", "source", "stage", "where", "reason", "status"],
        [
            (
                d["id"],
                fmt_time(i.created_at),
                d["source_id"],
                d["stage"],
                d["location"],
                str(d["reason"])[:90],
                d["status"],
            )
            for d, i in zip(data, items, strict=True)
        ],
    )
    if len(items) == limit:
        console.print(f"more: --before {items[-1].id}")


@app.command("show")
@handle_errors
def show(item_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one item: reason, location and the raw bytes as received."""
    with session_scope() as session:
        data = _as_dict(q.get(session, id=item_id), full=True)
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if key != "raw":
            console.print(f"[bold]{key:>13}[/bold]: {value}", highlight=False, markup=True)
    console.rule("raw")
    console.print(data["raw"], markup=False, highlight=False)


@app.command("replay")
@handle_errors
def replay(
    item_ids: Annotated[list[int] | None, typer.Argument(help="ids to replay")] = None,
    all_pending: Annotated[bool, typer.Option("--all", help="replay every pending item")] = False,
    source: Annotated[str | None, typer.Option(help="with --all: only this source's items")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Parse quarantined items again; what works now is stored, the rest stays with its new reason."""
    if not item_ids and not all_pending:
        raise InputError("name item ids or use --all", location="arguments")
    with session_scope() as session:
        if all_pending:
            source_id = source_service.get_by_ref(session, ref=source).id if source else None
            items = list(q.list_items(session, source_id=source_id, limit=1_000_000))
        else:
            items = [q.get(session, id=i) for i in item_ids or []]
        outcomes = do_replay(session, items=items, settings=settings())
    if as_json:
        print_json([o.__dict__ for o in outcomes])
    else:
        print_table(
            "Replay",
            ["id", "result", "detail"],
            [(o.item_id, "ok" if o.ok else "still failing", o.detail) for o in outcomes],
        )
    if any(not o.ok for o in outcomes):
        raise typer.Exit(1)


@app.command("discard")
@handle_errors
def discard(item_ids: list[int]) -> None:
    """Take items off the pending list (their bytes are kept for the record)."""
    with session_scope() as session:
        for item_id in item_ids:
            do_discard(session, item=q.get(session, id=item_id))
    console.print(f"discarded {len(item_ids)} item(s)")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="quarantine")
