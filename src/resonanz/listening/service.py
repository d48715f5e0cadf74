"""Trying a draft query against history: how many mentions, per day, and the newest examples.

When the index answers the query exactly (:attr:`SqlPlan.exact`) the database counts and groups;
otherwise the database yields candidates, newest first, and the compiled query checks each, up to
``max_candidates`` and ``time_limit_s`` (the result then says ``truncated``). Either way a draft
cannot run away: the database work is bounded by the same time limit (SQLite's progress handler,
PostgreSQL's ``statement_timeout``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from resonanz.errors import InputError
from resonanz.listening.history import SqlPlan, candidate_rows, count_index, day_of, to_doc, translate
from resonanz.listening.query.compile import CompiledQuery, compile_query
from resonanz.listening.query.match import PreparedDoc
from resonanz.mentions.models import Mention

MAX_CANDIDATES = 200_000
TIME_LIMIT_S = 10.0
#: the daily curve of a query the index answers alone reads at most about this many mention rows:
#: past it, every k-th match is read and each day's count is k times what was read
CURVE_ROWS = 20_000
#: from this many matches on, the newest samples are found by walking the published_at index
#: backwards (SQLite), instead of reading and sorting every match
SAMPLE_WALK_MIN = 2_000


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
    curve: list[tuple[str, int]]  # (UTC day "YYYY-MM-DD", mentions), oldest first, days with none left out
    samples: list[Sample] = field(default_factory=list)
    checked: int = 0  # candidates checked in Python (0 when exact)
    truncated: bool = False  # stopped at max_candidates or the time limit: count is a lower bound
    #: 1: the curve counts every match; k > 1: each day's count is estimated from every k-th match
    #: (``count`` stays exact)
    curve_every: int = 1
    elapsed_ms: float = 0.0
    sample_ids: list[int] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("sample_ids")
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
) -> DraftResult:
    """Run a draft over stored mentions (``since`` inclusive, ``until`` exclusive, UTC)."""
    started = time.perf_counter()
    compiled = compile_query(query) if isinstance(query, str) else query
    plan = translate(session, compiled.tree)
    window: list[ColumnElement[bool]] = []
    if since is not None:
        window.append(Mention.published_at >= since)
    if until is not None:
        window.append(Mention.published_at < until)
    result = DraftResult(compiled.text, compiled.normalized, plan.exact, 0, [])
    with time_limit(session, time_limit_s):
        if plan.exact:
            _exact(session, plan, window, samples, result)
        else:
            _checked(session, compiled, plan, window, samples, max_candidates, started + time_limit_s, result)
    # outside the time limit (the scan may have used it up); a PostgreSQL timeout aborted the
    # transaction, so a truncated scan there shows no samples
    if result.sample_ids and not (result.truncated and session.get_bind().dialect.name == "postgresql"):
        _fetch_samples(session, result)
    result.elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return result


def _exact(
    session: Session,
    plan: SqlPlan,
    window: list[ColumnElement[bool]],
    samples: int,
    out: DraftResult,
) -> None:
    """Count, curve and samples by the database. When the index alone says which mentions match
    (no columns, no time window), the index counts them without reading a mention row, and a
    large curve is estimated from a systematic sample of the matches (``curve_every``)."""
    where = plan.where
    conds = [*([where] if where is not None else []), *window]
    day = day_of(session).label("day")
    curve_where: ColumnElement[bool] | None = and_(*conds) if conds else None
    if plan.index_only is not None and not window:
        out.count = int(
            session.scalar(select(func.count()).select_from(count_index(session, plan.index_only).subquery())) or 0
        )
        out.curve_every = max(1, -(-out.count // CURVE_ROWS))
        if out.curve_every > 1:
            curve_where = Mention.id.in_(count_index(session, plan.index_only, every=out.curve_every))
    stmt = select(day, func.count()).select_from(Mention).group_by(day).order_by(day)
    if curve_where is not None:
        stmt = stmt.where(curve_where)
    out.curve = [(str(d), int(c) * out.curve_every) for d, c in session.execute(stmt)]
    if plan.index_only is None or window:
        out.count = sum(c for _, c in out.curve)
    if samples:
        rows = select(Mention.id, Mention.published_at, Mention.platform, Mention.title, Mention.text)
        if out.count >= SAMPLE_WALK_MIN:
            rows = rows.with_hint(Mention, "INDEXED BY ix_mention_published", "sqlite")
        if conds:
            rows = rows.where(and_(*conds))
        rows = rows.order_by(Mention.published_at.desc(), Mention.id.desc()).limit(samples)
        out.samples = [Sample(i, p, pl, _snippet(t, b)) for i, p, pl, t, b in session.execute(rows)]


def _checked(
    session: Session,
    compiled: CompiledQuery,
    plan: Any,
    window: list[ColumnElement[bool]],
    samples: int,
    max_candidates: int,
    deadline: float,
    out: DraftResult,
) -> None:
    test = compiled.test
    days: Counter[str] = Counter()
    sample_ids: list[int] = []
    try:
        for row in candidate_rows(session, plan, tree=compiled.tree, extra=window):
            out.checked += 1
            if out.checked > max_candidates or (out.checked % 500 == 0 and time.perf_counter() > deadline):
                out.checked -= 1
                out.truncated = True
                break
            mid, day, *cols = row
            if not test(PreparedDoc(to_doc(cols))):
                continue
            days[day] += 1
            if len(sample_ids) < samples:
                sample_ids.append(mid)
    except OperationalError as exc:
        # the time limit stopped the candidate scan between two checks: what was checked stands
        if not out.checked or not _is_timeout(exc):
            raise
        out.truncated = True
    out.curve = sorted(days.items())
    out.count = sum(days.values())
    out.sample_ids = sample_ids


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
