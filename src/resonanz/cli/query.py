"""``resonanz query check|test|add|list|show|history|edit|restore|reapply|remove`` and ``resonanz brand
add|list|remove``: write a listening query, try it, save it as versioned text, re-apply it to history.

Exit codes: 3 not found, 4 conflict (a taken name), 5 bad input (a query that does not parse: the
caret points at the column). Saving re-applies the query to history here and now (the job a worker
would run) unless ``--no-apply``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer

from resonanz.cli.context import console, err_console, fmt_time, handle_errors, print_json, session_scope
from resonanz.clock import ensure_utc
from resonanz.errors import InputError
from resonanz.listening.query import QuerySyntaxError, compile_query
from resonanz.listening.service import try_query

app = typer.Typer(help="Listening queries: check the syntax, test against stored mentions.", no_args_is_help=True)

_BARS = " ▁▂▃▄▅▆▇█"


def _show_syntax_error(exc: QuerySyntaxError) -> None:
    err_console.print(exc.caret(), markup=False, highlight=False)
    err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)


def _date(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError("use an ISO date such as 2026-03-01", location=option) from exc
    return ensure_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


@app.command("check")
@handle_errors
def check(
    query: Annotated[str, typer.Argument(help='the query, e.g. "deutsche bahn" NEAR/3 verspätung lang:de')],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Parse the query and print its normalised form, or the error with a caret under the column."""
    try:
        compiled = compile_query(query)
    except QuerySyntaxError as exc:
        if as_json:
            print_json({"ok": False, "column": exc.column, "error": exc.reason, "hint": exc.hint})
        else:
            _show_syntax_error(exc)
        raise typer.Exit(5) from exc
    if as_json:
        print_json({"ok": True, "normalized": compiled.normalized})
        return
    console.print(compiled.normalized, markup=False, highlight=False)


@app.command("test")
@handle_errors
def test(
    query: Annotated[str, typer.Argument(help="the draft query")],
    since: Annotated[str | None, typer.Option(help="from this UTC date/time (ISO)")] = None,
    until: Annotated[str | None, typer.Option(help="before this UTC date/time (ISO)")] = None,
    samples: Annotated[int, typer.Option(min=0, max=100, help="how many of the newest matches to show")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run a draft query over stored mentions: count, mentions per day and the newest matches."""
    try:
        compiled = compile_query(query)
    except QuerySyntaxError as exc:
        if as_json:
            print_json({"ok": False, "column": exc.column, "error": exc.reason, "hint": exc.hint})
        else:
            _show_syntax_error(exc)
        raise typer.Exit(5) from exc
    with session_scope() as session:
        result = try_query(
            session, query=compiled, since=_date(since, "--since"), until=_date(until, "--until"), samples=samples
        )
    if as_json:
        print_json(result.as_dict())
        return
    console.print(f"[bold]{result.count:,}[/bold] mentions match {result.normalized}", highlight=False)
    if result.truncated:
        console.print(f"[yellow]stopped after checking {result.checked:,} candidates: the count is a lower bound")
    if result.curve:
        per_day = dict(result.curve)
        first, last = date.fromisoformat(result.curve[0][0]), date.fromisoformat(result.curve[-1][0])
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)][-120:]
        peak = max(per_day.values())
        bars = "".join(_BARS[round(per_day.get(d, 0) / peak * (len(_BARS) - 1))] for d in days)
        console.print(f"{days[0]} {bars} {days[-1]} (peak {peak:,}/day)", highlight=False)
        if result.curve_every > 1:
            console.print(f"[dim]per day estimated from every {result.curve_every}th match[/dim]")
    for s in result.samples:
        console.print(f"#{s.id} {fmt_time(s.published_at)} {s.platform}: {s.text}", markup=False, highlight=False)
    console.print(f"[dim]{result.elapsed_ms:.0f} ms{'' if result.exact else ', checked in Python'}[/dim]")


from resonanz.cli import query_manage  # noqa: E402  (adds its commands to ``app`` and ``brand_app``)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="query")
    root.add_typer(query_manage.brand_app, name="brand")
