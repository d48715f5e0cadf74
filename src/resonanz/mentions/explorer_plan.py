"""How the explorer finds the ids of one page: a small planner, because the obvious SQL is slow at
a million mentions on SQLite.

SQLite has no statistics unless someone runs ANALYZE, so for "lang IN (de, en) AND sentiment =
negative ORDER BY published_at DESC LIMIT 51" it may pick an index that matches the filter and
then sort 800,000 rows; and a full-text match written as ``id IN (SELECT rowid FROM mention_fts
…)`` makes it collect every match (150,000 for a common word) before the first row comes out.
Every filter column leads an index ``(column, published_at, id)`` (migration 0004), so:

* **Driver.** Of the filters present, the one with the fewest rows drives: each filter's size is
  measured by counting at most ``SMALL`` entries of its index (index-only, well under a
  millisecond each; kept for a minute, since sizes only choose the plan). The page is then read
  in order from the driver's index, one ordered, limited branch per filter value (``UNION ALL``:
  an ``IN`` list would lose the index order), the other filters checked on each row. No filter:
  the ``published_at`` index itself.
* **Small sets.** When the full-text matches (or, for the engagement sort, the driver's rows)
  are fewer than ``SMALL``, they are all fetched by id and sorted: cheaper than walking an index.
* **Common words.** Otherwise the page is walked in order as above, in chunks, and the full-text
  index is asked which of a chunk's ids match, one query per range of nearby ids (SQLite; on
  PostgreSQL an ``EXISTS`` probe per row, which its planner turns into a join), stopping after one
  page. Several broad filters walk ``ix_mention_published``, which carries the filter columns.

On SQLite the chosen index is named (``INDEXED BY`` / ``NOT INDEXED``), so plans do not depend
on statistics. PostgreSQL gets the same SQL shapes without hints: its planner has statistics.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from resonanz.mentions.prepared import sqlite_datetime

#: A match set or filter smaller than this is fetched whole and sorted (measured, docs/benchmarks.md).
SMALL = 4000
#: Ids closer than this share one full-text range query (see Plan._fts_members).
FTS_GAP = 2000

#: likes + shares + replies + comments; written exactly as the expression indexes of migration
#: 0004 (SQLite only uses the index for the identical expression text).
ENGAGEMENT_SQLITE = (
    "(coalesce(json_extract(metrics, '$.likes'), 0) + coalesce(json_extract(metrics, '$.shares'), 0)"
    " + coalesce(json_extract(metrics, '$.replies'), 0) + coalesce(json_extract(metrics, '$.comments'), 0))"
)
ENGAGEMENT_POSTGRESQL = "(" + " + ".join(
    f"(CASE jsonb_typeof(metrics -> '{k}') WHEN 'number' THEN (metrics ->> '{k}')::numeric ELSE 0 END)"
    for k in ("likes", "shares", "replies", "comments")
) + ")"  # fmt: skip


#: Filter sizes only choose the plan (every plan returns the same rows), so they are kept a while:
#: the next page, and other people's requests with the same filter, skip the counting queries.
SIZES_TTL_S = 60.0
SIZES_KEPT = 4096
_SIZES: dict[tuple[Any, ...], tuple[float, int]] = {}


def _raw_rows(session: Session, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Rows straight from the SQLite driver (named parameters; the values made by Plan._bind), in
    the session's transaction: the probing walk reads thousands of rows per page, and SQLAlchemy's
    row handling cost more than SQLite's reading them."""
    cur = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


@dataclass
class Plan:
    """The resolved query: filters as (column, values), the range, the keyset position, the order."""

    sqlite: bool
    sort: str  # newest | oldest | engagement
    dims: list[tuple[str, list[Any]]]
    since: datetime | None = None
    until: datetime | None = None
    #: the full-text query in the engine's syntax (FTS5 / tsquery), or None
    match: str | None = None
    after: tuple[Any, int] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: listening queries the mention must match (any of them): checked per row, never a driver
    query_ids: list[int] = field(default_factory=list)

    # -- SQL pieces ---------------------------------------------------------------------------

    def _bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = sqlite_datetime(value) if self.sqlite and isinstance(value, datetime) else value
        return f":{name}"

    @property
    def engagement(self) -> str:
        return ENGAGEMENT_SQLITE if self.sqlite else ENGAGEMENT_POSTGRESQL

    @property
    def sort_key(self) -> str:
        return self.engagement if self.sort == "engagement" else "published_at"

    @property
    def order_by(self) -> str:
        direction = "ASC" if self.sort == "oldest" else "DESC"
        return f"{self.sort_key} {direction}, id {direction}"

    def _in(self, column: str, values: Sequence[Any]) -> str:
        if len(values) == 1:
            return f"{column} = {self._bind(values[0])}"
        return f"{column} IN ({', '.join(self._bind(v) for v in values)})"

    def range_terms(self) -> list[str]:
        terms = []
        if self.since is not None:
            terms.append(f"published_at >= {self._bind(self.since)}")
        if self.until is not None:
            terms.append(f"published_at <= {self._bind(self.until)}")
        return terms

    def keyset_terms(self) -> list[str]:
        if self.after is None:
            return []
        key, last_id = self.after
        op = ">" if self.sort == "oldest" else "<"
        key_sql = self._bind(key)
        if self.sort == "engagement" and not self.sqlite:
            key_sql = f"CAST({key_sql} AS numeric)"
        return [f"({self.sort_key}, id) {op} ({key_sql}, {self._bind(last_id)})"]

    def _keyset_variants(self) -> list[tuple[list[str], str]]:
        """The keyset as one or more alternatives (ORed by the caller through UNION ALL branches).

        SQLite cannot seek an expression index with a row value, so for the engagement sort the
        position splits into "same engagement, smaller id" and "smaller engagement": two seeks."""
        if self.after is None or not (self.sqlite and self.sort == "engagement"):
            return [(self.keyset_terms(), self.order_by)]
        key, last_id = self.after
        expr = self.engagement
        k = self._bind(key)
        # the first branch orders by id alone: SQLite does not see that the expression is constant there
        return [([f"{expr} = {k}", f"id < {self._bind(last_id)}"], "id DESC"), ([f"{expr} < {k}"], self.order_by)]

    def match_term(self) -> str:
        q = self._bind(self.match)
        if self.sqlite:
            return f"EXISTS (SELECT 1 FROM mention_fts WHERE mention_fts MATCH {q} AND mention_fts.rowid = mention.id)"
        return (
            "EXISTS (SELECT 1 FROM mention_search s WHERE s.mention_id = mention.id "
            f"AND s.vector @@ to_tsquery('simple', {q}))"
        )

    def filter_terms(self, *, skip: str | None = None) -> list[str]:
        terms = [self._in(col, values) for col, values in self.dims if col != skip]
        if self.query_ids:
            match = self._in("qm.query_id", self.query_ids)
            terms.append(f"EXISTS (SELECT 1 FROM query_match qm WHERE qm.mention_id = mention.id AND {match})")
        return terms

    def _hint(self, index: str | None) -> str:
        if not self.sqlite:
            return ""
        return f" INDEXED BY {index}" if index else " NOT INDEXED"

    # -- the statements -----------------------------------------------------------------------

    def _set_sql(self, name: str) -> str:
        """SQL for the ids of one set: the full-text matches ("q") or one filter's rows (in the range)."""
        if name == "q":
            q = self._bind(self.match)
            if self.sqlite:
                return f"SELECT rowid FROM mention_fts WHERE mention_fts MATCH {q}"
            return f"SELECT mention_id FROM mention_search WHERE vector @@ to_tsquery('simple', {q})"
        values = next(v for c, v in self.dims if c == name)
        where = " AND ".join([self._in(name, values), *self.range_terms()])
        return f"SELECT id FROM mention{self._hint(f'ix_mention_{name}_published')} WHERE {where}"

    def sizes(self, session: Session) -> dict[str, int]:
        """How many rows each filter (and the full-text match, ``"q"``) holds, counted up to SMALL
        in SQL from the indexes. A single filter without a search needs no measuring: its own index
        drives."""
        names = ["q"] if self.match is not None else []
        if len(self.dims) + len(names) > 1 or self.sort == "engagement":
            names += [c for c, _ in self.dims]
        out: dict[str, int] = {}
        bind = id(session.get_bind())
        for name in names:
            self.params = {}
            sql = f"SELECT count(*) FROM ({self._set_sql(name)} LIMIT {SMALL}) AS s"
            key = (bind, sql, tuple(sorted(self.params.items())))
            cached = _SIZES.get(key)
            if cached is not None and cached[0] > time.monotonic():
                out[name] = cached[1]
                continue
            out[name] = int(session.execute(text(sql), self.params).scalar_one())
            if len(_SIZES) >= SIZES_KEPT:
                _SIZES.clear()
            _SIZES[key] = (time.monotonic() + SIZES_TTL_S, out[name])
        return out

    def _choose(self, sizes: dict[str, int]) -> tuple[str, str | None]:
        """("ids", name): fetch the small set ``name`` by id; ("walk", driver): walk an index in order
        (driver None: the covering time index, or the engagement index)."""
        small = min(((n, name) for name, n in sizes.items()), default=None)
        if small is not None and small[0] < SMALL and (small[1] == "q" or self.sort == "engagement"):
            return "ids", small[1]
        if self.sort == "engagement" or not self.dims:
            return "walk", None
        if len(self.dims) == 1:
            return "walk", self.dims[0][0]
        dims = [(sizes[c], c) for c, _ in self.dims]
        n, name = min(dims)
        # several filters, all broad: the covering index checks them all without row lookups
        return "walk", name if n < SMALL else None

    def page_ids(self, session: Session, limit: int) -> list[tuple[int, Any]]:
        """(id, sort key) of the next ``limit`` rows."""
        sizes = self.sizes(session)
        how, name = self._choose(sizes)
        self.params = {}
        if how == "ids":
            assert name is not None
            sql = self._by_ids(name, limit=limit)
            return [(int(r[0]), r[1]) for r in session.execute(text(sql), self.params)]
        if self.match is None or not self.sqlite:
            sql = self._walk(name, limit, with_match=True)
            return [(int(r[0]), r[1]) for r in session.execute(text(sql), self.params)]
        return self._walk_probing(session, name, limit, stop=limit)

    def _walk_probing(self, session: Session, driver: str | None, limit: int, *, stop: int) -> list[tuple[int, Any]]:
        """SQLite with a common search word: walk the index in growing chunks and keep the rows whose
        ids the full-text index holds, asked per range of ids rather than per row (a probe costs
        about 100 µs, a range of a few thousand ids about as much)."""
        found: list[tuple[int, Any]] = []
        chunk = max(64, limit * 4)
        after = self.after
        while len(found) < stop:
            self.params = {}
            saved, self.after = self.after, after
            sql = self._walk(driver, chunk, with_match=False)
            self.after = saved
            rows = _raw_rows(session, sql, self.params)
            if not rows:
                break
            members = self._fts_members(session, [mid for mid, _ in rows])
            hits = [r for r in rows if r[0] in members]
            found.extend(hits)
            if len(rows) < chunk:
                break
            after = (rows[-1][1], rows[-1][0])
            # the next chunk sized by the hit rate so far (doubling alone read twice the rows needed)
            rate = max(len(hits), 1) / len(rows)
            chunk = max(64, min(int((stop - len(found)) / rate * 1.25), chunk * 16, 16384))
        return found[:stop]

    def _fts_members(self, session: Session, ids: list[int]) -> set[int]:
        """Which of ``ids`` match: one range query per cluster of nearby ids."""
        ordered = sorted(ids)
        ranges: list[list[int]] = []
        for mid in ordered:
            if ranges and mid - ranges[-1][1] <= FTS_GAP:
                ranges[-1][1] = mid
            else:
                ranges.append([mid, mid])
        wanted = set(ids)
        if "*" in (self.match or ""):  # a prefix search costs ~30 ms per query whatever the range
            ranges = [[ordered[0], ordered[-1]]]
        members: set[int] = set()
        sql = "SELECT rowid FROM mention_fts WHERE mention_fts MATCH :q AND rowid >= :lo AND rowid <= :hi"
        for lo, hi in ranges:
            rows = _raw_rows(session, sql, {"q": self.match, "lo": lo, "hi": hi})
            members.update(r[0] for r in rows if r[0] in wanted)
        return members

    def _by_ids(self, checked: str, *, limit: int) -> str:
        """Fetch a small candidate set (the set ``checked``) by primary key, filter, sort."""
        terms = [
            f"id IN ({self._set_sql(checked)})",
            *self.filter_terms(skip=checked),
            *self.range_terms(),
            *self.keyset_terms(),
        ]
        if self.match is not None and checked != "q":
            terms.append(self.match_term())
        return (
            f"SELECT id, {self.sort_key} FROM mention{self._hint(None)} WHERE {' AND '.join(terms)} "
            f"ORDER BY {self.order_by} LIMIT {int(limit)}"
        )

    def _walk(self, driver: str | None, limit: int, *, with_match: bool) -> str:
        """Read in order from the driver's index (one branch per value), checking the rest per row."""
        if self.sort == "engagement":
            index, driver = "ix_mention_engagement", None
        else:
            index = f"ix_mention_{driver}_published" if driver else "ix_mention_published"
        common = [*self.filter_terms(skip=driver), *self.range_terms()]
        if self.match is not None and with_match:
            common.append(self.match_term())
        values: list[Any] = next((v for c, v in self.dims if c == driver), [None])
        branches = []
        for value in values:
            for keyset, order_by in self._keyset_variants():
                terms = ([f"{driver} = {self._bind(value)}"] if driver else []) + keyset + common
                where = f" WHERE {' AND '.join(terms)}" if terms else ""
                branches.append(
                    f"SELECT id, {self.sort_key} AS sort_key FROM mention{self._hint(index)}{where} "
                    f"ORDER BY {order_by} LIMIT {int(limit)}"
                )
        if len(branches) == 1:
            return branches[0]
        direction = "ASC" if self.sort == "oldest" else "DESC"
        union = " UNION ALL ".join(f"SELECT * FROM ({b}) AS b{i}" for i, b in enumerate(branches))
        return (
            f"SELECT id, sort_key FROM ({union}) AS u ORDER BY sort_key {direction}, id {direction} LIMIT {int(limit)}"
        )

    def count(self, session: Session, cap: int) -> int:
        """Matching rows, counted up to ``cap``."""
        sizes = self.sizes(session)
        how, name = self._choose(sizes)
        self.params = {}
        if name is not None and name in sizes and sizes[name] < SMALL:
            inner = self._by_ids(name, limit=cap)
        elif self.match is not None and self.sqlite:
            if not self.dims and not self.query_ids and self.since is None and self.until is None:
                sql = "SELECT count(*) FROM (SELECT rowid FROM mention_fts WHERE mention_fts MATCH :q LIMIT :n)"
                return int(session.execute(text(sql), {"q": self.match, "n": cap}).scalar_one())
            self.sort = "newest"  # order does not matter for a count; the time indexes are the ones to walk
            driver = name if how == "walk" else None
            return len(self._walk_probing(session, driver, cap, stop=cap))
        else:
            driver = name if how == "walk" and self.sort != "engagement" else None
            self.sort = "newest"
            inner = self._walk(driver, cap, with_match=True)
        return int(session.execute(text(f"SELECT count(*) FROM ({inner}) AS c"), self.params).scalar_one())
