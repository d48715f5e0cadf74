"""Trying a draft query against history: how many mentions, per day, and the newest examples.

When the index answers the query exactly (:attr:`SqlPlan.exact`) the database counts and groups;
otherwise the index yields candidates that the compiled query checks in bulk, all of them when they
fit the budget that the time limit gives, else an evenly spread sample scaled to an estimate (the
result then says ``truncated``, with the share checked and the estimate:
:mod:`resonanz.listening.history_scan`). The curve counts per day in the user's zone
(:mod:`resonanz.listening.history_days`). Either way a draft cannot run away: the database work is
bounded by the same time limit (SQLite's progress handler, PostgreSQL's ``statement_timeout``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, bindparam, func, literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from resonanz.errors import InputError
from resonanz.listening.history import (
    IndexSample,
    SqlPlan,
    candidate_rows,
    count_index,
    indexed_rows,
    sample_index,
    sample_percent,
    to_doc,
    translate,
    window_span,
)
from resonanz.listening.history_days import LocalDays, zone_of
from resonanz.listening.history_live import covered, driver_sample, through_covering_index
from resonanz.listening.history_scan import CHECKS_PER_LIMIT_S, count_candidates, newest_matches, sample_scan, scan
from resonanz.listening.query.compile import CompiledQuery, compile_query
from resonanz.listening.query.match import PreparedDoc
from resonanz.mentions.models import Mention

MAX_CANDIDATES = 200_000
TIME_LIMIT_S = 10.0
#: the daily curve of a query the index answers alone reads at most about this many mention rows:
#: past it, every k-th match is read and each day's count is k times what was read
CURVE_ROWS = 20_000
#: the same for the live editor (a time limit of at most :data:`PG_ESTIMATE_WITHIN_S`): ~7 µs a
#: row at 1M, so the curve stays near 40 ms and the whole answer under 200 ms
LIVE_CURVE_ROWS = 6_000
#: a draft driven by an index expression with other conditions (``alpenblitz lang:de``) reads, in the
#: live editor on SQLite, the rows of at most about this many candidates, evenly spread by id, and
#: estimates from the matches among them (:func:`resonanz.listening.history_live.driver_sample`)
LIVE_SAMPLE_ROWS = 15_000
#: an exact draft over a time window (the editor's period) reads, in the live editor, every k-th
#: mention of the window by id when the window holds more than this many: count and curve are
#: estimated from them (a month of 1M mentions: 320 -> 40 ms on PostgreSQL)
LIVE_WINDOW_ROWS = 15_000
#: candidates a checked draft checks in the live editor (20–40 µs each): an estimate within ~2 %
#: in ~100 ms; the CLI's longer limit checks :data:`CHECKS_PER_LIMIT_S` per second of it
LIVE_CHECKS = 2_500
#: from this many matches on, the newest samples are found by walking the published_at index
#: backwards (SQLite), instead of reading and sorting every match
SAMPLE_WALK_MIN = 2_000
#: a draft matching a large share of the store looks for its samples among the newest this many
#: mentions first (one index lookup each)
NEWEST_PEEK = 40
#: a checked draft's scan stops at this share of the time limit, the newest-first walk for its
#: samples at this share (the rest is left for fetching the samples and a loaded machine)
SCAN_SHARE = 0.6
SAMPLE_SHARE = 0.8
#: PostgreSQL estimates an exact draft's count from a sample only for a caller whose time limit is at
#: most this (the live editor's 1.5 s); with the CLI's 10 s it counts every match, as SQLite does
PG_ESTIMATE_WITHIN_S = 3.0
#: PostgreSQL counts a draft the index answers (alone, or as the driver of an AND of columns)
#: exactly when a first small sample of the index expects at most this many matches: an exact count
#: reads every match's index row and, for the curve, its mention row (about 10 ms per 1,000 at 1M
#: mentions); above, count and curve are estimated from a sample of the index's pages
PG_EXACT_MAX = 10_000
#: index rows the first sample reads (2 % of 1M: 5 ms)
PG_PROBE_ROWS = 20_000
#: an exactly counted draft's curve reads at most about this many mention rows (every k-th match
#: past it, as :data:`CURVE_ROWS` on SQLite: one row costs ~7 µs of random access at 1M)
PG_CURVE_ROWS = 3_000
#: the estimating sample is sized to hold about this many matches for the curve (30 a day over a
#: year), but reads at most :data:`PG_SAMPLE_CAP` % of the index
PG_CURVE_MATCHES = 12_000
PG_SAMPLE_CAP = 10.0
#: PostgreSQL checks this many sampled candidates per second of the time limit (2,250 for the
#: editor's 1.5 s: 40 ms of Python checks), when a checked draft is answered from a page sample
PG_SAMPLE_CHECKS_PER_S = 1_500


@dataclass
class Sample:
    id: int
    published_at: datetime
    platform: str
    text: str


@dataclass
class DraftResult:
    query: str
    normalized: str
    exact: bool  # answered by the index alone
    count: int
    curve: list[tuple[str, int]]  # (local day "YYYY-MM-DD", mentions), oldest first, days with none left out
    samples: list[Sample] = field(default_factory=list)
    checked: int = 0  # candidates checked in Python (0 when exact)
    #: not every candidate was checked (a sample of them, or the time limit came first): ``count``
    #: is the matches found, a lower bound, and ``estimate`` the projection to all candidates
    truncated: bool = False
    #: candidates the index yielded for the Python check (None: exact, or not counted in time)
    candidates: int | None = None
    #: matches among all candidates, projected from those checked (None: exact, or unknown)
    estimate: int | None = None
    #: share of the candidates checked (1.0: all; the count is then exact); for an exact draft
    #: PostgreSQL estimates from a sample of the index, the share of the stored mentions sampled
    scanned_share: float = 1.0
    #: the zone the curve's days are in
    zone: str = "UTC"
    #: the database's statement limit stopped the scan (not only the scan's own deadline)
    timed_out: bool = field(default=False, repr=False)
    #: 1: the curve counts every match; k > 1: each day's count is estimated from every k-th match
    #: (``count`` stays exact)
    curve_every: int = 1
    elapsed_ms: float = 0.0
    sample_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("sample_ids")
        data.pop("timed_out")
        data["curve"] = [{"day": d, "count": c} for d, c in self.curve]
        return data


def _snippet(title: str | None, body: str, width: int = 200) -> str:
    joined = " ".join(((title + " — ") if title else "").split() + body.split())
    return joined if len(joined) <= width else joined[: width - 1] + "…"


def _is_timeout(exc: OperationalError) -> bool:
    return "interrupted" in str(exc) or "statement timeout" in str(exc)


@contextmanager
def time_limit(session: Session, seconds: float) -> Iterator[None]:
    """Abort a statement of this session that runs past ``seconds`` with an InputError."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL statement_timeout = {int(seconds * 1000)}"))
        # JIT compiling a plan costs 20-30 ms, more than the short statements of a draft save by it
        conn.execute(text("SET LOCAL jit = off"))
        try:
            yield
        except OperationalError as exc:
            if not _is_timeout(exc):
                raise
            raise InputError(f"the query took longer than {seconds:g} s; narrow it", location="query") from exc
        finally:
            if conn.in_transaction() and not conn.invalidated:
                # after a timeout the transaction is aborted and this fails: the caller rolls back
                with suppress(DBAPIError):
                    conn.execute(text("SET LOCAL statement_timeout = 0"))
                    conn.execute(text("SET LOCAL jit = DEFAULT"))
        return
    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)  # type: ignore[union-attr]
    try:
        yield
    except OperationalError as exc:
        if not _is_timeout(exc):
            raise
        raise InputError(f"the query took longer than {seconds:g} s; narrow it", location="query") from exc
    finally:
        raw.set_progress_handler(None, 0)  # type: ignore[union-attr]


def try_query(
    session: Session,
    *,
    query: str | CompiledQuery,
    since: datetime | None = None,
    until: datetime | None = None,
    samples: int = 5,
    max_candidates: int = MAX_CANDIDATES,
    time_limit_s: float = TIME_LIMIT_S,
    tz: str | tzinfo | None = None,
) -> DraftResult:
    """Run a draft over stored mentions (``since`` inclusive, ``until`` exclusive); the curve counts
    per day in ``tz`` (a zone name; None: UTC)."""
    started = time.perf_counter()
    compiled = compile_query(query) if isinstance(query, str) else query
    window: list[ColumnElement[bool]] = []
    if since is not None:
        window.append(Mention.published_at >= since)
    if until is not None:
        window.append(Mention.published_at < until)
    plan = translate(session, compiled.tree)
    days = LocalDays(session, zone_of(tz))
    result = DraftResult(compiled.text, compiled.normalized, plan.exact, 0, [], zone=str(days.zone))
    live = time_limit_s <= PG_ESTIMATE_WITHIN_S
    with time_limit(session, time_limit_s):
        every, rows = 1, 0
        if window and plan.index_queries:
            # the index reads held to the window's ids (a week of a long history reads a week's
            # share of the index); a large window in the live editor: every k-th mention (a
            # draft of columns only reads no index, and its rows are as cheap as the count)
            lo, hi, rows = window_span(session, window)
            every = max(1, -(-rows // LIVE_WINDOW_ROWS)) if plan.exact and live else 1
            plan = translate(session, compiled.tree, ids=(lo, hi), every=every)
        if every > 1:
            _exact_window_sample(session, plan, window, every, samples, days, result)
        elif plan.exact:
            _exact(session, plan, window, samples, days, result, estimate=live)
        else:
            budget = min(max_candidates, max(1_000, int(time_limit_s * CHECKS_PER_LIMIT_S)))
            if live:
                budget = min(budget, LIVE_CHECKS)
            # PostgreSQL counts a large window's candidates among every k-th of its mentions
            count_every = max(1, -(-rows // LIVE_WINDOW_ROWS)) if live and days.postgres else 1
            _checked(session, compiled, plan, window, samples, budget, started, time_limit_s, days, result, count_every)
    # outside the time limit (the scan may have used it up); a PostgreSQL timeout aborted the
    # transaction, so a scan stopped by it shows no samples
    if result.sample_ids and not (result.timed_out and session.get_bind().dialect.name == "postgresql"):
        with suppress(OperationalError):
            _fetch_samples(session, result)
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def _exact(
    session: Session,
    plan: SqlPlan,
    window: list[ColumnElement[bool]],
    samples: int,
    days: LocalDays,
    out: DraftResult,
    *,
    estimate: bool = True,
) -> None:
    """Count, curve and samples by the database. When the index alone says which mentions match
    (no columns, no time window), the index counts them without reading a mention row, and a
    large curve is estimated from a systematic sample of the matches (``curve_every``)."""
    where = plan.where
    conds = [*([where] if where is not None else []), *window]
    key = days.key.label("day")
    curve_where: ColumnElement[bool] | None = and_(*conds) if conds else None
    if days.postgres and not window and (plan.index_only is not None or (estimate and plan.driver is not None)):
        _pg_exact(session, plan, days, out, estimate=estimate)
        if samples and out.count and not out.timed_out:
            count = out.estimate or out.count
            _samples_within_limit(session, out, lambda: _newest_exact(session, plan, conds, window, samples, count))
        return
    live_sqlite = estimate and not days.postgres and not window
    if live_sqlite and plan.index_only is None and plan.driver is not None and plan.rest is not None:
        found = driver_sample(session, plan, key, LIVE_SAMPLE_ROWS)
        if found is not None:
            candidates, every, sampled = found
            out.curve = days.curve(session.execute(sampled))
            out.count = sum(c for _, c in out.curve)
            out.truncated, out.candidates, out.curve_every = True, candidates, every
            out.estimate, out.scanned_share = out.count * every, round(1 / every, 4)
            out.curve = [(day, c * every) for day, c in out.curve]
            if samples and out.count:
                out.samples = _newest_exact(session, plan, conds, window, samples, out.estimate)
            return
    if plan.index_only is not None and not window:
        out.count = int(
            session.scalar(select(func.count()).select_from(count_index(session, plan.index_only).subquery())) or 0
        )
        out.curve_every = max(1, -(-out.count // (LIVE_CURVE_ROWS if estimate else CURVE_ROWS)))
        if out.curve_every > 1:
            curve_where = Mention.id.in_(count_index(session, plan.index_only, every=out.curve_every))
    if live_sqlite and plan.driver is None and curve_where is not None and covered(curve_where):
        curve_where = through_covering_index(curve_where)
    stmt = select(key, func.count()).select_from(Mention).group_by(key)
    if curve_where is not None:
        stmt = stmt.where(curve_where)
    if plan.index_only is not None and not window:  # the count is known: a time-out leaves it standing
        if _curve_of_known_count(session, stmt, days, out) and samples and out.count:
            _samples_within_limit(session, out, lambda: _newest_exact(session, plan, conds, window, samples, out.count))
        return
    out.curve = days.curve(session.execute(stmt), out.curve_every)
    out.count = sum(c for _, c in out.curve)
    if samples and out.count:
        out.samples = _newest_exact(session, plan, conds, window, samples, out.count)


def _exact_window_sample(
    session: Session,
    plan: SqlPlan,
    window: list[ColumnElement[bool]],
    every: int,
    samples: int,
    days: LocalDays,
    out: DraftResult,
) -> None:
    """An exact draft over a large window in the live editor: the matches among every ``every``-th
    mention of the window (by id; ``sampled`` holds its index reads to the same ids), each day's
    count and the total projected by ``every``. The samples are the newest matches among them
    (reading the newest of all matches would read them all)."""
    conds = [*([plan.where] if plan.where is not None else []), *window, Mention.id % every == 0]
    key = days.key.label("day")
    stmt = select(key, func.count()).select_from(Mention).where(and_(*conds)).group_by(key)
    curve = days.curve(session.execute(stmt))
    out.count = sum(c for _, c in curve)
    out.truncated, out.curve_every, out.scanned_share = True, every, round(1 / every, 4)
    out.estimate = out.count * every
    out.curve = [(day, c * every) for day, c in curve]
    if samples and out.count:
        rows = select(Mention.id, Mention.published_at, Mention.platform, Mention.title, Mention.text)
        newest = rows.where(and_(*conds)).order_by(Mention.published_at.desc(), Mention.id.desc()).limit(samples)
        out.samples = _samples(session, newest)


def _guarded(session: Session) -> Any:
    """A savepoint on PostgreSQL (a statement time-out aborts the transaction, the savepoint keeps
    what came before it); nothing on SQLite, where an interrupt stops only the statement."""
    return session.begin_nested() if session.get_bind().dialect.name == "postgresql" else nullcontext()


def _curve_of_known_count(session: Session, stmt: Any, days: LocalDays, out: DraftResult) -> bool:
    """The curve of a draft whose count is already known (``out.count``). When the time limit
    stops it (a loaded machine), the known count is answered with no curve, ``partial`` and the
    count as its own estimate, instead of the time-out error. Returns whether the curve came."""
    try:
        with _guarded(session):
            rows = list(session.execute(stmt))
    except OperationalError as exc:
        if not _is_timeout(exc):
            raise
        out.truncated = out.timed_out = True
        out.curve, out.estimate = [], out.count
        return False
    out.curve = days.curve(rows, out.curve_every)
    return True


def _samples_within_limit(session: Session, out: DraftResult, find: Callable[[], list[Sample]]) -> None:
    """The newest samples of a draft whose count and curve are known: none when the time limit
    stops their statement, rather than the time-out error."""
    try:
        with _guarded(session):
            out.samples = find()
    except OperationalError as exc:
        if not _is_timeout(exc):
            raise
        out.timed_out = True


def _pg_exact(session: Session, plan: SqlPlan, days: LocalDays, out: DraftResult, *, estimate: bool) -> None:
    """PostgreSQL, an exact draft whose index expression (the whole condition or its driver)
    selects the candidates, no time window: count and curve from a sample of the index's pages
    when there are many matches, exactly when there are few.

    Why: GIN is bitmap-only, so an exact count reads every match's row of ``mention_search`` and the
    curve every match's ``mention`` row (0.3 s for ``nordwelle``'s 676,000 at 1M mentions on a quiet
    machine, seconds under load). A first sample of :data:`PG_PROBE_ROWS` index rows says how common
    the draft is; a common one is answered from a sample sized for the curve: ``partial``, ``count``
    the matches in the sample (a lower bound), ``estimate`` their projection to every stored mention
    and ``scanned_share`` the share of the index read. The sampled pages are spread over the whole
    table, so the curve covers the whole history. Without ``estimate`` (a caller with a longer
    time limit than the editor's) the count is always exact."""
    expr = plan.index_only or plan.driver
    assert expr is not None
    total = indexed_rows(session)
    if not estimate:
        sample = _every_match(session, expr, total)
    else:
        probe = sample = sample_index(session, expr, sample_percent(PG_PROBE_ROWS, total), total=total)
        if probe.share < 1.0 and probe.estimate <= PG_EXACT_MAX:
            sample = _every_match(session, expr, total)
        elif probe.share < 1.0:
            wanted = PG_CURVE_MATCHES * total / max(1, probe.estimate)
            percent = sample_percent(wanted, total, cap=PG_SAMPLE_CAP)
            if percent > probe.percent:
                sample = sample_index(session, expr, percent, total=total)
    key = days.key.label("day")
    ids = bindparam("sampled_ids", sample.ids, type_=postgresql.ARRAY(Integer))
    cond: ColumnElement[bool] = Mention.id == func.any(ids)
    if plan.index_only is None and plan.rest is not None:
        cond = and_(cond, plan.rest)
    stmt = select(key, func.count()).select_from(Mention).where(cond).group_by(key)
    if plan.index_only is not None and sample.share >= 1.0:  # every match's id: the count is known
        out.count = len(sample.ids)
        out.curve_every = max(1, -(-out.count // PG_CURVE_ROWS))
        if out.curve_every > 1:  # each k-th match's mention row is read for the curve, not all
            ids.value = sample.ids[:: out.curve_every]
        if sample.ids:
            _curve_of_known_count(session, stmt, days, out)
        return
    out.curve = days.curve(session.execute(stmt) if sample.ids else [])
    out.count = sum(c for _, c in out.curve)
    if sample.share >= 1.0:
        return
    scale = sample.scale
    out.truncated = True
    out.estimate = round(out.count * scale)
    out.scanned_share = round(sample.share, 4)
    out.curve_every = max(1, round(scale))
    out.curve = [(day, round(c * scale)) for day, c in out.curve]


def _every_match(session: Session, expr: str, total: int) -> IndexSample:
    """The ids of every match of an index expression (PostgreSQL: each match's index row is read)."""
    ids = session.execute(
        text("SELECT array_agg(mention_id) FROM mention_search WHERE vector @@ CAST(:q AS tsquery)"), {"q": expr}
    ).scalar_one()
    return IndexSample(100.0, total, total, list(ids or []))


def _newest_exact(
    session: Session,
    plan: SqlPlan,
    conds: list[ColumnElement[bool]],
    window: list[ColumnElement[bool]],
    samples: int,
    count: int,
) -> list[Sample]:
    """The newest matches of an exact plan. SQLite: a common index-only draft checks only the
    newest few mentions against the index (one lookup each); from :data:`SAMPLE_WALK_MIN` matches
    on, the ``published_at`` index is walked backwards (``+id`` keeps SQLite from reading and
    sorting every match first); rarer drafts sort their matches."""
    rows = select(Mention.id, Mention.published_at, Mention.platform, Mention.title, Mention.text)
    if session.get_bind().dialect.name == "sqlite":
        if plan.index_only is not None and not window and count * NEWEST_PEEK >= _store_size(session) * samples * 2:
            newest = select(Mention.id).order_by(Mention.published_at.desc(), Mention.id.desc()).limit(NEWEST_PEEK)
            hit = text("EXISTS (SELECT 1 FROM mention_fts WHERE mention_fts MATCH :px AND rowid = mention.id)")
            peek = rows.where(Mention.id.in_(newest), hit.bindparams(px=plan.index_only))
            found = _samples(session, peek.order_by(Mention.published_at.desc(), Mention.id.desc()).limit(samples))
            if len(found) == samples:
                return found
        if count >= SAMPLE_WALK_MIN and plan.index_only is not None:
            walk = literal_column("+mention.id", Integer).in_(count_index(session, plan.index_only, ids=plan.ids))
            conds = [walk, *window]
    if conds:
        rows = rows.where(and_(*conds))
    return _samples(session, rows.order_by(Mention.published_at.desc(), Mention.id.desc()).limit(samples))


def _store_size(session: Session) -> int:
    """About how many mentions are stored (the highest id: no count over a million rows)."""
    return int(session.scalar(select(func.max(Mention.id))) or 0)


def _samples(session: Session, stmt: Any) -> list[Sample]:
    return [Sample(i, p, pl, _snippet(t, b)) for i, p, pl, t, b in session.execute(stmt)]


def _checked(
    session: Session,
    compiled: CompiledQuery,
    plan: SqlPlan,
    window: list[ColumnElement[bool]],
    samples: int,
    budget: int,
    started: float,
    time_limit_s: float,
    days: LocalDays,
    out: DraftResult,
    count_every: int = 1,
) -> None:
    """Candidates from the index, checked in Python within a row budget and a deadline
    (:mod:`resonanz.listening.history_scan`); the newest matches apart when not every candidate
    was checked."""
    deadline = started + SCAN_SHARE * time_limit_s
    if days.postgres and plan.driver is not None and not window:
        checks = max(1_000, int(time_limit_s * PG_SAMPLE_CHECKS_PER_S))
        found = sample_scan(
            session, compiled, plan, days, max_checks=budget, sample_checks=checks, deadline=deadline, keep=samples
        )
    else:
        try:
            candidates: int | None = count_candidates(session, plan, window, every=count_every)
        except OperationalError as exc:  # counting alone ran out of time: scan without a total
            if not _is_timeout(exc) or session.get_bind().dialect.name == "postgresql":
                raise
            candidates = None
        found = scan(
            session,
            compiled,
            plan,
            window,
            days,
            candidates=candidates,
            max_checks=budget,
            deadline=deadline,
            keep=samples,
        )
    out.checked, out.candidates, out.scanned_share = found.checked, found.candidates, round(found.share, 4)
    out.truncated = not found.complete
    out.curve_every = found.curve_every
    out.curve = sorted((day, round(n * found.scale)) for day, n in found.days.items())
    out.count = found.matches
    out.estimate = found.estimate
    out.timed_out = found.timed_out
    if found.complete:
        out.sample_ids = [mid for _, mid in found.newest]
    elif samples and not (found.timed_out and session.get_bind().dialect.name == "postgresql"):
        deadline = started + SAMPLE_SHARE * time_limit_s
        out.sample_ids = newest_matches(session, compiled, plan, window, samples, deadline=deadline)


def _fetch_samples(session: Session, out: DraftResult) -> None:
    rows = select(Mention.id, Mention.published_at, Mention.platform, Mention.title, Mention.text)
    found = {r[0]: r for r in session.execute(rows.where(Mention.id.in_(out.sample_ids)))}
    out.samples = [Sample(i, p, pl, _snippet(t, b)) for i, p, pl, t, b in (found[i] for i in out.sample_ids)]


def matching_ids(session: Session, query: str | CompiledQuery, *, limit: int | None = None) -> list[int]:
    """Ids of every stored mention the query matches (newest first): the history evaluator."""
    compiled = compile_query(query) if isinstance(query, str) else query
    plan = translate(session, compiled.tree)
    if plan.exact:
        stmt = select(Mention.id).order_by(Mention.published_at.desc(), Mention.id.desc())
        if plan.where is not None:
            stmt = stmt.where(plan.where)
        return list(session.scalars(stmt.limit(limit) if limit else stmt))
    found: list[int] = []
    for mid, _day, *cols in candidate_rows(session, plan, tree=compiled.tree):
        if compiled.test(PreparedDoc(to_doc(cols))):
            found.append(mid)
            if limit and len(found) >= limit:
                break
    return found
