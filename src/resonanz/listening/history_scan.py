"""The checked half of ``query test``: a draft the index cannot say exactly (``#tag``, ``site:``,
ONEAR, a NEAR PostgreSQL cannot express, a ``?`` pattern with too many words) is answered by the
compiled query checking the candidates the index yields, in bulk and within a budget.

Why this shape: checking costs tens of microseconds per candidate, so a common word's 400,000
candidates cannot all be checked while a user types. Instead:

* the index counts the candidates first (cheap), and the scan checks at most a row budget of them:
  all when they fit, else an evenly spread systematic sample (every k-th mention id), whose
  matches are scaled to an **estimate** (``partial``, with the share checked) — never a number
  that looks exact and is not;
* the scan reads candidates in id order straight from the index join (no sort of all candidates
  before the first row), and stops at its deadline; what it checked stands, with its share;
* the newest matches are found apart, by walking the candidates newest first and checking only
  until enough are found, so the samples are the real newest matches even when the count is an
  estimate.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from resonanz.listening.history import (
    SqlPlan,
    count_index,
    doc_columns,
    indexed_rows,
    planned_index_rows,
    sample_index,
    sample_percent,
    to_doc,
)
from resonanz.listening.history_days import LocalDays
from resonanz.listening.query.compile import CompiledQuery
from resonanz.listening.query.match import PreparedDoc
from resonanz.mentions.models import Author, Mention
from resonanz.sources.models import Source

#: candidates the scan checks per second of the caller's time limit (a check costs 20–40 µs of
#: CPU; the rest of the limit is left for a loaded machine): the live editor's 1.5 s checks
#: 7,500, the CLI's 10 s 50,000
CHECKS_PER_LIMIT_S = 5_000
#: the newest-first walk for samples checks at most this many candidates
SAMPLE_WALK_ROWS = 5_000
#: PostgreSQL counts a driver's candidates exactly when its planner expects fewer than this many
#: (and takes the planner's figure above: there the count would cost the scan's budget)
PG_PLANNED_ABOVE = 50_000
#: index rows the first sample of :func:`sample_scan` reads to count the candidates (2 % of 1M)
PROBE_ROWS = 20_000
_FETCH = 1_000


@dataclass
class Scan:
    """What the checked scan found. ``checked`` of ``candidates`` (None: not known) were checked,
    each ``every``-th candidate; ``stopped``: the deadline came first; ``timed_out``: the
    database's statement limit stopped it (on PostgreSQL the transaction is then aborted)."""

    candidates: int | None
    every: int
    #: set when the candidates are a sample of the index's pages (PostgreSQL ``TABLESAMPLE``, see
    #: :func:`sample_scan`): the share of the stored mentions sampled; None: every k-th id
    fraction: float | None = None
    #: the sampled candidates, to check (with ``fraction``)
    sampled: int = 0
    checked: int = 0
    matches: int = 0
    stopped: bool = False
    timed_out: bool = False
    days: Counter[str] = field(default_factory=Counter)
    #: (published_at, id) of the newest matches, when every candidate was checked
    newest: list[tuple[Any, int]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.every == 1 and not self.stopped and self.fraction is None

    @property
    def share(self) -> float:
        """The share of the candidates checked (1.0: all)."""
        if self.complete:
            return 1.0
        if self.fraction is not None:
            return self.fraction * (self.checked / self.sampled if self.sampled else 0.0)
        if not self.candidates:
            return 0.0
        return min(1.0, self.checked / self.candidates)

    @property
    def estimate(self) -> int | None:
        """Matches among all candidates, from those checked (None when nothing was checked): a
        finished sample of every k-th id scales by k; a scan the deadline stopped by the share of
        the candidates it checked."""
        if self.complete:
            return self.matches
        if self.fraction is not None:
            return round(self.matches / self.share) if self.checked else None
        if not self.stopped:
            return self.matches * self.every
        if not self.candidates or not self.checked:
            return None
        return round(self.matches * self.candidates / self.checked)

    @property
    def scale(self) -> float:
        """What one match found stands for in the curve: k for every k-th id (also when the
        deadline stopped the scan, as before), the inverse of the share read for a page sample."""
        if self.fraction is not None:
            share = self.share
            return 1.0 / share if share else 0.0
        return float(self.every)

    @property
    def curve_every(self) -> int:
        """``curve_every`` of the answer: about how many mentions one found stands for."""
        return self.every if self.fraction is None else max(1, round(self.scale))


def _published() -> ColumnElement[Any]:
    """``published_at`` as the driver gives it, without the column type's conversion: text on
    SQLite (sortable, no datetime made per row), an aware datetime on PostgreSQL."""
    return literal_column("mention.published_at")


def count_candidates(session: Session, plan: SqlPlan, window: Sequence[ColumnElement[bool]], *, every: int = 1) -> int:
    """How many candidates the scan reads: the mentions the plan's driver expression matches (the
    index alone counts them), else those its condition selects. On PostgreSQL the driver's count
    is the planner's estimate from the index statistics: an exact count reads every candidate's
    row of ``mention_search`` (0.5–1 s for 150,000 at 1M mentions), which is the scan's budget.
    ``every`` > 1 (PostgreSQL, a large window): counted among every k-th mention of the window
    and projected (a month at 1M: one index probe for each of 13,000 mentions, not 80,000)."""
    if plan.driver is not None:
        ids = count_index(session, plan.driver, ids=plan.ids)
        if not window and session.get_bind().dialect.name == "postgresql":
            planned = planned_index_rows(session, plan.driver)
            if planned >= PG_PLANNED_ABOVE:
                return planned
        if not window:
            return int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
        sampled = [Mention.id % every == 0] if every > 1 else []
        return every * int(session.scalar(select(func.count()).where(Mention.id.in_(ids), *window, *sampled)) or 0)
    conds = [*([plan.where] if plan.where is not None else []), *window]
    stmt = select(func.count()).select_from(Mention)
    return int(session.scalar(stmt.where(and_(*conds)) if conds else stmt) or 0)


def _rows(
    session: Session,
    compiled: CompiledQuery,
    plan: SqlPlan,
    window: Sequence[ColumnElement[bool]],
    every: int,
) -> Select[Any]:
    """(id, published_at, *doc columns) of the candidates, each ``every``-th id, highest id first."""
    columns = doc_columns(compiled.tree)
    stmt: Select[Any]
    if plan.driver is not None:
        # straight from the index, joined by id: the modulus filters inside the index scan, and
        # the rest of the condition is left to the exact check in Python
        if session.get_bind().dialect.name == "postgresql":
            idx = table("mention_search", column("mention_id", Integer))
            key = idx.c.mention_id
            match = text("mention_search.vector @@ CAST(:hx AS tsquery)")
        else:
            idx = table("mention_fts", column("rowid", Integer))
            key = idx.c.rowid
            match = text("mention_fts MATCH :hx")
        stmt = (
            select(Mention.id, _published(), *columns)
            .select_from(idx.join(Mention.__table__, Mention.id == key))
            .where(match.bindparams(hx=plan.driver), *window)
        )
        if session.get_bind().dialect.name != "postgresql":
            # FTS5 yields its matches in rowid order either way; newest ingested first. PostgreSQL
            # streams its bitmap scan in table order: a sort would wait for every candidate
            stmt = stmt.order_by(key.desc())
        if every > 1 and session.get_bind().dialect.name == "postgresql":
            # on the mention's id: on the index's, PostgreSQL took the GIN match for rare and
            # scanned all history's candidates for a window's few (7 days at 1M: 550 -> 23 ms)
            stmt = stmt.where(Mention.id % every == 0)
        elif every > 1:
            stmt = stmt.where(key % every == 0)
        if plan.ids is not None:  # the index reads only the window's ids (FTS5 seeks to them)
            stmt = stmt.where(key.between(*plan.ids))
    else:
        conds = [*([plan.where] if plan.where is not None else []), *window]
        stmt = select(Mention.id, _published(), *columns).order_by(Mention.id.desc())
        if conds:
            stmt = stmt.where(and_(*conds))
        if every > 1:
            stmt = stmt.where(Mention.id % every == 0)
    if columns[5] is Source.name:
        stmt = stmt.outerjoin(Source, Source.id == Mention.source_id)
    if columns[6] is Author.handle:
        stmt = stmt.outerjoin(Author, Author.id == Mention.author_id)
    return stmt


def scan(
    session: Session,
    compiled: CompiledQuery,
    plan: SqlPlan,
    window: Sequence[ColumnElement[bool]],
    days: LocalDays,
    *,
    candidates: int | None,
    max_checks: int,
    deadline: float,
    keep: int,
) -> Scan:
    """Check the candidates (a systematic sample when there are more than ``max_checks``) until
    ``deadline`` (``time.perf_counter``); count matches per local day, keep the ``keep`` newest."""
    every = 1 if candidates is None else max(1, math.ceil(candidates / max(1, max_checks)))
    out = Scan(candidates, every)
    test = compiled.test
    newest: list[tuple[Any, int]] = []  # a min-heap of the newest matches
    pg_window = bool(window) and session.get_bind().dialect.name == "postgresql"
    if pg_window:
        # the scan reads its whole sample: plan for all rows, not for the first tenth (a cursor's
        # default made PostgreSQL walk the GIN match over all history: a month 270 -> 65 ms)
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = session.execute(_rows(session, compiled, plan, window, every).execution_options(yield_per=_FETCH))
    try:
        for chunk in result.partitions(_FETCH):
            if time.perf_counter() > deadline:
                out.stopped = True
                break
            for mid, published, *cols in chunk:
                out.checked += 1
                if not test(PreparedDoc(to_doc(cols))):
                    continue
                out.matches += 1
                out.days[days.day_of_value(published)] += 1
                if keep and every == 1:
                    item = (published, mid)
                    if len(newest) < keep:
                        heapq.heappush(newest, item)
                    elif item > newest[0]:
                        heapq.heapreplace(newest, item)
            if out.checked >= max_checks and every == 1 and candidates is None:
                out.stopped = True
                break
    except OperationalError as exc:
        # the statement time limit stopped the scan between two chunks: what was checked stands
        if not out.checked or ("interrupted" not in str(exc) and "statement timeout" not in str(exc)):
            raise
        out.stopped = out.timed_out = True
    finally:
        result.close()
        if pg_window and not out.timed_out:  # a timeout aborted the transaction: nothing to reset
            session.execute(text("SET LOCAL cursor_tuple_fraction = DEFAULT"))
    if out.complete:
        out.candidates = out.checked  # PostgreSQL's planned figure, made exact
    elif out.stopped and out.candidates is not None and out.checked >= out.candidates // out.every:
        out.candidates = None  # the planner's estimate was too low: the total is not known
    out.newest = sorted(newest, reverse=True)
    return out


def newest_matches(
    session: Session,
    compiled: CompiledQuery,
    plan: SqlPlan,
    window: Sequence[ColumnElement[bool]],
    n: int,
    *,
    deadline: float,
) -> list[int]:
    """Ids of the ``n`` newest matches: candidates newest first (SQLite walks the
    ``published_at`` index; ``+id`` keeps it from sorting every candidate first), checked until
    ``n`` are found, :data:`SAMPLE_WALK_ROWS` were checked or the deadline passes. Those found are
    the newest matches; fewer than ``n`` when the walk stopped first."""
    if n <= 0:
        return []
    columns = doc_columns(compiled.tree)
    stmt = select(Mention.id, *columns)
    conds: list[ColumnElement[bool]] = list(window)
    if plan.driver is not None and session.get_bind().dialect.name != "postgresql":
        conds.append(literal_column("+mention.id", Integer).in_(count_index(session, plan.driver, ids=plan.ids)))
    elif plan.where is not None:
        conds.append(plan.where)
    if conds:
        stmt = stmt.where(and_(*conds))
    if columns[5] is Source.name:
        stmt = stmt.outerjoin(Source, Source.id == Mention.source_id)
    if columns[6] is Author.handle:
        stmt = stmt.outerjoin(Author, Author.id == Mention.author_id)
    stmt = stmt.order_by(Mention.published_at.desc(), Mention.id.desc()).limit(SAMPLE_WALK_ROWS)
    found: list[int] = []
    test = compiled.test
    result = session.execute(stmt.execution_options(yield_per=200))
    try:
        for chunk in result.partitions(200):
            for mid, *cols in chunk:
                if test(PreparedDoc(to_doc(cols))):
                    found.append(mid)
                    if len(found) >= n:
                        return found
            if time.perf_counter() > deadline:
                break
    except OperationalError as exc:
        if "interrupted" not in str(exc) and "statement timeout" not in str(exc):
            raise
    finally:
        result.close()
    return found


def sample_scan(
    session: Session,
    compiled: CompiledQuery,
    plan: SqlPlan,
    days: LocalDays,
    *,
    max_checks: int,
    sample_checks: int,
    deadline: float,
    keep: int,
) -> Scan:
    """PostgreSQL, a checked draft with a driver and no time window: the candidates from a sample
    of the index's pages (``TABLESAMPLE SYSTEM``), sized to hold about ``sample_checks`` of them,
    checked; the estimate is the matches found scaled by the rows of the index to the rows read.

    Why: the every-k-th-id sample still makes PostgreSQL read every candidate's index row (GIN is
    bitmap-only: the ``mention_id % k`` filter comes after the heap fetch), 0.3 s for a common
    word at 1M mentions; a page sample reads only its pages. A first small sample also counts the
    candidates better than the planner does for several words (ONEAR: 30 % off). Few candidates
    (at most ``max_checks``), or a small index the first sample read whole, go to :func:`scan`."""
    assert plan.driver is not None
    total = indexed_rows(session)
    probe = sample_index(session, plan.driver, sample_percent(PROBE_ROWS, total), total=total)
    if probe.share >= 1.0 or probe.estimate <= max_checks:
        return scan(
            session,
            compiled,
            plan,
            (),
            days,
            candidates=len(probe.ids) if probe.share >= 1.0 else probe.estimate,
            max_checks=max_checks,
            deadline=deadline,
            keep=keep,
        )
    wanted = min(max_checks, sample_checks) * total / probe.estimate
    sample = sample_index(session, plan.driver, sample_percent(wanted, total), total=total)
    out = Scan(sample.estimate, 1, fraction=sample.share, sampled=len(sample.ids))
    if not sample.ids:
        return out
    columns = doc_columns(compiled.tree)
    ids = bindparam("sampled_ids", sample.ids, type_=postgresql.ARRAY(Integer))
    stmt = select(Mention.id, _published(), *columns).where(Mention.id == func.any(ids))
    if columns[5] is Source.name:
        stmt = stmt.outerjoin(Source, Source.id == Mention.source_id)
    if columns[6] is Author.handle:
        stmt = stmt.outerjoin(Author, Author.id == Mention.author_id)
    test = compiled.test
    result = session.execute(stmt.execution_options(yield_per=_FETCH))
    try:
        for chunk in result.partitions(_FETCH):
            if time.perf_counter() > deadline:
                out.stopped = True
                break
            for _mid, published, *cols in chunk:
                out.checked += 1
                if test(PreparedDoc(to_doc(cols))):
                    out.matches += 1
                    out.days[days.day_of_value(published)] += 1
    except OperationalError as exc:
        if not out.checked or "statement timeout" not in str(exc):
            raise
        out.stopped = out.timed_out = True
    finally:
        result.close()
    return out
