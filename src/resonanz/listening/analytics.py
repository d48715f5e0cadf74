"""Dashboard numbers for a :class:`Scope`: volume, sentiment, share of voice, facets, tops, emerging terms.

Time series and facets read the rollups (:mod:`resonanz.listening.rollups`), never raw
mentions: a 90-day hourly chart is at most 2,160 hours x a few values; facets and range totals
read whole UTC days from the daily rollups and only the ragged ends hourly. Several queries or
brands chosen together count each mention once (the rollups' match sets), in every chart and list
(share of voice compares the chosen items, so there a mention counts for each item it matches). Hours are UTC; they are
regrouped here into the user's buckets (hour, or day/week starting at local midnight/Monday, so a
DST day has 23 or 25 hours). Zones with a half-hour offset put each UTC hour in the bucket where it
starts. Terms, hashtags, links and authors read an even sample of the range (see
:mod:`resonanz.listening.analytics_tops`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.listening.analytics_buckets import (
    BucketIndex,
    bucket_bounds,
    dashboard_reads,
    range_sums,
    scope_members,
    series_sums,
)
from resonanz.listening.analytics_schemas import (
    Dashboard,
    Facet,
    FacetItem,
    Scope,
    SentimentPoint,
    SentimentSeries,
    ShareItem,
    ShareOfVoice,
    SharePoint,
    Volume,
    VolumePoint,
)
from resonanz.listening.analytics_tops import (
    emerging_terms,
    top_authors,
    top_domains,
    top_hashtags,
    top_links,
    top_terms,
    tops,
)
from resonanz.listening.models import Brand, BrandKind, Query
from resonanz.listening.rollup_models import Dim, ScopeKind
from resonanz.sources.models import Source

__all__ = [
    "Scope",
    "bucket_bounds",
    "dashboard",
    "emerging_terms",
    "languages",
    "platforms",
    "scope_members",
    "sentiment_over_time",
    "share_of_voice",
    "sources",
    "top_authors",
    "top_domains",
    "top_hashtags",
    "top_links",
    "top_terms",
    "volume",
]


def _volume(scope: Scope, bounds: Sequence[datetime], rows: Iterable[Any]) -> Volume:
    """Rows ``(time, ..., count, reach)``: the time first, count and reach last."""
    counts = [0] * (len(bounds) - 1)
    reach = [0] * (len(bounds) - 1)
    index = BucketIndex(bounds)
    for row in rows:
        i = index(row[0])
        if 0 <= i < len(counts):
            counts[i] += int(row[-2])
            reach[i] += int(row[-1])
    points = [
        VolumePoint(start=bounds[i].astimezone(scope.zone), end=bounds[i + 1].astimezone(scope.zone), count=c, reach=r)
        for i, (c, r) in enumerate(zip(counts, reach, strict=True))
    ]
    return Volume(interval=scope.interval, tz=scope.tz, points=points, total=sum(counts), reach=sum(reach))


def volume(session: Session, *, scope: Scope) -> Volume:
    """Mentions and reach per bucket (buckets without mentions are 0)."""
    return _volume(scope, bucket_bounds(scope), series_sums(session, scope, dim=Dim.total))


def net_sentiment(positive: int, negative: int, neutral: int) -> float | None:
    """(positive - negative) / (positive + negative + neutral), in [-1, 1]; None without labels."""
    labelled = positive + negative + neutral
    return (positive - negative) / labelled if labelled else None


def _sentiment(scope: Scope, bounds: Sequence[datetime], rows: Iterable[Any]) -> SentimentSeries:
    labels = ("positive", "negative", "neutral", "unknown")
    grid = [dict.fromkeys(labels, 0) for _ in range(len(bounds) - 1)]
    index = BucketIndex(bounds)
    for hour, sentiment, n, _r in rows:
        i = index(hour)
        if 0 <= i < len(grid):
            label = sentiment if sentiment in labels else "unknown"
            grid[i][label] += int(n)
    points = [
        SentimentPoint(
            start=bounds[i].astimezone(scope.zone),
            end=bounds[i + 1].astimezone(scope.zone),
            **cell,
            net=net_sentiment(cell["positive"], cell["negative"], cell["neutral"]),
        )
        for i, cell in enumerate(grid)
    ]
    totals = {label: sum(cell[label] for cell in grid) for label in labels}
    return SentimentSeries(
        points=points, **totals, net=net_sentiment(totals["positive"], totals["negative"], totals["neutral"])
    )


def sentiment_over_time(session: Session, *, scope: Scope) -> SentimentSeries:
    """Positive/negative/neutral/unknown per bucket and the net sentiment of each."""
    rows = series_sums(session, scope, dim=Dim.sentiment, by_value=True)
    return _sentiment(scope, bucket_bounds(scope), rows)


def share_of_voice(session: Session, *, scope: Scope) -> ShareOfVoice:
    """Mentions per brand (own against competitors) over the range and per bucket.

    The brands compared: ``scope.brand_ids`` if given; else, with ``scope.query_ids``, the queries
    themselves; else every brand. Shares are of the compared items' sum.
    """
    items: list[ShareItem] = []
    members: list[tuple[str, int]] = []
    if scope.query_ids and not scope.brand_ids:
        for qid, name in session.execute(
            select(Query.id, Query.name).where(Query.id.in_(scope.query_ids)).order_by(Query.id)
        ):
            items.append(ShareItem(kind="query", id=qid, name=name, role="query", count=0, share=0.0))
            members.append((ScopeKind.query.value, qid))
    else:
        stmt = select(Brand.id, Brand.name, Brand.kind).order_by(Brand.kind != BrandKind.own, Brand.name)
        if scope.brand_ids:
            stmt = stmt.where(Brand.id.in_(scope.brand_ids))
        for bid, name, kind in session.execute(stmt):
            items.append(ShareItem(kind="brand", id=bid, name=name, role=kind, count=0, share=0.0))
            members.append((ScopeKind.brand.value, bid))
    bounds = bucket_bounds(scope)
    grid = [[0] * len(items) for _ in range(len(bounds) - 1)]
    if members:
        position = {m: i for i, m in enumerate(members)}
        index = BucketIndex(bounds)
        for kind, sid, hour, n, _r in series_sums(session, scope, dim=Dim.total, by_scope=True, members=members):
            i = index(hour)
            if 0 <= i < len(grid):
                grid[i][position[(kind, sid)]] += int(n)
    total = 0
    for j, item in enumerate(items):
        item.count = sum(row[j] for row in grid)
        total += item.count
    for item in items:
        item.share = item.count / total if total else 0.0
    points = [
        SharePoint(start=bounds[i].astimezone(scope.zone), end=bounds[i + 1].astimezone(scope.zone), counts=row)
        for i, row in enumerate(grid)
    ]
    return ShareOfVoice(items=items, total=total, points=points)


def _facet(found: dict[tuple[str, str], tuple[int, int]], dim: Dim, labels: dict[str, str] | None = None) -> Facet:
    rows = [(value, n, r) for (d, value), (n, r) in found.items() if d == dim.value and n]
    total = sum(n for _k, n, _r in rows)
    items = [
        FacetItem(key=key, label=(labels or {}).get(key, key), count=n, reach=r, share=n / total if total else 0.0)
        for key, n, r in sorted(rows, key=lambda row: (-row[1], row[0]))
    ]
    return Facet(items=items, total=total)


def _facet_sums(session: Session, scope: Scope, dims: Sequence[Dim]) -> dict[tuple[str, str], tuple[int, int]]:
    bounds = bucket_bounds(scope)
    return range_sums(session, scope_members(session, scope), dims, bounds[0], bounds[-1])


def _source_names(session: Session, found: dict[tuple[str, str], tuple[int, int]]) -> dict[str, str]:
    ids = [int(v) for d, v in found if d == Dim.source.value and v.isdigit() and v != "0"]
    rows = session.execute(select(Source.id, Source.name).where(Source.id.in_(ids))).all() if ids else []
    return {str(sid): name for sid, name in rows}


def languages(session: Session, *, scope: Scope) -> Facet:
    """Mentions per language code (``""``: not detected)."""
    return _facet(_facet_sums(session, scope, [Dim.lang]), Dim.lang)


def platforms(session: Session, *, scope: Scope) -> Facet:
    """Mentions per platform."""
    return _facet(_facet_sums(session, scope, [Dim.platform]), Dim.platform)


def sources(session: Session, *, scope: Scope) -> Facet:
    """Mentions per configured source (key the source id, label its name; ``0``: no source)."""
    found = _facet_sums(session, scope, [Dim.source])
    return _facet(found, Dim.source, _source_names(session, found))


def dashboard(session: Session, *, scope: Scope) -> Dashboard:
    """Everything a dashboard shows for ``scope``, in one object, with shared reads: volume and
    sentiment from one series read, the three facets from one range read, the top lists from one
    sample (which emerging terms reuse for the current period), whose total comes with the facets."""
    with dashboard_reads(session):
        return _dashboard(session, scope)


def _dashboard(session: Session, scope: Scope) -> Dashboard:
    bounds = bucket_bounds(scope)
    series = series_sums(session, scope, dim=Dim.sentiment, by_value=True)
    facets = _facet_sums(session, scope, [Dim.total, Dim.lang, Dim.platform, Dim.source])
    top = tops(session, scope=scope, total=facets.get((Dim.total.value, ""), (0, 0))[0])
    return Dashboard(
        scope=scope,
        range_since=bounds[0].astimezone(scope.zone),
        range_until=bounds[-1].astimezone(scope.zone),
        volume=_volume(scope, bounds, series),
        sentiment=_sentiment(scope, bounds, series),
        share_of_voice=share_of_voice(session, scope=scope),
        languages=_facet(facets, Dim.lang),
        platforms=_facet(facets, Dim.platform),
        sources=_facet(facets, Dim.source, _source_names(session, facets)),
        top_terms=top.top(top.terms),
        top_hashtags=top.top(top.hashtags),
        top_links=top.top(top.links),
        top_domains=top.top(top.domains),
        authors_by_reach=top.author_list("reach"),
        authors_by_volume=top.author_list("volume"),
        emerging_terms=emerging_terms(session, scope=scope, current=top),
    )
