"""The stage runner: ordering, versioned results, staleness, isolation of a poisoned text,
resumable batches, and corrections that win over the model."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from resonanz.analysis.feedback import do_correct, training_feedback
from resonanz.analysis.jobs import id_ranges
from resonanz.analysis.models import AnalysisResult
from resonanz.analysis.registry import order_stages
from resonanz.analysis.runner import analyze_pending, count_pending, run_stages
from resonanz.analysis.stages.base import Doc, Result, Stage
from resonanz.config import Settings
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.errors import ConfigError, InputError
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import MentionIn


class Length(Stage):
    name = "length"
    version = "1"
    provides = ("chars",)

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        if any("POISON" in d.text for d in docs):
            raise ValueError("cannot handle poison")
        return [{"chars": len(d.text)} for d in docs]


class Mood(Stage):
    name = "mood"
    version = "1"
    requires = ("length",)
    calls: ClassVar[int] = 0

    def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
        Mood.calls += 1
        out: list[Result] = []
        for doc, up in zip(docs, upstream, strict=True):
            label = "negative" if "schlecht" in doc.text else "positive"
            out.append({"label": label, "long": up["length"].get("chars", 0) > 20})
        return out

    def columns(self, result: Result) -> dict[str, Any]:
        return {"sentiment": result["label"], "not_a_column": 1}


def stages(settings: Settings, mood_version: str = "1") -> list[Stage]:
    Mood.version = mood_version
    return [cls(settings) for cls in order_stages([Mood, Length])]


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    yield
    Mood.version = "1"


def seed(db: Database, texts: list[str]) -> list[int]:
    items = [
        MentionIn(platform="t", external_id=str(i), text=t, published_at=datetime(2026, 1, 1, tzinfo=UTC))
        for i, t in enumerate(texts)
    ]
    with transaction(db.sessions) as s:
        return store_batch(s, items, source_id=None, now=datetime(2026, 1, 2, tzinfo=UTC)).ids


def test_order_follows_requires_and_refuses_cycles_and_gaps(settings: Settings) -> None:
    assert [s.name for s in stages(settings)] == ["length", "mood"]

    class A(Stage):
        name, version, requires = "a", "1", ("b",)

        def run(self, docs: Sequence[Doc], upstream: Sequence[Mapping[str, Result]]) -> list[Result]:
            return []

    class B(A):
        name, requires = "b", ("a",)

    with pytest.raises(ConfigError, match="cycle: a -> b -> a"):
        order_stages([A, B])
    with pytest.raises(ConfigError, match="requires b"):
        order_stages([A])


def test_poisoned_text_costs_only_itself(settings: Settings) -> None:
    docs = [Doc(1, "gut"), Doc(2, "POISON"), Doc(3, "schlecht")]
    results = run_stages(stages(settings), docs)
    assert results[0]["length"] == {"chars": 3} and "error" in results[1]["length"]
    assert results[2]["mood"]["label"] == "negative" and results[1]["mood"] == {"label": "positive", "long": False}


def test_results_are_stored_projected_and_go_stale_with_a_new_version(db: Database, settings: Settings) -> None:
    ids = seed(db, ["ein schlechter Tag heute, wirklich", "gut", "okay"])
    report = analyze_pending(db.sessions, stages(settings), batch=2)
    assert (report.analysed, report.batches) == (3, 2)
    with db.sessions() as s:
        assert s.get(Mention, ids[0]).sentiment == "negative"  # type: ignore[union-attr]
        row = s.get(AnalysisResult, (ids[0], "mood"))
        assert row is not None and row.result == {"label": "negative", "long": True} and row.version == "1"
        assert count_pending(s, stages(settings)) == 0
        assert count_pending(s, stages(settings, mood_version="2")) == 3
    assert analyze_pending(db.sessions, stages(settings)).analysed == 0  # nothing pending: resumable, idempotent


def test_an_edit_makes_the_mention_pending_again(db: Database, settings: Settings) -> None:
    (mid,) = seed(db, ["alles gut"])
    analyze_pending(db.sessions, stages(settings))
    with transaction(db.sessions) as s:
        item = MentionIn(
            platform="t", external_id="0", text="jetzt schlecht", published_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        store_batch(s, [item], source_id=None, now=datetime(2026, 1, 3, tzinfo=UTC))
    assert analyze_pending(db.sessions, stages(settings)).analysed == 1
    with db.sessions() as s:
        assert s.get(Mention, mid).sentiment == "negative"  # type: ignore[union-attr]


def test_correction_wins_over_the_model_and_feeds_training(db: Database, settings: Settings) -> None:
    (mid,) = seed(db, ["schlecht gemacht, aber ironisch gemeint"])
    analyze_pending(db.sessions, stages(settings))
    with transaction(db.sessions) as s:
        entry = do_correct(s, mention_id=mid, task="sentiment", label="positive", actor="anna@example.org")
        assert entry.previous == "negative"
        with pytest.raises(InputError, match="not a sentiment label"):
            do_correct(s, mention_id=mid, task="sentiment", label="great", actor="x")
    analyze_pending(db.sessions, stages(settings, mood_version="2"))  # re-analysis keeps the correction
    with db.sessions() as s:
        assert s.get(Mention, mid).sentiment == "positive"  # type: ignore[union-attr]
        assert training_feedback(s, task="sentiment") == [("schlecht gemacht, aber ironisch gemeint", "positive", None)]
        assert s.scalars(select(AnalysisResult.version).where(AnalysisResult.stage == "mood")).all() == ["2"]


def test_id_ranges() -> None:
    assert id_ranges([5, 3, 4, 9, 10, 4]) == [[3, 5], [9, 10]]
    assert id_ranges([]) == []
