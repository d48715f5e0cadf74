"""``resonanz serve``: web app, API, webhooks and (on the embedded default) worker threads in one
process."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Annotated

import typer

from resonanz.cli.context import console, database, export_overrides, handle_errors
from resonanz.db.database import Database
from resonanz.i18n import _


def run_server(
    db: Database, *, host: str, port: int, threads: int, announce: Callable[[str], None], processes: int = 1
) -> None:
    """Serve ``db`` with uvicorn and ``threads`` in-process workers until Ctrl-C.

    ``announce`` gets the base URL before the server starts listening (``resonanz serve`` and
    ``resonanz demo`` print different sign-in hints around it). With ``processes`` > 1 uvicorn
    starts that many server processes on the one port (each builds the app from the environment:
    :func:`resonanz.api.app.app_from_environment`); this process supervises them and runs the
    worker threads. Requests are CPU-bound Python: one process uses one core."""
    import uvicorn

    from resonanz.api.app import create_app
    from resonanz.web.auth import offer_setup
    from resonanz.worker.runner import WorkerPool

    pool = WorkerPool(db, threads=threads)
    pool.start()
    announce(f"http://{host}:{port}/")
    try:
        if processes > 1:
            offer_setup(db)  # once, here; the server processes do not
            uvicorn.run(
                "resonanz.api.app:app_from_environment",
                factory=True,
                workers=processes,
                host=host,
                port=port,
                log_level="info",
            )
            return
        app = create_app(db.settings, database=db)
        # What exists now (modules, routes, settings, compiled patterns) lives as long as the
        # process: moved out of the collector's generations, a full collection during a request no
        # longer walks it (the dashboards' p95 carried +50-80 ms spikes from such collections).
        gc.freeze()
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        pool.stop()


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int | None, typer.Option(help="worker threads in this process (0: none)")] = None,
    processes: Annotated[
        int, typer.Option(min=1, max=64, help="server processes on the port (one core each); default 1")
    ] = 1,
) -> None:
    """Serve the web app and API; run background jobs in-process unless --workers 0."""
    db = database()  # opened (and migrated) here, once, before any server process starts
    threads = db.settings.worker_threads if workers is None else workers
    if processes > 1:
        # the server processes read their settings from the environment: hand them this command's
        export_overrides()
    run_server(
        db,
        host=host,
        port=port,
        threads=threads,
        processes=processes,
        announce=lambda url: console.print(
            _("Resonanz on {url} — {processes} server process(es), {threads} worker thread(s); Ctrl-C stops").format(
                url=url, processes=processes, threads=threads
            )
        ),
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
