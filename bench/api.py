"""API benchmark: the mentions explorer over HTTP with 1,000,000 mentions in SQLite.

    .venv/bin/python bench/api.py                         # generate (once, cached) + serve + measure
    .venv/bin/python bench/api.py --db /tmp/rz-api.db --count 1000000 --clients 20 --requests 600
    .venv/bin/python bench/api.py --service               # the service functions in-process, one client
    .venv/bin/python bench/api.py --service --profile search   # cProfile of one scenario, top 25

The data set (bench/api_data.py) is made once and kept at ``--db``; a rerun only migrates it to
the current head. A user and an API token are made with the accounts actions; then ``resonanz
serve`` runs in a second process on that file (one uvicorn process, as users run it, no worker
threads) and ``--clients`` threads, each with its own HTTP connection, send requests back to back
(closed loop, no think time) to ``/api/v1/mentions``:

* **search** — ``q=`` one of several words and phrases (1.5% to 15% of the mentions match);
* **filtered, first page** — language, sentiment, intent and platform combinations;
* **filtered, page 50** — the same filters, following 49 ``next_cursor`` links first (not timed),
  then timing the request for page 50.

50 mentions per page. Before timing, the database file is read once (so the OS cache holds it, as
on a server that has been running) and each scenario is warmed up with 40 requests. Figures go to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_data import generate

from resonanz.config import Settings
from resonanz.db.database import open_database

SEARCHES = ("app", "erstattung", "zugausfall", "ersatzverkehr kiel", '"keine info"', "verspae*")
FILTERS: tuple[dict[str, Any], ...] = (
    {"lang": "de", "sentiment": "negative"},
    {"lang": "en", "intent": "complaint"},
    {"sentiment": "negative", "intent": "complaint", "platform": "mastodon"},
    {"lang": ["de", "en"], "intent": "question"},
    {"platform": "reddit", "sentiment": "positive"},
    {"intent": ["complaint", "question"], "lang": "fr"},
)
LIMIT = 50


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def prepare_db(path: Path, count: int) -> str:
    """The cached data set at ``path`` (made when missing or of another size), migrated to head."""
    marker = path.with_suffix(".count")
    if not path.exists() or not marker.exists() or marker.read_text().strip() != str(count):
        print(f"generating {count:,} mentions into {path} …", flush=True)
        started = time.perf_counter()
        generate(path, count)
        marker.write_text(str(count))
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
    url = f"sqlite:///{path}"
    open_database(Settings(database_url=url, data_dir=path.parent)).dispose()  # migrate to head
    return url


def make_token(url: str, data_dir: Path) -> str:
    """A viewer with an API token (the accounts actions, as `resonanz users add` would)."""
    from sqlalchemy import select

    from resonanz.accounts.actions import do_create_api_token, do_create_user
    from resonanz.accounts.models import User
    from resonanz.accounts.permissions import Role

    db = open_database(Settings(database_url=url, data_dir=data_dir))
    with db.sessions() as session:
        user = session.scalar(select(User).where(User.email == "bench@example.com"))
        if user is None:
            user = do_create_user(
                session, email="bench@example.com", display_name="Bench", password="bench password 1234",
                role=Role.viewer, actor=None,
            )  # fmt: skip
        raw, _ = do_create_api_token(session, user_id=user.id, name=f"bench {time.time():.0f}", actor=None)
        session.commit()
    db.dispose()
    return raw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RESONANZ_DATABASE_URL": url, "RESONANZ_DATA_DIR": str(data_dir)}
    exe = Path(sys.executable).with_name("resonanz")
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--workers", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("resonanz serve did not come up")


def _params(spec: dict[str, Any], extra: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in {**spec, **extra}.items():
        for v in value if isinstance(value, list) else [value]:
            out.append((key, str(v)))
    return out


def page50_cursors(client: httpx.Client) -> list[tuple[dict[str, Any], str]]:
    """For each filter, the cursor that asks for page 50 (found by following 49 links)."""
    out = []
    for spec in FILTERS:
        cursor = None
        for _ in range(49):
            extra: dict[str, Any] = {"limit": LIMIT, **({"cursor": cursor} if cursor else {})}
            resp = client.get("/api/v1/mentions", params=_params(spec, extra))
            resp.raise_for_status()
            cursor = resp.json()["next_cursor"]
            if cursor is None:
                break
        if cursor is not None:
            out.append((spec, cursor))
    return out


def run_clients(
    make_client: Callable[[], httpx.Client], requests: list[list[tuple[str, str]]], clients: int
) -> tuple[list[float], float]:
    """Send ``requests`` (query parameter lists) from ``clients`` threads; latencies in ms, wall s."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    index = iter(range(len(requests)))

    def worker() -> None:
        with make_client() as client:
            while True:
                with lock:
                    i = next(index, None)
                if i is None:
                    return
                start = time.perf_counter()
                resp = client.get("/api/v1/mentions", params=requests[i])
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    if resp.status_code != 200:
                        errors.append(f"{resp.status_code} {resp.text[:200]}")
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return latencies, wall


def scenarios(client: httpx.Client, n: int) -> dict[str, list[list[tuple[str, str]]]]:
    cursors = page50_cursors(client)
    return {
        "search (q=)": [_params({"q": SEARCHES[i % len(SEARCHES)]}, {"limit": LIMIT}) for i in range(n)],
        "filtered, first page": [_params(FILTERS[i % len(FILTERS)], {"limit": LIMIT}) for i in range(n)],
        "filtered, page 50": [
            _params(cursors[i % len(cursors)][0], {"limit": LIMIT, "cursor": cursors[i % len(cursors)][1]})
            for i in range(n)
        ],
    }


def http_bench(args: argparse.Namespace, url: str) -> dict[str, Any]:
    token = make_token(url, args.db.parent)
    port = free_port()
    server = start_server(url, args.db.parent, port)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}

    def make_client() -> httpx.Client:
        return httpx.Client(base_url=base, headers=headers, timeout=60)

    results: dict[str, Any] = {}
    try:
        with make_client() as client:
            plan = scenarios(client, args.requests)
        for name, reqs in plan.items():
            run_clients(make_client, reqs[:40], args.clients)  # warm-up
            latencies, wall = run_clients(make_client, reqs, args.clients)
            results[name] = summary(latencies, wall)
            print(f"{name:22s} {fmt(results[name])}", flush=True)
        # one client alone: the latency without queueing behind the other 19
        for name, reqs in plan.items():
            latencies, wall = run_clients(make_client, reqs[: max(60, args.requests // 10)], 1)
            results[f"{name}, 1 client"] = summary(latencies, wall)
            print(f"{name + ', 1 client':22s} {fmt(results[name + ', 1 client'])}", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    return {
        "requests": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "mean_ms": statistics.fmean(latencies),
        "per_s": len(latencies) / wall,
    }


def fmt(r: dict[str, float]) -> str:
    return (
        f"p50 {r['p50_ms']:6.1f} ms  p95 {r['p95_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
        f"mean {r['mean_ms']:6.1f} ms  {r['per_s']:6.1f} req/s  ({r['requests']:.0f} requests)"
    )


def service_bench(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """The explorer service alone, one caller, in this process (no HTTP, no auth, no JSON)."""
    from resonanz.mentions.explorer import ExplorerQuery, list_page

    db = open_database(Settings(database_url=url, data_dir=args.db.parent))

    def query(spec: dict[str, Any]) -> ExplorerQuery:
        names = {"lang": "langs", "sentiment": "sentiments", "intent": "intents", "platform": "platforms"}
        return ExplorerQuery.model_validate(
            {names.get(k, k): (v if isinstance(v, list) or k == "q" else [v]) for k, v in spec.items()}
        )

    results: dict[str, Any] = {}
    with db.sessions() as session:
        page50 = []
        for spec in FILTERS:
            after = None
            for _ in range(49):
                after = list_page(session, query=query(spec), after=after, limit=LIMIT).next_cursor
            if after:
                page50.append((query(spec), after))
        cases: dict[str, list[tuple[Any, str | None]]] = {
            "search": [(query({"q": s}), None) for s in SEARCHES],
            "filtered": [(query(f), None) for f in FILTERS],
            "page50": page50,
        }
        for name, items in cases.items():
            if args.profile and args.profile != name:
                continue
            profiler = cProfile.Profile() if args.profile else None
            latencies = []
            started = time.perf_counter()
            for i in range(args.requests):
                q, after = items[i % len(items)]
                t = time.perf_counter()
                if profiler:
                    profiler.enable()
                list_page(session, query=q, after=after, limit=LIMIT)
                if profiler:
                    profiler.disable()
                latencies.append((time.perf_counter() - t) * 1000)
            results[name] = summary(latencies, time.perf_counter() - started)
            print(f"{name:10s} {fmt(results[name])}", flush=True)
            if profiler:
                stats = pstats.Stats(profiler, stream=sys.stderr)
                stats.sort_stats("cumulative").print_stats(25)
                stats.sort_stats("tottime").print_stats(20)
    db.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/resonanz-bench/api.db"), help="the cached data set")
    parser.add_argument("--count", type=int, default=1_000_000, help="mentions (default 1,000,000)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600, help="timed requests per scenario")
    parser.add_argument("--service", action="store_true", help="call the service functions, not HTTP")
    parser.add_argument("--profile", choices=("search", "filtered", "page50"), help="with --service: cProfile")
    parser.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    args = parser.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    url = prepare_db(args.db, args.count)
    with args.db.open("rb") as f:  # into the OS cache, as on a server that has been running
        while f.read(1 << 24):
            pass
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {args.count:,} mentions")
    results = service_bench(args, url) if args.service else http_bench(args, url)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
