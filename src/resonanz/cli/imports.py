"""``resonanz import PATH``: stream a JSONL or CSV file into the store with a progress bar."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from resonanz.cli.context import analyse_queued, console, database, handle_errors, print_json
from resonanz.errors import InputError
from resonanz.sources.imports import DEFAULT_SOURCE, import_file
from resonanz.sources.schemas import IngestRunRead


def parse_mapping(pairs: list[str] | None) -> dict[str, str] | None:
    """``["text=Message", "id=Post ID"]`` -> ``{"text": "Message", "id": "Post ID"}``."""
    if not pairs:
        return None
    mapping: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError(f"--map {pair!r} must look like FIELD=COLUMN (e.g. --map text=Message)")
        mapping[field.strip()] = column.strip()
    return mapping


@handle_errors
def import_command(
    path: Annotated[Path, typer.Argument(help="a .jsonl/.ndjson or .csv file, optionally .gz")],
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl or csv (default: from the extension)")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help=f"file source to import into (default {DEFAULT_SOURCE!r})")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN, repeatable: which column holds a field (e.g. text=Message)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the run as JSON")] = False,
    analyse: Annotated[bool, typer.Option("--analyze/--no-analyze", help="analyse what came in right away")] = True,
) -> None:
    """Import mentions from a JSONL or CSV file (schema: docs/import-format.md).

    Bad records are quarantined with their line number (see `resonanz quarantine list`); the rest
    lands. Importing the same file again is safe: unchanged records count as duplicates.
    """
    columns = parse_mapping(mapping)
    db = database()
    started = time.perf_counter()
    if as_json:
        run = import_file(db, path=path, fmt=fmt, source_name=source, mapping=columns)
    else:
        with Progress(
            TextColumn("[bold]importing[/bold] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(path.name, total=path.stat().st_size if path.is_file() else None)
            run = import_file(
                db,
                path=path,
                fmt=fmt,
                source_name=source,
                mapping=columns,
                progress=lambda done: bar.update(task, completed=done),
            )
    seconds = max(time.perf_counter() - started, 1e-6)
    records = run.new + run.updated + run.duplicate + run.rejected
    rate = round(records / seconds, 1)
    analysed = analyse_queued(quiet=as_json) if analyse else 0
    if as_json:
        print_json(
            {**IngestRunRead.model_validate(run).model_dump(mode="json"), "mentions_per_s": rate, "analysed": analysed}
        )
        return
    console.print(
        f"[bold]{path.name}[/bold]: [green]{run.new:,} new[/green], {run.updated:,} updated, "
        f"{run.duplicate:,} duplicate, "
        + (f"[red]{run.rejected:,} rejected[/red]" if run.rejected else "0 rejected")
        + f" in {seconds:.1f} s ({rate:,.0f} mentions/s)"
    )
    if analysed:
        console.print(f"analysed {analysed:,} mention(s)")
    if run.rejected:
        console.print("rejected records are in quarantine: [bold]resonanz quarantine list[/bold]")


def register(app: typer.Typer) -> None:
    """Add ``resonanz import`` to the root app."""
    app.command("import")(import_command)
