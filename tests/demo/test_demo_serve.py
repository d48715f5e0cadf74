"""``resonanz demo`` as a new user runs it: builds the workspace, serves it, prints the URL and a
sign-in that works, and stops cleanly."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from resonanz.accounts import passwords
from resonanz.accounts.models import User
from resonanz.accounts.permissions import Role
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.users import DEMO_PASSWORD, DEMO_USERS, demo_password, do_ensure_demo_users
from tests.support import accounts_factory  # noqa: F401  (cheap argon2 parameters for this module)

URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+/) and sign in as (\S+) / (\S+) \(DEMO\)")


def test_demo_users_cover_every_working_role_in_both_languages_and_the_sign_in_is_restored(db: Database) -> None:
    with transaction(db.sessions) as session:
        do_ensure_demo_users(session, password=DEMO_PASSWORD)
    with transaction(db.sessions) as session:
        users = {u.email: u for u in session.scalars(select(User))}
        assert set(users) == {u.email for u in DEMO_USERS}
        assert {Role(u.role) for u in users.values()} == {Role.admin, Role.manager, Role.agent, Role.analyst}
        assert {u.language for u in users.values()} == {"de", "en"}
        assert all(u.display_name.endswith("(Demo)") and u.email.startswith("demo-") for u in users.values())
        # somebody changed the admin's password and role and deactivated the agent in the demo
        admin = users[DEMO_USERS[0].email]
        admin.password_hash, admin.role = passwords.hash_password("something else entirely"), Role.viewer
        users[DEMO_USERS[2].email].active = False
    with transaction(db.sessions) as session:  # the next ``resonanz demo`` restores the printed sign-in
        do_ensure_demo_users(session, password=DEMO_PASSWORD)
    with db.sessions() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        assert len(users) == len(DEMO_USERS)
        assert all(u.active and passwords.verify_password(u.password_hash, DEMO_PASSWORD) for u in users.values())
        assert users[DEMO_USERS[0].email].role == Role.admin


def test_a_shared_database_gets_a_random_demo_password_never_the_published_one() -> None:
    assert demo_password(own_database=True) == DEMO_PASSWORD
    first, second = demo_password(own_database=False), demo_password(own_database=False)
    assert DEMO_PASSWORD not in (first, second) and first != second and len(first) >= 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reader(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line)


def test_demo_builds_serves_prints_a_working_sign_in_and_stops(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RESONANZ_DATABASE_URL"}
    env |= {
        "RESONANZ_DATA_DIR": str(tmp_path),
        "RESONANZ_WORKER_THREADS": "1",
        "COLUMNS": "120",
        "RESONANZ_LANGUAGE": "en",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "resonanz.cli", "demo", "--scale", "0.05", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    seen: list[str] = []
    try:
        match = None
        deadline = time.monotonic() + 90
        while match is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
            match = URL_LINE.search(seen[-1])
        assert match, "no URL and sign-in printed:\n" + "".join(seen)
        url, email, password = match.groups()
        assert url == f"http://127.0.0.1:{port}/"
        assert email == DEMO_USERS[0].email and password == DEMO_PASSWORD
        assert "DEMO password: demo-resonanz" in "".join(seen)

        with httpx.Client(base_url=url, timeout=5) as client:
            login = None
            while time.monotonic() < deadline:
                try:
                    login = client.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert login is not None and login.status_code == 200
            csrf = re.search(r'name="csrf_token" value="([^"]*)"', login.text)
            form = {"email": email, "password": password, **({"csrf_token": csrf.group(1)} if csrf else {})}
            wrong = client.post("/login", data={**form, "password": "not-the-demo-password"})
            assert wrong.status_code in (400, 401, 422) and "rz_session" not in client.cookies
            signed_in = client.post("/login", data=form)
            assert signed_in.status_code == 303, signed_in.text[:500]
            assert "rz_session" in client.cookies
            settings_page = client.get("/settings")  # a page only a signed-in person gets
            assert settings_page.status_code == 200 and "Ada Admin" in settings_page.text
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as the printed line says
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(seen)
