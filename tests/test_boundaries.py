"""Layering rules from STYLE.md, checked on the source tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "resonanz"
ENTRY_POINTS = {"api", "web", "cli", "worker"}
FRAMEWORKS = ("fastapi", "starlette", "typer", "rich", "uvicorn", "jinja2")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(*, exclude_top: set[str]) -> list[Path]:
    return [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in exclude_top]


@pytest.mark.parametrize("path", modules(exclude_top=ENTRY_POINTS), ids=lambda p: str(p.relative_to(SRC)))
def test_business_code_imports_no_web_or_cli_framework(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] in FRAMEWORKS}
    assert not bad, f"{path.relative_to(SRC)} imports {bad}: raise a domain error and let the entry point map it"


@pytest.mark.parametrize("path", sorted((SRC / "connectors").rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_connectors_never_touch_the_database(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.startswith(("sqlalchemy", "resonanz.db", "resonanz.sources"))}
    assert not bad, f"{path.relative_to(SRC)} imports {bad}: connectors return raw items; the runner persists"


@pytest.mark.parametrize("path", sorted(SRC.rglob("parse.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_parse_modules_are_pure(path: Path) -> None:
    bad = {m for m in imports_of(path) if m.split(".")[0] in {"httpx", "requests", "socket", "urllib3"}}
    assert not bad, f"{path.relative_to(SRC)} does I/O ({bad}); parse steps must be pure"


def test_no_grab_bag_utils_module() -> None:
    assert not list(SRC.rglob("utils.py"))


def test_no_naive_utcnow() -> None:
    offenders = [p for p in SRC.rglob("*.py") if "utcnow(" in p.read_text(encoding="utf-8")]
    assert not offenders, f"use resonanz.clock.now(): {offenders}"
