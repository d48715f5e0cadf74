"""Top terms, hashtags, links, domains and authors of a scope, and emerging terms.

Why a sample rather than rollups: terms and authors have unbounded cardinality (a rollup row per
term per hour would outgrow the mentions), and their lists come from the entities stage's stored
result (``analysis_result``, JSON). So one pass reads a random sample of about ``SAMPLE`` mentions
of the range (by sampling level from the rollup ledger, or every k-th id from a covering index)
and counts everything at once (PostgreSQL counts the entity lists in SQL: :data:`_ENTITY_COUNTS`).
When the range holds more, the lists say so (``sampled``, ``sample_size`` of ``total``: counts are
the sample's) and the page shows "counted over N of M". Measured at 1M mentions in
docs/benchmarks.md.

Emerging terms compare the range against the ``BASELINE_PERIODS`` equally long periods before it:
a term's count now against its mean count per period then ("12 this period vs 1.5 per period
before"); a term needs ``MIN_COUNT`` mentions now, so one odd post is no trend. Counts from a sample
are scaled to the period's exact total (from the rollups).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Integer, bindparam, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from resonanz.analysis.models import AnalysisResult
from resonanz.analysis.stopwords import STOPWORDS
from resonanz.db.engine import is_postgres
from resonanz.listening.analytics_buckets import bucket_bounds, range_sums, scope_members, total_in
from resonanz.listening.analytics_schemas import (
    AuthorItem,
    AuthorList,
    EmergingTerm,
    EmergingTerms,
    Scope,
    TopItem,
    TopList,
)
from resonanz.listening.models import Query, QueryMatch
from resonanz.listening.rollup_models import Dim, RollupMention, ScopeKind
from resonanz.listening.rollups import MAX_LEVEL, ids_in
from resonanz.mentions.models import Author, Mention

#: mentions read per range for the top lists (measured: ~30-60 us each to read and count)
SAMPLE = 1_000
#: relative costs of a sampled ledger row (a table row, its scopes split in Python) and of an index
#: entry scanned by ``id % k`` (measured at 1M mentions: ~0.09 us each), which decide the path
LEVEL_ROW_COST = 2.0
SCAN_ROW_COST = 0.1
LIMIT = 10
ID_CHUNK = 2_000
BASELINE_PERIODS = 4
MIN_COUNT = 5
#: a term must at least double against its baseline to count as emerging
MIN_GROWTH = 2.0
#: and occur in this many sampled mentions (one sampled post scaled up is no trend)
MIN_SAMPLE_HITS = 3


@dataclass
class Tops:
    """Counts over one read of an even sample of a range (``sample_size`` of ``total`` mentions)."""

    total: int = 0
    sample_size: int = 0
    terms: Counter[str] = field(default_factory=Counter)
    hashtags: Counter[str] = field(default_factory=Counter)
    links: Counter[str] = field(default_factory=Counter)
    domains: Counter[str] = field(default_factory=Counter)
    author_counts: Counter[int] = field(default_factory=Counter)
    authors: dict[int, tuple[str, str, str | None, int]] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        return self.sample_size < self.total

    def top(self, counter: Counter[str], limit: int = LIMIT) -> TopList:
        items = [TopItem(value=v, count=n) for v, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
        return TopList(items=items, sampled=self.sampled, sample_size=self.sample_size, total=self.total)

    def author_list(self, by: Literal["reach", "volume"], limit: int = LIMIT) -> AuthorList:
        def key(aid: int) -> tuple[int, int, int]:
            followers, count = self.authors[aid][3], self.author_counts[aid]
            return (-followers, -count, aid) if by == "reach" else (-count, -followers, aid)

        items = []
        for aid in sorted(self.author_counts, key=key)[:limit]:
            platform, handle, name, followers = self.authors[aid]
            items.append(
                AuthorItem(
                    id=aid,
                    platform=platform,
                    handle=handle,
                    name=name,
                    followers=followers,
                    count=self.author_counts[aid],
                )
            )
        return AuthorList(items=items, sampled=self.sampled, sample_size=self.sample_size, total=self.total)


def _query_ids(session: Session, scope: Scope) -> list[int] | None:
    """The queries whose matches make up ``scope`` (None: every mention)."""
    if not scope.query_ids and not scope.brand_ids:
        return None
    ids = set(scope.query_ids or ())
    if scope.brand_ids:
        ids.update(session.scalars(select(Query.id).where(Query.brand_id.in_(scope.brand_ids))))
    return sorted(ids)


def sample_ids(
    session: Session, scope: Scope, start: datetime, end: datetime, *, total: int, limit: int | None = None
) -> list[int]:
    """Ids of about ``limit`` mentions of ``scope`` published in ``[start, end)`` (``total`` of them,
    from the rollups); all of them when ``total <= limit``. A random sample by sampling level
    (:func:`_level_sample`) where that reads less, else every ``k``-th id (``id % k = 0``) from a
    covering index (``ix_mention_published`` or ``ix_query_match_query_published``), which scans
    the whole range's index entries."""
    limit = limit or SAMPLE
    if total > limit:
        found = _level_sample(session, scope, start, end, total=total, limit=limit)
        if found is not None:
            return found
    k = max(1, -(-total // limit))
    query_ids = _query_ids(session, scope)
    if query_ids is None:
        stmt = select(Mention.id).where(Mention.published_at >= start, Mention.published_at < end)
        if k > 1:
            stmt = stmt.where(Mention.id % k == 0)
        return list(session.scalars(stmt.limit(limit * 2)))
    if not query_ids:
        return []
    matched = select(QueryMatch.mention_id).where(
        QueryMatch.query_id.in_(query_ids), QueryMatch.published_at >= start, QueryMatch.published_at < end
    )
    if k > 1:
        matched = matched.where(QueryMatch.mention_id % k == 0)
    return list(dict.fromkeys(session.scalars(matched.limit(limit * 2 * len(query_ids)))))


def _level_sample(
    session: Session, scope: Scope, start: datetime, end: datetime, *, total: int, limit: int
) -> list[int] | None:
    """The mentions of ``scope`` in the range whose sampling level is at least ``L`` (a random
    1 in 2^L, ``L`` chosen so that about ``limit`` remain: 0.7-1.4x), read from the rollup ledger
    per level (``ix_rollup_mention_level_hour``: the cost is the rows returned). A scope narrower
    than all mentions filters the sampled rows of all mentions by their ledger scopes, so it reads
    ``all / scope`` times more rows; None when that costs more than scanning the scope's own
    index (the caller's path)."""
    level = min(MAX_LEVEL, max(0, round(math.log2(total / limit))))
    members = scope_members(session, scope)
    everything = members == [(ScopeKind.all.value, 0)]
    levels = list(range(level, MAX_LEVEL + 1))
    where = (RollupMention.level.in_(levels), RollupMention.hour >= start, RollupMention.hour < end)
    if everything:
        return list(session.scalars(select(RollupMention.mention_id).where(*where)))
    everyone = range_sums(session, [(ScopeKind.all.value, 0)], [Dim.total], start, end)
    reads = everyone.get((Dim.total.value, ""), (0, 0))[0] / 2**level
    if reads * LEVEL_ROW_COST > total * SCAN_ROW_COST:
        return None
    wanted = {f"{kind}:{sid}" for kind, sid in members}
    rows = session.execute(select(RollupMention.mention_id, RollupMention.scopes).where(*where))
    return [mid for mid, scopes in rows if not wanted.isdisjoint(scopes.split())]


def count_range(
    session: Session,
    scope: Scope,
    start: datetime,
    end: datetime,
    *,
    authors: bool = True,
    limit: int | None = None,
    total: int | None = None,
) -> Tops:
    """Count terms, hashtags, links, domains (and authors) over an even sample of a range;
    ``total``: the scope's mentions in it when the caller has read them already."""
    if total is None:
        total = total_in(session, scope, start, end)
    ids = sample_ids(session, scope, start, end, total=total, limit=limit)
    out = Tops(total=max(total, len(ids)), sample_size=len(ids))  # rollups may lag a batch behind
    by_author: Counter[int] = Counter()
    postgres = is_postgres(session)
    for i in range(0, len(ids), ID_CHUNK):
        chunk = ids[i : i + ID_CHUNK]
        if postgres:
            _count_entities_in_postgres(session, out, chunk)
            _chunk_authors(session, by_author, chunk, authors)
            continue
        stmt = select(AnalysisResult.result).where(
            AnalysisResult.stage == "entities", ids_in(session, AnalysisResult.mention_id, chunk)
        )
        for result in session.scalars(stmt):
            if not isinstance(result, dict):
                continue
            # key phrases are lower case and split at stop words already (analysis.terms); lists
            # are de-duplicated per mention by the entities stage
            _count(out.terms, result.get("keyphrases"))
            _count(out.hashtags, result.get("hashtags"), lower=True)
            _count(out.links, result.get("urls"))
            _count(out.domains, result.get("domains"))
        _chunk_authors(session, by_author, chunk, authors)
    if by_author:
        _count_authors(session, out, by_author)
    # stop words (analysis/stopwords.py) out, once per distinct term: results of older stage
    # versions or other extractors may hold them
    for term in [t for t in out.terms if all(word in STOPWORDS for word in t.split())]:
        del out.terms[term]
    return out


#: PostgreSQL counts the entity lists itself: one row per (list, item) with the number of sampled
#: mentions holding it, instead of ~1,300 JSON results parsed and counted in Python per range.
#: Items count by their text (the stage writes strings; a JSON null is skipped). Hashtags are
#: lower-cased here (Python's ``lower``, whatever the database's locale), so a tag in two
#: spellings within one mention would count twice: the entities stage keeps one spelling per
#: mention (case-insensitive de-duplication).
_ENTITY_COUNTS = text(
    """
    SELECT l.key, e.item, count(*)
    FROM analysis_result AS r
    CROSS JOIN LATERAL (
        VALUES ('keyphrases', r.result -> 'keyphrases'), ('hashtags', r.result -> 'hashtags'),
               ('urls', r.result -> 'urls'), ('domains', r.result -> 'domains')
    ) AS l(key, items)
    CROSS JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(l.items) = 'array' THEN l.items ELSE '[]'::jsonb END
    ) AS e(item)
    WHERE r.stage = 'entities' AND r.mention_id = ANY(:ids) AND e.item IS NOT NULL
    GROUP BY 1, 2
    """
).bindparams(bindparam("ids", type_=postgresql.ARRAY(Integer)))


def _count_entities_in_postgres(session: Session, out: Tops, chunk: list[int]) -> None:
    """Why on the server: measured at 1M mentions, a 1,300-mention sample cost ~20 ms of client CPU
    (JSON decoding and ``Counter`` updates) + ~7 ms of server; counted by the server it costs
    ~2 ms + ~11 ms (load ~4 on 2 cores), twice per dashboard (the range and the emerging terms'
    baseline)."""
    counters = {"keyphrases": out.terms, "hashtags": out.hashtags, "urls": out.links, "domains": out.domains}
    for key, value, n in session.execute(_ENTITY_COUNTS, {"ids": chunk}):
        counters[key][value.lower() if key == "hashtags" else value] += n


def _chunk_authors(session: Session, by_author: Counter[int], chunk: list[int], authors: bool) -> None:
    """Add the author ids of these mentions (when ``authors``)."""
    if authors:
        by_author.update(
            session.scalars(
                select(Mention.author_id).where(ids_in(session, Mention.id, chunk), Mention.author_id.is_not(None))
            )
        )


def _count_authors(session: Session, out: Tops, by_author: Counter[int]) -> None:
    """The sampled mentions' authors, read by id in a second statement: joined to the sample's
    mention ids in one, PostgreSQL hashed all 60,000 authors for ~1,300 of them (36 ms of server
    time per call at 1M mentions, most of a 30-day dashboard's), where ~1,000 index lookups cost
    ~3 ms. An author id without its row (deleted under us) is left out, as the join left it."""
    aids = sorted(by_author)
    for i in range(0, len(aids), ID_CHUNK):
        rows = session.execute(
            select(Author.id, Author.platform, Author.handle, Author.name, Author.followers).where(
                ids_in(session, Author.id, aids[i : i + ID_CHUNK])
            )
        )
        for aid, platform, handle, name, followers in rows:
            out.author_counts[aid] = by_author[aid]
            out.authors[aid] = (platform, handle, name, followers or 0)


def _count(counter: Counter[str], values: Any, *, lower: bool = False) -> None:
    if values and isinstance(values, list):
        counter.update({v.lower() for v in values if isinstance(v, str)} if lower else values)


def tops(session: Session, *, scope: Scope, total: int | None = None) -> Tops:
    """One read of the scope's (widened) range for all top lists (``total``: its mentions, when
    known; :func:`resonanz.listening.analytics.dashboard` has them from the facets' read)."""
    bounds = bucket_bounds(scope)
    return count_range(session, scope, bounds[0], bounds[-1], total=total)


def top_terms(session: Session, *, scope: Scope, limit: int = LIMIT) -> TopList:
    """Key phrases (entities stage) by the number of mentions that contain them; stop words dropped."""
    return _one(session, scope, "terms", limit)


def _one(session: Session, scope: Scope, name: str, limit: int) -> TopList:
    bounds = bucket_bounds(scope)
    counted = count_range(session, scope, bounds[0], bounds[-1], authors=False)
    counter: Counter[str] = getattr(counted, name)
    return counted.top(counter, limit)


def top_hashtags(session: Session, *, scope: Scope, limit: int = LIMIT) -> TopList:
    """Hashtags (lower case, with ``#``) by the number of mentions that carry them."""
    return _one(session, scope, "hashtags", limit)


def top_links(session: Session, *, scope: Scope, limit: int = LIMIT) -> TopList:
    """Linked URLs by the number of mentions that link them."""
    return _one(session, scope, "links", limit)


def top_domains(session: Session, *, scope: Scope, limit: int = LIMIT) -> TopList:
    """Registered domains of the links."""
    return _one(session, scope, "domains", limit)


def top_authors(
    session: Session, *, scope: Scope, by: Literal["reach", "volume"] = "reach", limit: int = LIMIT
) -> AuthorList:
    """Authors of the range by reach (followers) or by volume (their mentions in the range)."""
    return tops(session, scope=scope).author_list(by, limit)


def emerging_terms(session: Session, *, scope: Scope, current: Tops | None = None, limit: int = LIMIT) -> EmergingTerms:
    """Terms whose count in the range grew at least ``MIN_GROWTH``-fold over their mean per period
    in the ``BASELINE_PERIODS`` periods before (``new`` when absent before)."""
    bounds = bucket_bounds(scope)
    start, end = bounds[0], bounds[-1]
    length = end - start
    base_start = start - length * BASELINE_PERIODS
    now = current if current is not None else count_range(session, scope, start, end, authors=False)
    before = count_range(session, scope, base_start, start, authors=False)
    now_scale = now.total / now.sample_size if now.sample_size else 0.0
    before_scale = before.total / before.sample_size if before.sample_size else 0.0
    found: list[EmergingTerm] = []
    for term, n in now.terms.items():
        count = round(n * now_scale)
        if count < MIN_COUNT or n < MIN_SAMPLE_HITS:
            continue
        baseline = before.terms.get(term, 0) * before_scale / BASELINE_PERIODS
        growth = count / max(baseline, 1.0)
        if growth >= MIN_GROWTH:
            found.append(
                EmergingTerm(
                    term=term, current=count, baseline=round(baseline, 2), growth=round(growth, 2), new=baseline == 0
                )
            )
    found.sort(key=lambda t: (-t.growth, -t.current, t.term))
    return EmergingTerms(
        items=found[:limit],
        baseline_since=base_start.astimezone(scope.zone),
        baseline_periods=BASELINE_PERIODS,
        min_count=MIN_COUNT,
        sampled=now.sampled or before.sampled,
    )
