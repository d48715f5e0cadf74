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


def test_serve_answers_health_and_stops_cleanly_on_sigint(settings: Settings, db: Database, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "RESONANZ_DATABASE_URL": settings.database_url or "", "RESONANZ_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "resonanz.cli", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
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
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "worker thread" in out
