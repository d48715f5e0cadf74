"""Inbox benchmark (issue 6): 50 simulated agents working a queue of 100,000 cases over HTTP, and
routing throughput for 10,000 new cases.

    .venv/bin/python bench/inbox.py                          # defaults: 100,000 cases, 50 agents
    .venv/bin/python bench/inbox.py --cases 100000 --agents 50 --rounds 20 --think 1-3 --think-rounds 10 --route 10000
    .venv/bin/python bench/inbox.py --cases 20000 --rounds 4 --think-rounds 2 --route 1000   # a quick look
    .venv/bin/python bench/inbox.py --route-only             # routing throughput only (in-process)

**Queue.** A fresh SQLite database (``--db``) gets 5 teams of 10 agents (skills, languages, each
with an API token) and ``--cases`` open cases spread over the teams and agents (Core bulk insert).
``resonanz serve`` runs in a second process on loopback (one uvicorn process, no worker threads);
``--agents`` threads, one HTTP connection each, play agents in two runs on the same server:

* **saturation** — ``--rounds`` rounds each, back to back, no think time: the server's capacity
  (cases/minute) and latency when every agent hammers it;
* **realistic** — ``--think-rounds`` rounds each with a pause of ``--think`` seconds (uniform,
  default 1–3 s) before every action, as a person reads and types: the latency agents feel. The
  target (p95 < 100 ms per operation) is judged on this run; the saturation run says how much
  headroom there is.

Each round:

* **list** — ``GET /api/v1/cases?team_id=…&limit=50`` (the team queue, first page);
* **open** — ``GET /api/v1/cases/{id}`` of a random case of that page;
* **note** — ``POST /api/v1/cases/{id}/notes``;
* **reply** — ``POST /api/v1/cases/{id}/replies`` (a reply draft; sending goes through the
  outbox and a connector, not measured here), when the replies API is there;
* **resolve** — ``POST /api/v1/cases/{id}/transitions`` ``{"status": "resolved"}``.

p50/p95/p99 per operation; a 409 (two agents on one case, the optimistic-concurrency refusal) is
counted, not treated as an error. Cases/minute = resolved cases over the wall time of the run.
Server CPU per request comes from the server process's /proc counters (the reliable figure on a
shared machine); each run prints a markdown table for docs/benchmarks.md and the exact command.

**Routing.** In-process: ``--route`` new cases (subject + language + tags, no mention) are routed
with :func:`resonanz.cases.routing.route_case` and timed with :func:`apply_sla`, 4 rules like the
demo's, 100 cases per transaction; cases/second and cases per CPU second.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from resonanz.accounts import passwords
from resonanz.accounts.actions import do_create_api_token, do_create_user
from resonanz.accounts.models import Team, TeamMember, UserLanguage, UserSkill
from resonanz.accounts.permissions import Role
from resonanz.cases.models import Case
from resonanz.config import Settings
from resonanz.db.database import Database, open_database

SUBJECTS = (
    "Rechnung doppelt abgebucht",
    "App stürzt beim Login ab",
    "Wann kommt meine Erstattung?",
    "Router verliert WLAN",
    "Invoice charged twice",
    "Cannot log in to the app",
    "Refund still missing",
    "Arbeitsbedingungen im Lager",
    "Lastschrift zurückgegeben",
    "Outage in Kiel since this morning",
    "Kündigung bestätigen",
    "Tarifwechsel geht nicht",
)
TEAMS = (
    ("Social Media", ("social", "app")),
    ("Billing", ("billing", "refund")),
    ("IT", ("app", "login", "outage")),
    ("Works council", ("jobs",)),
    ("Shop", ("orders",)),
)
RULES = (
    ("IT", "störung OR ausfall OR outage OR absturz OR login OR tag:login", "IT"),
    ("Billing", "rechnung* OR abbuchung OR lastschrift OR invoice OR refund OR erstattung OR tag:billing", "Billing"),
    ("Works council", "arbeitsbedingungen OR streik", "Works council"),
    ("Everything else", "priority:>=low", "Social Media"),
)
TAGS = ("billing", "login", "app", "vip", "refund", "orders")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def setup(db: Database, *, cases: int, agents_per_team: int, seed: int) -> tuple[dict[int, list[int]], dict[int, str]]:
    """Teams, agents with tokens, rules and ``cases`` open cases; returns team -> agent ids and
    agent id -> token."""
    from resonanz.cases.routing_actions import do_save_rule

    rnd = random.Random(seed)
    passwords.set_hasher(passwords.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    members: dict[int, list[int]] = {}
    tokens: dict[int, str] = {}
    with db.sessions() as session:
        for t, (name, skills) in enumerate(TEAMS):
            team = Team(name=name, kind="team")
            session.add(team)
            session.flush()
            members[team.id] = []
            for a in range(agents_per_team):
                user = do_create_user(
                    session,
                    email=f"agent{t}-{a}@bench.example",
                    display_name=f"Agent {t}-{a}",
                    password="bench password 1234",
                    role=Role.agent,
                    actor=None,
                )
                session.add(TeamMember(team_id=team.id, user_id=user.id))
                session.add_all(UserSkill(user_id=user.id, skill=s) for s in skills)
                session.add(UserLanguage(user_id=user.id, lang="de" if a % 3 else "en"))
                raw, _ = do_create_api_token(session, user_id=user.id, name="bench", actor=None)
                members[team.id].append(user.id)
                tokens[user.id] = raw
        by_name = {t.name: t.id for t in session.scalars(select(Team))}
        for i, (name, text, team) in enumerate(RULES):
            do_save_rule(session, name=name, filter_text=text, target_team_id=by_name[team], position=i, actor=None)
        session.commit()
        start = datetime(2026, 11, 1, tzinfo=UTC)
        team_ids = list(members)
        batch: list[dict[str, Any]] = []
        for i in range(cases):
            team_id = team_ids[i % len(team_ids)]
            at = start + timedelta(seconds=i * 20)
            batch.append(
                {
                    "status": "open",
                    "priority": rnd.choice(("low", "normal", "normal", "high", "urgent")),
                    "priority_reasons": [],
                    "subject": rnd.choice(SUBJECTS),
                    "lang": rnd.choice(("de", "de", "en")),
                    "platform": rnd.choice(("email", "mastodon", "reviews")),
                    "team_id": team_id,
                    "assignee_id": rnd.choice(members[team_id]),
                    "tags": [rnd.choice(TAGS)],
                    "created_at": at,
                    "updated_at": at,
                    "last_customer_at": at,
                    "version": 1,
                }
            )
            if len(batch) == 5000:
                session.execute(insert(Case), batch)
                batch.clear()
        if batch:
            session.execute(insert(Case), batch)
        session.commit()
    return members, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RESONANZ_DATABASE_URL": url, "RESONANZ_DATA_DIR": str(data_dir)}
    exe = Path(sys.executable).with_name("resonanz")
    cmd = [str(exe), "serve", "--port", str(port), "--workers", "0"]
    log = data_dir / "bench-inbox-server.log"  # uvicorn's access log and any traceback
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 240  # a loaded 2-core machine can take a while
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("resonanz serve did not come up")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def work_queue(
    base: str,
    members: dict[int, list[int]],
    tokens: dict[int, str],
    *,
    agents: int,
    rounds: int,
    seed: int,
    think: tuple[float, float] = (0.0, 0.0),
    server_pid: int | None = None,
) -> dict[str, Any]:
    """``agents`` threads play agents for ``rounds`` rounds, pausing ``think`` seconds (uniform
    min..max) before each action; latencies per operation, server CPU per request."""
    lat: dict[str, list[float]] = defaultdict(list)
    status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    lock = threading.Lock()
    resolved = [0]
    spec = httpx.get(f"{base}/api/v1/openapi.json", timeout=30).json()
    reply_supported = ["post" in spec.get("paths", {}).get("/api/v1/cases/{case_id}/replies", {})]
    roster = [(team, uid) for team, uids in members.items() for uid in uids][:agents]

    def timed(name: str, client: httpx.Client, rnd: random.Random, method: str, url: str, **kw: Any) -> httpx.Response:
        if think[1] > 0:
            time.sleep(rnd.uniform(*think))
        started = time.perf_counter()
        try:
            resp = client.request(method, url, **kw)
        except httpx.HTTPError:  # a dropped connection counts as status 0, the agent goes on
            resp = httpx.Response(0)
        ms = (time.perf_counter() - started) * 1000
        with lock:
            lat[name].append(ms)
            status[name][resp.status_code] += 1
        return resp

    def agent(index: int) -> None:
        team_id, uid = roster[index]
        rnd = random.Random(seed + index)
        headers = {"Authorization": f"Bearer {tokens[uid]}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for _ in range(rounds):
                page = timed("list", client, rnd, "GET", "/api/v1/cases", params={"team_id": team_id, "limit": 50})
                items = page.json().get("items", []) if page.status_code == 200 else []
                if not items:
                    continue
                cid = rnd.choice(items)["id"]
                timed("open", client, rnd, "GET", f"/api/v1/cases/{cid}")
                note = {"body": "Checked the account, looks fine."}
                timed("note", client, rnd, "POST", f"/api/v1/cases/{cid}/notes", json=note)
                if reply_supported[0]:
                    text = {"text": "Danke für Ihre Nachricht, wir kümmern uns darum."}
                    timed("reply", client, rnd, "POST", f"/api/v1/cases/{cid}/replies", json=text)
                done = timed(
                    "resolve", client, rnd, "POST", f"/api/v1/cases/{cid}/transitions", json={"status": "resolved"}
                )
                if done.status_code == 200:
                    with lock:
                        resolved[0] += 1

    cpu_before = process_cpu_s(server_pid) if server_pid else 0.0
    client_cpu = time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=agent, args=(i,)) for i in range(len(roster))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    requests = sum(len(v) for v in lat.values())
    server_cpu = (process_cpu_s(server_pid) - cpu_before) if server_pid else float("nan")
    ops = {
        name: {
            "n": len(v),
            "p50": statistics.median(v),
            "p95": percentile(v, 95),
            "p99": percentile(v, 99),
            "status": dict(sorted(status[name].items())),
        }
        for name, v in lat.items()
    }
    return {
        "wall_s": wall,
        "resolved": resolved[0],
        "cases_per_min": resolved[0] / wall * 60,
        "ops": ops,
        "reply_measured": reply_supported[0],
        "requests": requests,
        "server_cpu_ms_per_request": server_cpu / max(1, requests) * 1000,
        "client_cpu_s": time.process_time() - client_cpu,
        "server_busy": server_cpu / wall,
        "load": load_average(),
    }


OPERATIONS = {
    "list": "list (`GET /api/v1/cases?team_id=…&limit=50`)",
    "open": "open (`GET /api/v1/cases/{id}`)",
    "note": "note (`POST …/notes`)",
    "reply": "reply draft (`POST …/replies`)",
    "resolve": "resolve (`POST …/transitions`)",
}


def markdown(title: str, result: dict[str, Any]) -> str:
    """A ready table for docs/benchmarks.md."""
    lines = [
        f"**{title}** — wall {result['wall_s']:.1f} s, {result['resolved']} resolved = "
        f"**{result['cases_per_min']:.0f} cases/minute**; {result['requests']} requests, server CPU "
        f"**{result['server_cpu_ms_per_request']:.1f} ms per request** (server process busy "
        f"{result['server_busy']:.0%} of the wall time), load average after: {result['load']}",
        "",
        "| operation | n | p50 ms | p95 ms | p99 ms | statuses |",
        "|---|---|---|---|---|---|",
    ]
    for name, o in result["ops"].items():
        statuses = ", ".join(f"{n} × {code}" for code, n in o["status"].items())
        lines.append(
            f"| {OPERATIONS.get(name, name)} | {o['n']} | {o['p50']:,.0f} | {o['p95']:,.0f} | {o['p99']:,.0f} | "
            f"{statuses} |"
        )
    return "\n".join(lines)


def route_throughput(db: Database, *, count: int, seed: int) -> dict[str, float]:
    """Route + time ``count`` new cases in-process, 100 per transaction."""
    from resonanz.cases.routing import RoutingBatch, route_case
    from resonanz.cases.sla_service import apply_sla

    rnd = random.Random(seed)
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    assigned = 0
    started = time.perf_counter()
    done = 0
    while done < count:
        with db.sessions() as session, session.begin():
            batch = RoutingBatch()  # rules and team data read once per transaction
            for _ in range(min(100, count - done)):
                case = Case(
                    status="new",
                    priority=rnd.choice(("normal", "high")),
                    priority_reasons=[],
                    subject=rnd.choice(SUBJECTS),
                    lang=rnd.choice(("de", "en")),
                    platform="email",
                    tags=[rnd.choice(TAGS)],
                    created_at=at,
                    updated_at=at,
                )
                session.add(case)
                session.flush()
                decision = route_case(session, case=case, batch=batch)
                case.team_id, case.assignee_id = decision.team_id, decision.assignee_id
                apply_sla(session, case=case)
                assigned += decision.assignee_id is not None
                done += 1
    wall = time.perf_counter() - started
    return {"cases": count, "wall_s": wall, "cases_per_s": count / wall, "assigned": assigned}


def parse_think(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    return float(low), float(high or low)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/rz-bench-inbox.db"))
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20, help="saturation rounds per agent (no think time; 0: skip)")
    parser.add_argument("--think", type=parse_think, default=(1.0, 3.0), help="think time in s before each action")
    parser.add_argument("--think-rounds", type=int, default=10, help="rounds per agent with think time (0: skip)")
    parser.add_argument("--route", type=int, default=10_000)
    parser.add_argument("--route-only", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{args.db}"
    db = open_database(Settings(database_url=url, data_dir=args.db.parent))
    machine = platform.processor() or platform.machine()
    print(f"command: .venv/bin/python bench/inbox.py {' '.join(sys.argv[1:])}")
    print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load {load_average()}")
    t0 = time.perf_counter()
    members, tokens = setup(
        db, cases=0 if args.route_only else args.cases, agents_per_team=max(1, args.agents // 5), seed=args.seed
    )
    print(
        f"setup: {args.cases if not args.route_only else 0:,} cases, {sum(map(len, members.values()))} agents in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    tables: list[str] = []
    if not args.route_only:
        port = free_port()
        proc = start_server(url, args.db.parent, port)
        runs = [("saturation: no think time", args.rounds, (0.0, 0.0))]
        runs.append((f"realistic: {args.think[0]:g}–{args.think[1]:g} s think time", args.think_rounds, args.think))
        try:
            for title, rounds, think in runs:
                if rounds <= 0:
                    continue
                result = work_queue(
                    f"http://127.0.0.1:{port}", members, tokens, agents=args.agents, rounds=rounds,
                    seed=args.seed + len(tables), think=think, server_pid=proc.pid,
                )  # fmt: skip
                heading = f"{title}, {args.agents} agents × {rounds} rounds"
                tables.append(markdown(heading, result))
                print(tables[-1], end="\n\n", flush=True)
                if not result["reply_measured"]:
                    print("reply: not measured (no replies endpoint answered in this build)")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    if args.route:
        cpu = time.process_time()
        r = route_throughput(db, count=args.route, seed=args.seed)
        cpu = time.process_time() - cpu
        print(
            f"**Routing** (in-process, 100 per transaction): {r['cases']:,} new cases routed + SLA-timed in "
            f"{r['wall_s']:.1f} s wall = **{r['cases_per_s']:.0f} cases/s**, CPU {cpu:.1f} s = "
            f"{r['cases'] / cpu:.0f} cases per CPU second ({r['assigned']:,} assigned), load after {load_average()}"
        )
    db.dispose()


if __name__ == "__main__":
    main()
