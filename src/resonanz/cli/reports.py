"""``resonanz export`` (CSV/Parquet of mentions and aggregates) and ``resonanz reports …``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from resonanz.cli.context import err_console, handle_errors, session_scope
from resonanz.errors import InputError
from resonanz.i18n import _
from resonanz.reports.export import ExportFormat, ExportKind, export, resolve_scope
from resonanz.reports.pseudonyms import Pseudonymiser

#: a fixed pseudonym key makes pseudonyms agree across exports (unset: a fresh key per export)
KEY_ENV = "RESONANZ_EXPORT_PSEUDONYM_KEY"


def _time(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; a bare date or a time without zone is taken as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(_("not an ISO date or time: {value}").format(value=value), location=option) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@handle_errors
def export_command(
    kind: Annotated[ExportKind, typer.Argument(help="mentions: one row per mention; aggregates: daily numbers")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet")] = ExportFormat.csv,
    out: Annotated[str, typer.Option("--out", help="file to write; '-' writes CSV to standard output")] = "-",
    query: Annotated[str | None, typer.Option("--query", help="only mentions of this saved query")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="only mentions of this brand's queries")] = None,
    since: Annotated[str | None, typer.Option("--since", help="from this UTC date/time on (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option("--until", help="before this UTC date/time (ISO 8601)")] = None,
    pseudonymise: Annotated[
        bool, typer.Option("--pseudonymise", help="replace authors, handles and e-mail addresses by keyed pseudonyms")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=100, max=1_000_000, hidden=True)] = 20_000,
) -> None:
    """Export mentions or daily aggregates as CSV or Parquet (columns: docs/reports.md)."""
    target = None if out == "-" else Path(out)
    pseudonymiser = Pseudonymiser(os.environ.get(KEY_ENV) or None) if pseudonymise else None
    with session_scope() as session:
        scope = resolve_scope(
            session, query=query, brand=brand, since=_time(since, "--since"), until=_time(until, "--until")
        )
        result = export(
            session,
            kind=kind,
            fmt=fmt,
            out=target,
            scope=scope,
            pseudonymiser=pseudonymiser,
            batch_size=batch_size,
        )
    if target is not None:
        err_console.print(
            _("{rows} rows written to {path} in {seconds:.1f} s").format(
                rows=result.rows, path=target, seconds=result.seconds
            ),
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``reports`` to ``app``."""
    app.command("export")(export_command)
