"""Shared CLI plumbing: the database for this invocation, output as table or JSON, and the one
place that turns domain errors into messages and exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from resonanz.config import Settings, load_settings
from resonanz.db.database import Database, open_database
from resonanz.errors import (
    ConfigError,
    ConflictError,
    ConnectorError,
    InputError,
    NotFoundError,
    ResonanzError,
)
from resonanz.i18n import _

console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

_overrides: dict[str, Any] = {}
_db: Database | None = None

EXIT_CODES: dict[type[ResonanzError], int] = {
    NotFoundError: 3,
    ConflictError: 4,
    InputError: 5,
    ConfigError: 6,
    ConnectorError: 7,
}


def set_overrides(**values: Any) -> None:
    global _db
    _overrides.update({k: v for k, v in values.items() if v is not None})
    _db = None


def export_overrides() -> None:
    """Put this command's setting flags (``--data-dir``, ``--database-url`` …) into the environment
    as ``RESONANZ_*`` variables, for child processes that load their settings from it."""
    for key, value in _overrides.items():
        os.environ[f"RESONANZ_{key.upper()}"] = str(value)


def settings() -> Settings:
    try:
        return load_settings(**_overrides)
    except ValueError as exc:
        err_console.print("[red]" + _("error") + ":[/red] " + _("invalid settings: {error}").format(error=exc))
        raise typer.Exit(6) from exc


def database() -> Database:
    """The database for this command, opened (and migrated) on first use."""
    global _db
    if _db is None:
        _db = open_database(settings())
    return _db


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Domain errors become a red one-line message and a distinct exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ResonanzError as exc:
            code = next((c for t, c in EXIT_CODES.items() if isinstance(exc, t)), 1)
            label = _("error")  # outside the f-string, where the message extractor can see it
            err_console.print(f"[red]{label}:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(code) from exc

    return wrapper


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=_default, ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def fmt_time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@contextmanager
def session_scope() -> Iterator[Any]:
    with database().sessions() as session, session.begin():
        yield session


def analyse_queued(*, quiet: bool = False) -> int:
    """Run the analysis jobs that ingest queued, here and now, so a command-line import or pull
    ends with analysed mentions even when no worker is running. Returns how many were analysed."""
    from resonanz.analysis.jobs import ANALYSIS_KIND
    from resonanz.worker.runner import drain

    with console.status(_("analysing new mentions …")) if not quiet else nullcontext():
        outcomes = drain(database(), kinds=[ANALYSIS_KIND])
    return sum(int((o.result or {}).get("analysed", 0)) for o in outcomes)
