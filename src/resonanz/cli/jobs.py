"""``resonanz worker``, ``resonanz pull`` and ``resonanz jobs list|retry|cancel``."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from resonanz.cli.context import console, database, fmt_time, handle_errors, print_json, print_table, session_scope
from resonanz.worker import queue
from resonanz.worker.models import Job, JobState
from resonanz.worker.runner import JobOutcome, drain, run_until_signalled
from resonanz.worker.scheduler import PULL_KIND

app = typer.Typer(help="Background jobs: list, retry, cancel.", no_args_is_help=True)

STATES = ", ".join(s.value for s in JobState)


def job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": str(job.state),
        "payload": job.payload,
        "dedupe_key": job.dedupe_key,
        "priority": job.priority,
        "run_at": job.run_at,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "lease_owner": job.lease_owner,
        "lease_expires_at": job.lease_expires_at,
        "last_error": job.last_error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@app.command("list")
@handle_errors
def list_command(
    state: Annotated[str | None, typer.Option("--state", help=f"only jobs in this state ({STATES})")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="only jobs of this kind, e.g. source.pull")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List jobs, newest first."""
    if state is not None and state not in {s.value for s in JobState}:
        raise typer.BadParameter(f"unknown state {state!r}; use one of {STATES}", param_hint="--state")
    with session_scope() as session:
        rows = [job_dict(j) for j in queue.list_jobs(session, state=state, kind=kind, limit=limit, offset=offset)]
        counts = queue.count_jobs(session)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no jobs" + (f" in state {state}" if state else ""))
        return
    print_table(
        "Jobs",
        ["id", "kind", "payload", "state", "attempts", "run at", "lease", "last error"],
        [
            (
                r["id"],
                r["kind"],
                ", ".join(f"{k}={v}" for k, v in r["payload"].items()),
                r["state"],
                f"{r['attempts']}/{r['max_attempts']}",
                fmt_time(r["run_at"]),
                f"{r['lease_owner']} until {fmt_time(r['lease_expires_at'])}" if r["lease_owner"] else "",
                (r["last_error"] or "")[:120],
            )
            for r in rows
        ],
    )
    console.print("  ".join(f"{s}: {n}" for s, n in sorted(counts.items())) or "no jobs")


@app.command("retry")
@handle_errors
def retry_command(
    job_id: Annotated[int, typer.Argument(help="job id (see `resonanz jobs list`)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Run a dead or cancelled job again, with fresh attempts (a waiting one becomes due now)."""
    with session_scope() as session:
        data = job_dict(queue.retry(session, job_id=job_id))
    if as_json:
        print_json(data)
    else:
        console.print(f"job {job_id} ({data['kind']}) is pending again")


@app.command("cancel")
@handle_errors
def cancel_command(
    job_id: Annotated[int, typer.Argument(help="job id (see `resonanz jobs list`)")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Cancel a pending job."""
    with session_scope() as session:
        data = job_dict(queue.cancel(session, job_id=job_id))
    if as_json:
        print_json(data)
    else:
        console.print(f"job {job_id} ({data['kind']}) cancelled")


@handle_errors
def worker(
    threads: Annotated[int | None, typer.Option("--threads", min=1, max=64, help="worker threads")] = None,
    once: Annotated[bool, typer.Option("--once", help="run what is due now, then exit")] = False,
    grace: Annotated[float, typer.Option("--grace", min=0, help="seconds to let jobs finish on Ctrl-C/SIGTERM")] = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log every job")] = False,
) -> None:
    """Run background jobs and the schedule as a process of its own (any number, on any machine).

    Each worker claims jobs with leases, so several can share one PostgreSQL database; Ctrl-C or
    SIGTERM lets running jobs finish (up to --grace seconds) and exits 0.
    """
    db = database()  # opened (and migrated) before logging is set up, so migrations stay quiet
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if once:
        outcomes = drain(db)
        console.print(f"ran {len(outcomes)} job(s)")
        failed = [o for o in outcomes if o.state != JobState.DONE]
        raise typer.Exit(1 if failed else 0)
    count = threads if threads is not None else max(1, db.settings.worker_threads)
    console.print(f"worker running with {count} thread(s) on {db.engine.url.render_as_string(hide_password=True)}")
    raise typer.Exit(run_until_signalled(db, threads=count, grace_s=grace))


PULL_COLUMNS = ["source", "status", "new", "updated", "duplicate", "rejected", "error"]


def _pull_row(outcome: JobOutcome) -> dict[str, Any]:
    result = outcome.result or {}
    return {
        "job_id": outcome.job_id,
        "source_id": result.get("source_id"),
        "source": result.get("source", f"#{result.get('source_id', '?')}"),
        "status": result.get("status") or (outcome.state if outcome.error else "skipped"),
        "new": result.get("new", 0),
        "updated": result.get("updated", 0),
        "duplicate": result.get("duplicate", 0),
        "rejected": result.get("rejected", 0),
        "error": result.get("error") or outcome.error or result.get("note"),
    }


@handle_errors
def pull(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Pull every due source now, in this process, and show what each pull brought."""
    db = database()
    rows: list[dict[str, Any]] = []
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("pulling due sources", total=None)

        def on_outcome(outcome: JobOutcome) -> None:
            if outcome.kind == PULL_KIND:
                row = _pull_row(outcome)
                rows.append(row)
                progress.update(task, description=f"pulled {len(rows)}: {row['source']} ({row['status']})")

        drain(db, kinds=[PULL_KIND], on_outcome=on_outcome)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no source is due (see `resonanz source list`)")
        return
    print_table("Pulls", PULL_COLUMNS, [[r[c] for c in PULL_COLUMNS] for r in rows])
    total_new = sum(int(r["new"]) for r in rows)
    console.print(f"{len(rows)} source(s) pulled, {total_new} new mention(s)")


def register(root: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    root.add_typer(app, name="jobs")
    root.command("worker")(worker)
    root.command("pull")(pull)
