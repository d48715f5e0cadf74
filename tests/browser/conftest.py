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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import select, text

from resonanz.accounts.actions import do_create_user
from resonanz.accounts.permissions import Role
from resonanz.analysis.jobs import ANALYSIS_KIND
from resonanz.config import Settings
from resonanz.db.database import Database, open_database
from resonanz.db.engine import transaction
from resonanz.demo.users import DEMO_PASSWORD, DEMO_USERS, do_ensure_demo_users
from resonanz.demo.workspace import load_demo
from resonanz.mentions.models import Mention
from resonanz.sources.imports import import_file
from resonanz.sources.models import Source
from resonanz.worker.runner import drain
from tests.browser.browser_xss_corpus import XSS_SOURCE, write_xss_file
from tests.support import accounts_factory  # noqa: F401  (cheap argon2 parameters for the people below)

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


@dataclass(frozen=True)
class Person:
    email: str
    display_name: str
    password: str = DEMO_PASSWORD


#: Who signs in: the demo's own users (what a new user of ``resonanz demo`` meets) plus people
#: whose state a test changes (language, sessions), so no test disturbs another.
PEOPLE: dict[str, Person] = {
    **{u.role.value: Person(u.email, u.display_name) for u in DEMO_USERS},
    "viewer": Person("viewer@example.test", "Vera Viewer"),
    "switcher": Person("switcher@example.test", "Sami Switcher"),
    "leaver": Person("leaver@example.test", "Lea Leaver"),
}
_EXTRA_ROLES = {"viewer": Role.viewer, "switcher": Role.analyst, "leaver": Role.agent}


@dataclass
class Workspace:
    """What the browser tests run against."""

    url: str
    database_url: str
    xss_mention_ids: list[int] = field(default_factory=list)
    #: a demo reply and the mention it answers (the thread view)
    reply_id: int = 0
    parent_id: int = 0


@contextmanager
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


def _build(db: Database, tmp: Path) -> tuple[list[int], int, int]:
    """Demo data + the XSS corpus, analysed, and the people; returns the ids of the XSS mentions
    and of a demo reply and its parent."""
    load_demo(db, scale=DEMO_SCALE)
    run = import_file(db, path=write_xss_file(tmp / "xss.jsonl"), source_name=XSS_SOURCE)
    assert run.new > 0, "the XSS corpus must land, or the XSS test proves nothing"
    drain(db, kinds=[ANALYSIS_KIND])
    with transaction(db.sessions) as session:
        do_ensure_demo_users(session, password=DEMO_PASSWORD)
        for key, role in _EXTRA_ROLES.items():
            person = PEOPLE[key]
            do_create_user(
                session,
                email=person.email,
                display_name=person.display_name,
                password=person.password,
                role=role,
                language="en",
                actor=None,
            )
    with db.sessions() as session:
        ids = session.scalars(
            select(Mention.id).join(Source, Source.id == Mention.source_id).where(Source.name == XSS_SOURCE)
        )
        reply = session.scalars(
            select(Mention)
            .join(Source, Source.id == Mention.source_id)
            .where(Source.name != XSS_SOURCE, Mention.parent_id.is_not(None))
            .order_by(Mention.id)
            .limit(1)
        ).one()
        assert reply.parent_id is not None
        return sorted(ids), reply.id, reply.parent_id


def _wait_until_up(url: str, proc: subprocess.Popen[str], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text()}")
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
    with _database_url(tmp) as database_url:
        settings = Settings(data_dir=tmp, database_url=database_url, worker_threads=0)
        db = open_database(settings)  # migrated here, before the server opens it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "RESONANZ_DATABASE_URL": database_url, "RESONANZ_DATA_DIR": str(tmp)}
        log_path = tmp / "server.log"
        log = log_path.open("w")
        # the server starts (imports, app) while the workspace is built: the pages read it per request
        proc = subprocess.Popen(
            [sys.executable, "-m", "resonanz.cli", "serve", "--port", str(port), "--workers", "0"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            xss_ids, reply_id, parent_id = _build(db, tmp)
            _wait_until_up(url, proc, log_path)
            yield Workspace(url, database_url, xss_ids, reply_id=reply_id, parent_id=parent_id)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            db.dispose()


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


def sign_in(page: Page, person: Person, *, password: str | None = None) -> None:
    """Sign in through the form (field names are the form's contract: email, password)."""
    if "/login" not in page.url:
        page.goto("/login")
    page.locator("input[name=email]").fill(person.email)
    page.locator("input[name=password]").fill(password or person.password)
    page.locator("input[name=password]").press("Enter")
    if password is None:
        page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def _signed_in_states() -> dict[str, object]:
    return {}


@pytest.fixture
def signed_in(new_context: Callable[..., BrowserContext], _signed_in_states: dict[str, object]) -> Callable[..., Page]:
    """``signed_in("admin", viewport=…)`` -> a page of a context signed in as that person. The
    sign-in goes through the form once per person and session; later contexts reuse its cookies."""

    def make(who: str, **options: object) -> Page:
        if who not in _signed_in_states:
            page = new_context().new_page()
            sign_in(page, PEOPLE[who])
            _signed_in_states[who] = page.context.storage_state()
        return new_context(storage_state=_signed_in_states[who], **options).new_page()

    return make


#: Commits are size-limited: a screenshot must stay below this. Wide pages are shot at SHOT_WIDE.
MAX_SCREENSHOT_BYTES = 150_000
SHOT_WIDE = {"width": 1200, "height": 750}


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], None]:
    """``screenshot(page, name)`` writes docs/screenshots/<name>.png when run with --screenshots.
    Desktop pages are shot at 1200x750 (then the viewport is restored) to keep the PNG small."""

    def take(page: Page, name: str) -> None:
        if not request.config.getoption("--screenshots", default=False):
            return
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        viewport = page.viewport_size
        wide = viewport is not None and viewport["width"] > SHOT_WIDE["width"]
        if wide:
            page.set_viewport_size(SHOT_WIDE)
        page.evaluate("window.scrollTo(0, 0)")
        try:
            page.screenshot(path=str(path), full_page=False, animations="disabled", caret="hide")
        finally:
            if wide and viewport is not None:
                page.set_viewport_size(viewport)
        assert path.stat().st_size < MAX_SCREENSHOT_BYTES, f"{path} is {path.stat().st_size:,} bytes"

    return take
