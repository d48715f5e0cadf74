"""``query test`` on PostgreSQL answers a common draft from a sample of the index's pages
(``TABLESAMPLE SYSTEM``) instead of reading every match: the thresholds are lowered here so a few
thousand mentions take the sample path. The estimate must be near the true count on a random
corpus, the answer must say it is partial, and the samples must stay the real newest matches;
below the threshold the count stays exact."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from resonanz.listening import history, history_scan, service
from resonanz.listening.service import matching_ids, try_query
from resonanz.mentions.ingest import store_batch
from resonanz.mentions.models import Mention
from resonanz.mentions.schemas import MentionIn
from tests.listening.factories import T0

N = 3_000
#: the estimate's tolerance: the samples below read about a third of a few dozen pages; the
#: ratio estimate's error on this corpus is about 3 % (one standard deviation)
TOLERANCE = 0.15


@pytest.fixture(autouse=True)
def _postgres_only(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the page sample is PostgreSQL's (SQLite counts with FTS5, exactly)")


def _corpus(session: Session) -> dict[str, set[int]]:
    """``N`` mentions over about a year, each word drawn at random (independent of id and page):
    "bahn" in 60 %, the hashtag #chaos in two thirds of those with the word "chaos", lang de in
    half. Returns the ids each draft truly matches."""
    rng = random.Random(11)
    items, truth = [], {"bahn": [], "#chaos": [], "bahn lang:de": [], "selten": []}
    flags = []
    for i in range(N):
        bahn, chaos, tag, de, rare = (rng.random() < p for p in (0.6, 0.9, 0.66, 0.5, 0.004))
        words = ["heute", *(["bahn"] if bahn else []), *((["#chaos"] if tag else ["chaos"]) if chaos else [])]
        words += ["selten"] if rare else []
        rng.shuffle(words)
        items.append(
            MentionIn(
                platform="feed", external_id=f"s-{i}", published_at=T0 + timedelta(hours=3 * i), text=" ".join(words)
            )
        )
        flags.append((bahn, chaos and tag, de, rare))
    store_batch(session, items, source_id=None, now=T0)
    ids = dict(session.execute(Mention.__table__.select().with_only_columns(Mention.external_id, Mention.id)).all())
    for i, (bahn, tag, de, rare) in enumerate(flags):
        mid = ids[f"s-{i}"]
        for name, hit in (("bahn", bahn), ("#chaos", tag), ("bahn lang:de", bahn and de), ("selten", rare)):
            if hit:
                truth[name].append(mid)
        if de:
            truth.setdefault("_de", []).append(mid)
    session.execute(update(Mention).where(Mention.id.in_(truth["_de"])).values(lang="de"))
    session.commit()
    return {k: set(v) for k, v in truth.items()}


def _near(estimate: int | None, true: int) -> bool:
    return estimate is not None and abs(estimate - true) <= TOLERANCE * true


@pytest.mark.parametrize("draft", ["bahn", "bahn lang:de"])
def test_a_common_exact_draft_is_estimated_from_a_page_sample(
    session: Session, monkeypatch: pytest.MonkeyPatch, draft: str
) -> None:
    truth = _corpus(session)[draft]
    monkeypatch.setattr(service, "PG_PROBE_ROWS", 900)  # a third of the index: the sample path
    monkeypatch.setattr(service, "PG_EXACT_MAX", 100)
    monkeypatch.setattr(service, "PG_CURVE_MATCHES", 400)
    result = try_query(session, query=draft, samples=5, time_limit_s=1.5)  # the editor's limit
    assert result.exact and result.truncated
    assert 0 < result.count < len(truth) and _near(result.estimate, len(truth)), (result.estimate, len(truth))
    assert 0.05 < result.scanned_share < 0.9 and result.curve_every >= 2
    # the curve is scaled to the estimate, and its pages come from all over the history (whole
    # pages: here each holds a few weeks, so the sampled days come in runs)
    assert abs(sum(c for _, c in result.curve) - result.estimate) <= len(result.curve)
    first, last = (date.fromisoformat(result.curve[i][0]) for i in (0, -1))
    assert (last - first).days >= 150
    # the samples are still the real newest matches
    assert [s.id for s in result.samples] == matching_ids(session, draft, limit=5)
    # the same draft gives the same answer (the sample's seed is fixed)
    again = try_query(session, query=draft, samples=5, time_limit_s=1.5)
    assert (again.count, again.estimate, again.curve) == (result.count, result.estimate, result.curve)
    # a caller with a longer limit (the CLI's 10 s) gets the exact count
    exact = try_query(session, query=draft, samples=5)
    assert not exact.truncated and exact.count == len(truth) and exact.estimate is None


def test_below_the_threshold_the_count_is_exact(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    truth = _corpus(session)
    monkeypatch.setattr(service, "PG_PROBE_ROWS", 900)
    monkeypatch.setattr(service, "PG_EXACT_MAX", 100)
    rare = try_query(session, query="selten", samples=3, time_limit_s=1.5)  # about 12 matches: counted exactly
    assert not rare.truncated and rare.count == len(truth["selten"]) and rare.estimate is None
    assert sum(c for _, c in rare.curve) == rare.count and rare.curve_every == 1
    assert [s.id for s in rare.samples] == matching_ids(session, "selten", limit=3)
    # the default thresholds: a few thousand matches are counted exactly (the probe reads all)
    monkeypatch.undo()
    common = try_query(session, query="bahn", time_limit_s=1.5)
    assert not common.truncated and common.count == len(truth["bahn"]) and common.scanned_share == 1.0


def test_a_checked_draft_with_many_candidates_checks_a_page_sample(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = _corpus(session)["#chaos"]
    monkeypatch.setattr(history_scan, "PROBE_ROWS", 900)
    result = try_query(session, query="#chaos", samples=5, max_candidates=600)
    assert not result.exact and result.truncated
    assert result.candidates is not None and _near(result.candidates, round(0.9 * N))
    # about 600 rows of a few dozen pages (whole pages: the number read varies)
    assert 100 <= result.checked <= 1_500 and 0.03 < result.scanned_share < 0.6
    assert 0 < result.count < len(truth) and _near(result.estimate, len(truth)), (result.estimate, len(truth))
    assert abs(sum(c for _, c in result.curve) - (result.estimate or 0)) <= len(result.curve)
    assert [s.id for s in result.samples] == matching_ids(session, "#chaos", limit=5)
    # the whole index read by the first sample: every candidate checked, exact
    monkeypatch.undo()
    full = try_query(session, query="#chaos", samples=5)
    assert not full.truncated and full.count == len(truth) and full.candidates == full.checked


def test_the_sample_reads_the_whole_index_when_asked_for_all_of_it(session: Session) -> None:
    truth = _corpus(session)["bahn"]
    total = history.indexed_rows(session)
    assert total == N
    whole = history.sample_index(session, "'bahn'", 100.0, total=total)
    assert whole.share == 1.0 and whole.scale == 1.0 and set(whole.ids) == truth
    part = history.sample_index(session, "'bahn'", 30.0, total=total)
    assert 0 < part.rows < N and set(part.ids) < truth and _near(part.estimate, len(truth))
