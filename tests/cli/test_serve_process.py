"""`resonanz serve` as a user runs it: a real process, a real port, worker threads, Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from resonanz.config import Settings
from resonanz.db.database import Database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "resonanz.cli", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _interrupt(proc: subprocess.Popen[str], timeout: float) -> str:
    """Ctrl-C, and what the process printed; it must exit with 0."""
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


def test_serve_answers_health_and_stops_cleanly_on_sigint(settings: Settings, db: Database, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RESONANZ_DATABASE_URL": settings.database_url or "", "RESONANZ_DATA_DIR": str(tmp_path)}
    proc = _start(["serve", "--port", str(port), "--workers", "1"], env)
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert body is not None and body["status"] == "ok", "serve did not answer /healthz in 30 s"
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True)  # signed out: to /setup
        assert page.status_code == 200 and "Resonanz" in page.text
        out = _interrupt(proc, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "worker thread" in out


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # the command name in parentheses may hold spaces: the fields after it are fixed
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def test_serve_with_two_processes_answers_from_both_and_stops_cleanly(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """``--processes 2``: two server processes on one port, the setup token printed once, every
    request answered (no 'database is locked'), Ctrl-C stops all of them."""
    port = free_port()
    env = {**os.environ, "RESONANZ_DATABASE_URL": settings.database_url or ""}
    args = ["--data-dir", str(tmp_path), "serve", "--port", str(port), "--workers", "1", "--processes", "2"]
    proc = _start(args, env)
    try:
        deadline = time.monotonic() + 60
        answered: set[int] = set()
        while len(_children(proc.pid)) < 2 or not answered:
            assert time.monotonic() < deadline, "serve --processes 2 did not come up in 60 s"
            try:
                answered.add(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["process"])
            except httpx.HTTPError:
                time.sleep(0.2)
        # uvicorn's two server processes (spawned; multiprocessing may add its resource tracker)
        servers = [p for p in _children(proc.pid) if "resource_tracker" not in _command(p)]
        assert len(servers) == 2, [_command(p) for p in servers]
        # 40 requests, each on its own connection: all answered, by the server processes
        with httpx.Client(timeout=10) as client:
            for _ in range(40):
                response = client.get(f"http://127.0.0.1:{port}/healthz", headers={"Connection": "close"})
                assert response.status_code == 200
                answered.add(response.json()["process"])
        assert answered <= set(servers), (answered, servers)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, follow_redirects=True)
        assert page.status_code == 200 and "Resonanz" in page.text
        out = _interrupt(proc, 60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "2 server process(es)" in out
    assert out.count("one-time setup token") == 1, out  # offered once, by the supervising process
    left = time.monotonic() + 10
    while [p for p in servers if Path(f"/proc/{p}").exists()] and time.monotonic() < left:
        time.sleep(0.1)
    assert not [p for p in servers if Path(f"/proc/{p}").exists()], "a server process outlived Ctrl-C"
