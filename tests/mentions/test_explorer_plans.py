"""The explorer's SQL uses the indexes it was written for (SQLite: EXPLAIN QUERY PLAN), and the
expression the engagement sort uses is the one migration 0004 indexed."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from tests.mentions.explorer_world import build

from resonanz.mentions import explorer_plan
from resonanz.mentions.explorer import ExplorerQuery, _plan

migration = importlib.import_module("resonanz.db.migrations.versions.0004_explorer_indexes")


def test_engagement_expression_matches_the_migration() -> None:
    assert explorer_plan.ENGAGEMENT_SQLITE == migration.ENGAGEMENT_SQLITE
    assert explorer_plan.ENGAGEMENT_POSTGRESQL == migration.ENGAGEMENT_POSTGRESQL


def _explain(session: Session, query: ExplorerQuery, after: tuple[object, int] | None = None) -> str:
    plan = _plan(session, query)
    assert plan is not None
    plan.after = after
    _how, driver = plan._choose(plan.sizes(session))
    plan.params = {}
    sql = plan._walk(driver, 51, with_match=True)
    return " | ".join(str(r[3]) for r in session.execute(text("EXPLAIN QUERY PLAN " + sql), plan.params))


@pytest.mark.parametrize(
    ("spec", "after", "want"),
    [
        ({}, None, "COVERING INDEX ix_mention_published"),
        ({"langs": ["de"]}, None, "INDEX ix_mention_lang_published (lang=?)"),
        ({"langs": ["de", "en"]}, None, "INDEX ix_mention_lang_published (lang=?)"),
        ({"langs": ["de"], "sentiments": ["negative"]}, None, "COVERING INDEX ix_mention_published"),
        ({"sort": "engagement"}, (3, 10), "INDEX ix_mention_engagement (<expr>=? AND id<?)"),
        ({"sort": "engagement"}, (3, 10), "INDEX ix_mention_engagement (<expr><?)"),
        ({"source_ids": [1]}, ("2026-03-01 12:00:00.000000", 5), "ix_mention_source_id_published (source_id=? AND"),
    ],
)
def test_sqlite_walks_use_the_indexes(
    session: Session, is_pg: bool, monkeypatch: pytest.MonkeyPatch, spec: dict[str, object], after: object, want: str
) -> None:
    if is_pg:
        pytest.skip("SQLite plans; PostgreSQL plans by its statistics")
    build(session, count=12)
    monkeypatch.setattr(explorer_plan, "SMALL", 2)  # every filter is "broad"
    plan = _explain(session, ExplorerQuery.model_validate(spec), after)  # type: ignore[arg-type]
    assert want in plan, plan
    # the index gives each branch its order: no sort right after reading mention (a union's
    # merge sorts at most one page per branch, which is fine)
    steps = plan.split(" | ")
    for i, step in enumerate(steps[:-1]):
        if step.startswith(("SEARCH mention", "SCAN mention")):
            assert "TEMP B-TREE" not in steps[i + 1], plan
