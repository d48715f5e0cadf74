"""``resonanz serve``: web app, API, webhooks and (on the embedded default) worker threads in one
process."""

from __future__ import annotations

from typing import Annotated

import typer

from resonanz.cli.context import console, database, handle_errors


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int | None, typer.Option(help="worker threads in this process (0: none)")] = None,
) -> None:
    """Serve the web app and API; run background jobs in-process unless --workers 0."""
    import uvicorn

    from resonanz.api.app import create_app
    from resonanz.worker.runner import WorkerPool

    db = database()
    threads = db.settings.worker_threads if workers is None else workers
    pool = WorkerPool(db, threads=threads)
    pool.start()
    console.print(f"Resonanz on http://{host}:{port}/ — {threads} worker thread(s); Ctrl-C stops")
    try:
        uvicorn.run(create_app(db.settings, database=db), host=host, port=port, log_level="info")
    finally:
        pool.stop()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
