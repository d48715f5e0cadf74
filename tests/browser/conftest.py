"""The browser harness: a real server process on a free port, a small workspace, Debian's chromium.

Why a server in a subprocess rather than ``TestClient``: the browser needs a real socket, and the
process is started exactly as a user starts it (``resonanz serve``), so the tests also cover the
CLI, uvicorn and the app factory. The workspace (a small demo data set, an XSS corpus imported
through the real import path, one user per role) is built once per pytest session.

Chromium is Debian's (``/usr/bin/chromium``), launched with the flags this machine needs (no
sandbox as root, no background networking: the network is closed). Tests are skipped only when
that binary is missing; ``.ci/run`` installs it. Run ``pytest tests/browser --screenshots`` to
write the screenshots shown in the README to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import text

from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.config import Settings
from resonanz.db.database import open_database
from resonanz.demo.workspace import load_demo
from resonanz.worker.runner import drain
from tests.browser.browser_xss_corpus import XSS_SOURCE, write_xss_file

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DEMO_SCALE = 0.05
PG_URL = os.environ.get("RESONANZ_TEST_DATABASE_URL") or None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="browser tests save screenshots of the main pages to docs/screenshots/",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Workspace:
    """What the browser tests run against."""

    url: str
    database_url: str
    xss_mention_ids: list[int] = field(default_factory=list)


def _database_url(tmp: Path) -> Iterator[str]:
    """A database of its own: a SQLite file, or on PostgreSQL a fresh database beside the test one
    (the other tests truncate theirs after every test; this one must live for the session)."""
    if not PG_URL:
        yield f"sqlite:///{tmp / 'browser.db'}"
        return
    from tests.conftest import _pg_admin_engine

    name = f"resonanz_browser_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _build(settings: Settings, tmp: Path) -> list[int]:
    """Demo data + the XSS corpus, analysed; returns the ids of the XSS mentions."""
    from resonanz.mentions.models import Mention
    from resonanz.sources.imports import import_file
    from resonanz.sources.models import Source

    db = open_database(settings)
    try:
        load_demo(db, scale=DEMO_SCALE)
        run = import_file(db, path=write_xss_file(tmp / "xss.jsonl"), source_name=XSS_SOURCE)
        assert run.new > 0, "the XSS corpus must land, or the XSS test proves nothing"
        drain(db, kinds=[ANALYSIS_KIND])
        with db.sessions() as session:
            from sqlalchemy import select

            ids = session.scalars(
                select(Mention.id).join(Source, Source.id == Mention.source_id).where(Source.name == XSS_SOURCE)
            )
            return sorted(ids)
    finally:
        db.dispose()


def _wait_until_up(url: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer {url}/healthz in {timeout} s")


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Build the workspace, then serve it with ``resonanz serve`` in a subprocess on a free port."""
    tmp = tmp_path_factory.mktemp("browser")
    for database_url in _database_url(tmp):
        settings = Settings(data_dir=tmp, database_url=database_url, worker_threads=0)
        xss_ids = _build(settings, tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RESONANZ_DATABASE_URL": database_url, "RESONANZ_DATA_DIR": str(tmp)}
        log = (tmp / "server.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "resonanz.cli", "serve", "--port", str(port), "--workers", "0"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_until_up(url, proc)
            yield Workspace(url=url, database_url=database_url, xss_mention_ids=xss_ids)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's chromium, headless; playwright gives it a fresh, empty user data directory."""
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    yield chromium
    chromium.close()


@pytest.fixture
def new_context(browser: Browser, workspace: Workspace) -> Iterator[Callable[..., BrowserContext]]:
    """Make browser contexts (own cookies) on the workspace's URL; all are closed after the test."""
    made: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        options.setdefault("viewport", {"width": 1440, "height": 900})
        context = browser.new_context(base_url=workspace.url, **options)  # type: ignore[arg-type]
        context.set_default_timeout(5_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A desktop-sized page (1440x900) in a fresh context, signed out."""
    return new_context().new_page()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """``screenshot(page, name)`` writes docs/screenshots/<name>.png when run with --screenshots."""

    def take(page: Page, name: str) -> None:
        if not request.config.getoption("--screenshots", default=False):
            return
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=False)

    return take
