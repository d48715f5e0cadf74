"""Analytics over the rollups: local-time buckets across DST, sentiment, share of voice, facets,
top lists and emerging terms, against numbers worked out by hand."""

from __future__ import annotations

import bisect
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.listening import analytics, analytics_tops
from resonanz.listening.analytics import Scope, bucket_bounds
from resonanz.listening.analytics_tops import MIN_COUNT
from resonanz.listening.models import QueryMatch
from resonanz.listening.rollups import rebuild, sample_level
from resonanz.mentions.models import Mention
from tests.listening.dashboards_data import author, brand, mention, query, source


def _scope(**kw: object) -> Scope:
    values: dict[str, object] = {"since": datetime(2026, 3, 28, tzinfo=UTC), "until": datetime(2026, 3, 31, tzinfo=UTC)}
    values.update(kw)
    return Scope.model_validate(values)


def test_day_buckets_follow_local_midnight_across_the_spring_dst_change(session: Session) -> None:
    # one mention at every UTC hour from 27 March 22:00 UTC (28 March 00:00 in Berlin) for 3 days
    start = datetime(2026, 3, 27, 23, tzinfo=UTC)
    for h in range(72):
        mention(session, start + timedelta(hours=h, minutes=30))
    rebuild(session)
    scope = _scope(
        since=datetime(2026, 3, 28, 0, tzinfo=UTC), until=datetime(2026, 3, 30, 12, tzinfo=UTC), tz="Europe/Berlin"
    )
    vol = analytics.volume(session, scope=scope)
    # 28 March (CET, 24 h), 29 March (23 h: clocks go forward), 30 March (CEST)
    assert [p.start.isoformat() for p in vol.points] == [
        "2026-03-28T00:00:00+01:00",
        "2026-03-29T00:00:00+01:00",
        "2026-03-30T00:00:00+02:00",
    ]
    assert [p.count for p in vol.points] == [24, 23, 24]  # the 72nd hour is 31 March
    hourly = analytics.volume(session, scope=scope.model_copy(update={"interval": "hour"}))
    dst_day = [p for p in hourly.points if p.start.date().isoformat() == "2026-03-29"]
    assert len(dst_day) == 23
    assert all(p.count == 1 for p in hourly.points)


def test_week_buckets_start_on_local_monday() -> None:
    scope = _scope(since=datetime(2026, 3, 25, tzinfo=UTC), until=datetime(2026, 4, 7, tzinfo=UTC), interval="week")
    bounds = bucket_bounds(scope.model_copy(update={"tz": "Europe/Berlin"}))
    assert [b.astimezone(scope.zone).isoformat() for b in bounds][:2] == [
        "2026-03-22T23:00:00+00:00",
        "2026-03-29T22:00:00+00:00",
    ]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"interval": "minute"}, "interval"),
        ({"since": datetime(2026, 4, 1, tzinfo=UTC)}, None),
        ({"since": datetime(2020, 1, 1, tzinfo=UTC)}, None),
        ({"since": datetime(2025, 12, 1, tzinfo=UTC), "interval": "hour"}, None),
        ({"query_ids": [0]}, "query_ids"),
    ],
)
def test_bad_scopes_are_refused_with_the_field(values: dict[str, object], field: str | None) -> None:
    with pytest.raises(ValidationError) as err:
        _scope(**values)
    if field:
        assert err.value.errors()[0]["loc"][0] == field


def test_sentiment_split_and_net_sentiment(session: Session) -> None:
    day = datetime(2026, 3, 28, 10, tzinfo=UTC)
    for label, n in (("positive", 3), ("negative", 1), ("neutral", 4), (None, 2)):
        for _ in range(n):
            mention(session, day, sentiment=label)
    rebuild(session)
    result = analytics.sentiment_over_time(session, scope=_scope())
    assert (result.positive, result.negative, result.neutral, result.unknown) == (3, 1, 4, 2)
    assert result.net == pytest.approx((3 - 1) / 8)
    assert [p.net for p in result.points] == [pytest.approx(0.25), None, None]


def test_share_of_voice_counts_each_brands_distinct_mentions(session: Session) -> None:
    own, rival = brand(session, "Nordwelle"), brand(session, "Wellenreiter", "competitor")
    q1, q2 = query(session, "nw-1", own.id), query(session, "nw-2", own.id)
    q3 = query(session, "wr", rival.id)
    t = datetime(2026, 3, 29, 9, tzinfo=UTC)
    for _ in range(3):
        mention(session, t, queries=(q1.id, q2.id))  # matched twice, counts once for the brand
    mention(session, t, queries=(q2.id,))
    mention(session, t, queries=(q3.id,))
    mention(session, t)  # no brand
    rebuild(session)
    sov = analytics.share_of_voice(session, scope=_scope())
    assert [(i.name, i.role, i.count) for i in sov.items] == [
        ("Nordwelle", "own", 4),
        ("Wellenreiter", "competitor", 1),
    ]
    assert [i.share for i in sov.items] == [pytest.approx(0.8), pytest.approx(0.2)]
    assert sum(p.counts[0] for p in sov.points) == 4
    per_query = analytics.share_of_voice(session, scope=_scope(query_ids=[q1.id, q2.id]))
    assert [(i.kind, i.count) for i in per_query.items] == [("query", 3), ("query", 4)]
    assert analytics.volume(session, scope=_scope(brand_ids=[own.id])).total == 4


def test_facets_and_tops(session: Session) -> None:
    src = source(session, "Feed <b>")
    big, small = author(session, "big", 5000, "<script>x</script>"), author(session, "small", 10)
    t = datetime(2026, 3, 29, 9, tzinfo=UTC)
    ents = {
        "keyphrases": ["akku", "und"],
        "hashtags": ["#Bahn"],
        "urls": ["https://x.example/a"],
        "domains": ["x.example"],
    }
    mention(session, t, lang="de", source_id=src.id, author_id=big.id, entities=ents)
    for _ in range(3):
        mention(session, t, lang="en", platform="bluesky", author_id=small.id, entities={"hashtags": ["#bahn", "#zug"]})
    rebuild(session)
    scope = _scope()
    langs = analytics.languages(session, scope=scope)
    assert [(i.key, i.count) for i in langs.items] == [("en", 3), ("de", 1)]
    srcs = {i.label: (i.count, i.reach) for i in analytics.sources(session, scope=scope).items}
    assert srcs == {"0": (3, 30), "Feed <b>": (1, 5000)}
    tags = analytics.top_hashtags(session, scope=scope)
    assert [(i.value, i.count) for i in tags.items] == [("#bahn", 4), ("#zug", 3)]
    assert not tags.sampled and tags.total == 4
    assert [i.value for i in analytics.top_terms(session, scope=scope).items] == ["akku"]  # "und" is a stop word
    assert [i.value for i in analytics.top_domains(session, scope=scope).items] == ["x.example"]
    by_reach = analytics.top_authors(session, scope=scope, by="reach")
    by_volume = analytics.top_authors(session, scope=scope, by="volume")
    assert [a.handle for a in by_reach.items] == ["big", "small"]
    assert [(a.handle, a.count) for a in by_volume.items] == [("small", 3), ("big", 1)]


def test_emerging_terms_need_growth_and_the_minimum_count(session: Session) -> None:
    start = datetime(2026, 3, 23, tzinfo=UTC)  # a Monday: the range is exactly one week
    scope = _scope(since=start, until=start + timedelta(days=7), interval="week", tz="UTC")
    assert bucket_bounds(scope) == [start, start + timedelta(days=7)]
    # baseline: 4 weeks before, "akku" twice a week, "lieferung" 8 a week
    for week in range(1, 5):
        for i in range(2):
            mention(session, start - timedelta(days=7 * week) + timedelta(hours=i), entities={"keyphrases": ["akku"]})
        for i in range(8):
            mention(
                session, start - timedelta(days=7 * week) + timedelta(hours=i), entities={"keyphrases": ["lieferung"]}
            )
    # this week: akku 10 (5x), lieferung 9 (no growth), "rückruf" 6 (new), "selten" 2 (below the floor)
    for term, n in (("akku", 10), ("lieferung", 9), ("rückruf", 6), ("selten", MIN_COUNT - 3)):
        for i in range(n):
            mention(session, start + timedelta(hours=i), entities={"keyphrases": [term]})
    rebuild(session)
    found = analytics.emerging_terms(session, scope=scope)
    # ranked by growth: rückruf 6 / max(0, 1) = 6.0 before akku 10 / 2 = 5.0
    assert [(t.term, t.current, t.baseline, t.new) for t in found.items] == [
        ("rückruf", 6, 0.0, True),
        ("akku", 10, 2.0, False),
    ]
    assert {t.term: t.growth for t in found.items} == {"akku": 5.0, "rückruf": 6.0}
    assert found.baseline_since == start - timedelta(days=28)


def test_dashboard_holds_everything_and_is_json(session: Session) -> None:
    mention(session, datetime(2026, 3, 29, 9, tzinfo=UTC), entities={"hashtags": ["#a"]})
    rebuild(session)
    board = analytics.dashboard(session, scope=_scope(tz="Europe/Berlin"))
    assert board.volume.total == 1 and board.top_hashtags.items[0].value == "#a"
    assert '"interval":"day"' in board.model_dump_json()


def test_tops_read_an_even_sample_of_a_large_range(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics_tops, "SAMPLE", 20)
    start = datetime(2026, 3, 29, tzinfo=UTC)
    for i in range(400):
        mention(session, start + timedelta(minutes=3 * i), entities={"hashtags": ["#all"]})
    rebuild(session)
    scope = _scope(since=start, until=start + timedelta(days=1), tz="UTC")
    tags = analytics.top_hashtags(session, scope=scope)
    assert tags.sampled and tags.total == 400
    # a random 1 in 16 (level >= 4): 25 expected, binomial spread
    assert 10 <= tags.sample_size <= 45 and tags.items[0].count == tags.sample_size
    # spread over the range, not the newest few: the sample spans most of its 20 hours
    ids = analytics_tops.sample_ids(session, scope, start, start + timedelta(days=1), total=400, limit=20)
    published = sorted(session.get(Mention, i).published_at for i in ids)  # type: ignore[union-attr]
    assert published[-1] - published[0] >= timedelta(hours=15)


def test_sampling_levels_halve_with_each_level() -> None:
    levels = Counter(sample_level(i) for i in range(1, 2**16 + 1))
    for level in range(8):
        at_least = sum(n for lv, n in levels.items() if lv >= level)
        assert at_least == pytest.approx(2**16 / 2**level, rel=0.1)


def test_a_scope_is_sampled_from_its_own_mentions_by_level_or_by_its_index(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide, narrow = query(session, "wide"), query(session, "narrow")
    start = datetime(2026, 3, 29, tzinfo=UTC)
    for i in range(600):
        picked = (wide.id, narrow.id) if i % 10 == 1 else (wide.id,)
        mention(session, start + timedelta(minutes=2 * i), queries=picked if i % 5 else ())
    rebuild(session)
    end = start + timedelta(days=1)
    members = {q: set(session.scalars(select(QueryMatch.mention_id).where(QueryMatch.query_id == q))) for q in
               (wide.id, narrow.id)}  # fmt: skip
    by_level: list[int] = []
    real = analytics_tops._level_sample

    def spy(*args: Any, **kw: Any) -> list[int] | None:
        found = real(*args, **kw)
        by_level.append(found is not None)
        return found

    monkeypatch.setattr(analytics_tops, "_level_sample", spy)
    for qid, total in ((wide.id, 480), (narrow.id, 60)):
        scope = _scope(since=start, until=end, tz="UTC", query_ids=[qid])
        ids = analytics_tops.sample_ids(session, scope, start, end, total=total, limit=20)
        assert ids and set(ids) <= members[qid]
        assert len(set(ids)) == len(ids)
    # the wide query (4 in 5 mentions) reads the ledger; the narrow one (1 in 10) its own index
    assert by_level == [True, False]


def test_several_queries_and_brands_chosen_together_count_each_mention_once(session: Session) -> None:
    """Issue 5: a mention matched by two chosen queries (or by the queries of two chosen brands)
    is one mention in the volume, the sentiment split, the facets and the top lists alike."""
    own, rival = brand(session, "Own"), brand(session, "Rival", "competitor")
    a, b, c = query(session, "a", own.id), query(session, "b", rival.id), query(session, "c")
    day = datetime(2026, 3, 29, 10, tzinfo=UTC)
    tags = {"keyphrases": ["zug"], "hashtags": [], "urls": [], "domains": []}
    mention(session, day, queries=(a.id, b.id), sentiment="negative", lang="en", entities=tags)
    mention(session, day, queries=(a.id, b.id, c.id), sentiment="negative", entities=tags)
    mention(session, day + timedelta(hours=1), queries=(a.id,), entities=tags)
    mention(session, day, queries=(b.id,), lang="fr", entities=tags)
    mention(session, day, queries=(c.id,))
    mention(session, day)  # matched by nothing
    rebuild(session)
    # (chosen, mentions, of them with the term "zug")
    for chosen, expected, with_term in (
        ({"query_ids": [a.id, b.id]}, 4, 4),
        ({"brand_ids": [own.id, rival.id]}, 4, 4),
        ({"query_ids": [a.id], "brand_ids": [rival.id]}, 4, 4),
        ({"query_ids": [a.id, b.id, c.id]}, 5, 4),
        ({"query_ids": [c.id], "brand_ids": [own.id]}, 4, 3),
        ({"query_ids": [a.id]}, 3, 3),
        ({}, 6, 4),
    ):
        board = analytics.dashboard(session, scope=_scope(**chosen))
        assert board.volume.total == expected, chosen
        sent = board.sentiment
        assert sent.positive + sent.negative + sent.neutral + sent.unknown == expected
        for facet in (board.languages, board.platforms, board.sources):
            assert facet.total == expected
        assert board.top_terms.total == expected
        assert [(i.value, i.count) for i in board.top_terms.items] == [("zug", with_term)]
    # the API's single functions say the same as the dashboard
    both = _scope(query_ids=[a.id, b.id])
    assert analytics.volume(session, scope=both).total == 4
    assert analytics.languages(session, scope=both).total == 4
    assert {i.key: i.count for i in analytics.languages(session, scope=both).items} == {"de": 2, "en": 1, "fr": 1}
    assert analytics.top_terms(session, scope=both).items[0].count == 4


def test_utc_days_come_from_the_daily_rollups_and_facets_add_the_ragged_ends(session: Session) -> None:
    # a mention every 3 hours over 4 days from 28 March 01:30 UTC
    start = datetime(2026, 3, 28, 1, 30, tzinfo=UTC)
    for h in range(0, 96, 3):
        mention(session, start + timedelta(hours=h), lang="en" if h % 2 else "de")
    rebuild(session)
    utc = _scope(since=datetime(2026, 3, 28, tzinfo=UTC), until=datetime(2026, 4, 1, tzinfo=UTC))
    assert [p.count for p in analytics.volume(session, scope=utc).points] == [8, 8, 8, 8]
    weekly = analytics.sentiment_over_time(session, scope=utc.model_copy(update={"interval": "week"}))
    assert [p.neutral for p in weekly.points] == [16, 16]  # Monday 30 March starts the second week
    # a range that starts and ends mid-day: whole days from rollup_day, the ends from rollup_hour
    ragged = _scope(
        since=datetime(2026, 3, 28, 5, tzinfo=UTC), until=datetime(2026, 3, 31, 5, tzinfo=UTC), interval="hour"
    )
    expected = sum(1 for h in range(0, 96, 3) if ragged.since <= start + timedelta(hours=h) < ragged.until)
    langs = analytics.languages(session, scope=ragged)
    assert langs.total == expected == analytics.volume(session, scope=ragged).total
    in_range = [h for h in range(0, 96, 3) if ragged.since <= start + timedelta(hours=h) < ragged.until]
    assert {i.key: i.count for i in langs.items} == {
        "de": sum(1 for h in in_range if h % 2 == 0),
        "en": sum(1 for h in in_range if h % 2),
    }


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "UTC"])
@pytest.mark.parametrize("interval", ["day", "week"])
def test_day_and_week_series_from_daily_rollups_equal_raw_counts(session: Session, tz: str, interval: str) -> None:
    """Running sums anchored at UTC midnights give every local day/week exactly its mentions, across
    both DST changes of 2026 and for zones off UTC by -5 h, +5:30 h (hourly path) and +13:45 h."""
    rng = random.Random(len(tz))
    own = query(session, "own")
    start = datetime(2026, 3, 20, tzinfo=UTC)
    published = [start + timedelta(minutes=rng.randrange(60 * 24 * 240)) for _ in range(400)]
    for at in published:
        mention(session, at, sentiment=rng.choice(["positive", "negative", None]), queries=(own.id,))
    rebuild(session)
    for since, days in ((datetime(2026, 3, 25, 7, tzinfo=UTC), 12), (datetime(2026, 10, 20, tzinfo=UTC), 14),
                        (datetime(2026, 4, 2, 13, tzinfo=UTC), 150)):  # fmt: skip
        scope = _scope(since=since, until=since + timedelta(days=days), tz=tz, interval=interval)
        bounds = bucket_bounds(scope)
        expected = [0] * (len(bounds) - 1)
        for at in published:
            i = bisect.bisect_right(bounds, at.replace(minute=0)) - 1
            if 0 <= i < len(expected):
                expected[i] += 1
        assert [p.count for p in analytics.volume(session, scope=scope).points] == expected
        sent = analytics.sentiment_over_time(session, scope=scope)
        assert [p.positive + p.negative + p.neutral + p.unknown for p in sent.points] == expected
        board = analytics.dashboard(session, scope=scope.model_copy(update={"query_ids": [own.id]}))
        assert [p.count for p in board.volume.points] == expected
        assert [p.counts[0] for p in board.share_of_voice.points] == expected
