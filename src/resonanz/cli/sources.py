"""``resonanz source add|list|show|remove|pull|enable|disable|kinds``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from resonanz.cli.context import (
    analyse_queued,
    console,
    database,
    fmt_time,
    handle_errors,
    print_json,
    print_table,
    session_scope,
    settings,
)
from resonanz.connectors.registry import connector_class, connector_classes
from resonanz.errors import InputError
from resonanz.sources import service
from resonanz.sources.actions import do_create_source, do_remove_source, do_update_source
from resonanz.sources.pull import pull_source
from resonanz.sources.schemas import IngestRunRead, SourceCreate, SourceRead, SourceUpdate

app = typer.Typer(help="Configured sources: feeds, files, webhooks and platforms.", no_args_is_help=True)

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: str) -> int:
    """'90' / '90s' / '15m' / '2h' / '1d' -> seconds."""
    match = _DURATION.match(value)
    if not match:
        raise InputError(f"cannot read interval {value!r}; use e.g. 300, 15m, 2h or 1d", location="--interval")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """'key=value' pairs; values that look like JSON (numbers, true, lists) are decoded."""
    config: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"expected key=value, got {pair!r}", location="--set")
        try:
            config[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            config[key.strip()] = value
    return config


def _description(kind: str) -> Path:
    module = connector_class(kind).__module__
    return Path(__import__(module, fromlist=["_"]).__file__ or "").with_name("DESCRIPTION.md")


@app.command("kinds")
@handle_errors
def kinds(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the source kinds (connectors) this installation knows."""
    rows = [
        {"kind": k, "title": c.title, "platform": c.platform, "config": list(c.Config.model_fields)}
        for k, c in sorted(connector_classes().items())
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Source kinds", ["kind", "title", "settings"], [(r["kind"], r["title"], ", ".join(r["config"])) for r in rows]
    )
    console.print("details: resonanz source add KIND --help-kind")


@app.command("add")
@handle_errors
def add(
    kind: Annotated[str, typer.Argument(help="source kind, see `resonanz source kinds`")],
    name: Annotated[str | None, typer.Argument(help="a short unique name")] = None,
    url: Annotated[str | None, typer.Option(help="shortcut for --set url=URL")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="connector setting key=value (repeatable)")] = None,
    interval: Annotated[str, typer.Option(help="pull interval: 300, 15m, 2h, 1d")] = "15m",
    disabled: Annotated[bool, typer.Option("--disabled", help="create without scheduling pulls")] = False,
    help_kind: Annotated[bool, typer.Option("--help-kind", help="show what this kind needs and exit")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a source. Example: resonanz source add feed bahnblog --url https://blog.example/feed/"""
    if help_kind or name is None:
        path = _description(kind)
        console.print(path.read_text(encoding="utf-8") if path.exists() else f"{kind}: no description")
        if name is None:
            raise typer.Exit(0 if help_kind else 2)
        return
    config = parse_settings(set_ or [])
    if url:
        config["url"] = url
    data = SourceCreate(name=name, kind=kind, config=config, interval_s=parse_interval(interval), enabled=not disabled)
    with session_scope() as session:
        source = do_create_source(session, data=data)
        read = SourceRead.model_validate(source)
    if as_json:
        print_json(read.model_dump())
    else:
        console.print(f"added {kind} source [bold]{name}[/bold] (id {read.id})")
        if connector_class(kind).pulls:
            console.print(f"pull it now: resonanz source pull {name}")
        else:
            console.print(f"{kind} sources receive data pushed to them; see: resonanz source add {kind} --help-kind")


@app.command("list")
@handle_errors
def list_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List sources with their health."""
    with session_scope() as session:
        rows = [SourceRead.model_validate(s) for s in service.list_sources(session)]
    if as_json:
        print_json([r.model_dump() for r in rows])
        return
    print_table(
        "Sources",
        ["id", "name", "kind", "health", "enabled", "every", "next pull", "last success", "last error"],
        [
            (r.id, r.name, r.kind, r.health, "yes" if r.enabled else "no", f"{r.interval_s}s",
             fmt_time(r.next_pull_at), fmt_time(r.last_success_at), (r.last_error or "")[:60])
            for r in rows
        ],
    )  # fmt: skip


@app.command("show")
@handle_errors
def show(ref: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a source: settings, cursor, health and its recent runs."""
    with session_scope() as session:
        source = service.get_by_ref(session, ref=ref)
        data = SourceRead.model_validate(source).model_dump()
        data["cursor"] = source.cursor
        runs = [IngestRunRead.model_validate(r).model_dump() for r in service.list_runs(session, source_id=source.id)]
    if as_json:
        print_json({**data, "runs": runs})
        return
    for key, value in data.items():
        console.print(f"[bold]{key:>20}[/bold]: {value}", highlight=False)
    print_table(
        "Recent runs",
        ["id", "kind", "status", "started", "ms", "new", "updated", "dup", "rejected", "error"],
        [
            (r["id"], r["kind"], r["status"], fmt_time(r["started_at"]), r["duration_ms"], r["new"], r["updated"],
             r["duplicate"], r["rejected"], (r["error"] or "")[:60])
            for r in runs
        ],
    )  # fmt: skip


@app.command("remove")
@handle_errors
def remove(ref: str, yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False) -> None:
    """Remove a source. Its mentions stay."""
    if not yes:
        typer.confirm(f"remove source {ref}? its mentions are kept", abort=True)
    with session_scope() as session:
        do_remove_source(session, source=service.get_by_ref(session, ref=ref))
    console.print(f"removed {ref}")


def _set_enabled(ref: str, enabled: bool) -> None:
    with session_scope() as session:
        do_update_source(session, source=service.get_by_ref(session, ref=ref), data=SourceUpdate(enabled=enabled))
    console.print(f"{ref} {'enabled' if enabled else 'disabled'}")


@app.command("enable")
@handle_errors
def enable(ref: str) -> None:
    """Enable a source (also clears a permanent error so it is tried again)."""
    _set_enabled(ref, True)


@app.command("disable")
@handle_errors
def disable(ref: str) -> None:
    """Stop scheduled pulls for a source."""
    _set_enabled(ref, False)


@app.command("pull")
@handle_errors
def pull(
    ref: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    analyse: Annotated[bool, typer.Option("--analyze/--no-analyze", help="analyse what came in right away")] = True,
) -> None:
    """Pull one source now, whatever its schedule."""
    with session_scope() as session:
        source_id = service.get_by_ref(session, ref=ref).id
    with console.status(f"pulling {ref} …"):
        run = pull_source(database().sessions, source_id=source_id, settings=settings())
    data = IngestRunRead.model_validate(run).model_dump()
    data["analysed"] = analyse_queued(quiet=as_json) if analyse else 0
    if as_json:
        print_json(data)
    else:
        console.print(
            f"{ref}: [bold]{data['status']}[/bold] — new {data['new']}, updated {data['updated']}, "
            f"duplicate {data['duplicate']}, rejected {data['rejected']} in {data['duration_ms']} ms"
        )
        for warning in data["warnings"]:
            console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
        if data["error"]:
            console.print(f"[red]error:[/red] {data['error']}", highlight=False)
        if data["rejected"]:
            console.print(f"see why: resonanz quarantine list --source {ref}")
    if data["error"]:
        raise typer.Exit(7)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="source")
