"""``resonanz export`` (CSV/Parquet of mentions and aggregates) and ``resonanz reports …``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from resonanz.cli.context import database, err_console, fmt_time, handle_errors, print_json, print_table, session_scope
from resonanz.clock import now
from resonanz.db.engine import begin_read_only
from resonanz.errors import InputError
from resonanz.i18n import _
from resonanz.reports import actions, service
from resonanz.reports.export import ExportFormat, ExportKind, export, resolve_scope
from resonanz.reports.pseudonyms import Pseudonymiser
from resonanz.reports.schemas import ReportRead

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
    batch_size: Annotated[int, typer.Option("--batch-size", min=100, max=1_000_000, hidden=True)] = 5_000,
) -> None:
    """Export mentions or daily aggregates as CSV or Parquet (columns: docs/reports.md)."""
    target = None if out == "-" else Path(out)
    pseudonymiser = Pseudonymiser(os.environ.get(KEY_ENV) or None) if pseudonymise else None
    # a read-only transaction: on SQLite a normal one takes the write lock, and an export of a
    # million rows would hold ingest off for its whole run
    with database().sessions() as session:
        begin_read_only(session)
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


reports_app = typer.Typer(help="Scheduled and on-demand reports (PDF and e-mail digest).", no_args_is_help=True)


@reports_app.command("list")
@handle_errors
def list_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Report definitions with their next sending time."""
    with session_scope() as session:
        at = now()
        rows = [(ReportRead.model_validate(r), service.next_run_at(r, at=at)) for r in service.list_reports(session)]
    if as_json:
        print_json([r.model_copy(update={"next_run_at": n}).model_dump(mode="json") for r, n in rows])
        return
    print_table(
        _("Reports"),
        ["id", "name", "period", "language", "tz", "recipients", "next"],
        [
            (r.id, r.name, r.period, r.language, r.tz, len(r.recipient_user_ids) + len(r.recipient_emails), fmt_time(n))
            for r, n in rows
        ],
    )


@reports_app.command("generate")
@handle_errors
def generate_command(
    name: Annotated[str, typer.Argument(help="the report's name")],
    out: Annotated[Path, typer.Option("--out", help="where to write the PDF")],
    at: Annotated[
        str | None, typer.Option("--at", help="a moment inside the wanted period (default: the last one)")
    ] = None,
) -> None:
    """Generate a report now and write its PDF (it is also kept as a run)."""
    if out.is_dir() or not out.parent.exists():
        raise InputError(_("give a file in an existing folder"), location="--out")
    with session_scope() as session:
        report = service.get_report_by_name(session, name=name)
        run = actions.do_generate_now(
            session, report=report, at=_time(at, "--at"), actor=None, settings=database().settings
        )
        pdf, total = run.pdf or b"", run.summary.get("total")
    out.write_bytes(pdf)
    err_console.print(
        _("{path}: {size} bytes, {total} mentions").format(path=out, size=len(pdf), total=total), highlight=False
    )


@reports_app.command("send-due")
@handle_errors
def send_due_command() -> None:
    """Create and send the reports whose period has ended (what the worker does every 5 minutes)."""
    from resonanz.reports.tasks import run_due

    print_json(run_due(database(), {}))


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``reports`` to ``app``."""
    app.command("export")(export_command)
    app.add_typer(reports_app, name="reports")
