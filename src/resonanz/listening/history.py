"""Listening queries over stored mentions: the query tree translated to SQL and the full-text index
(SQLite FTS5 ``MATCH``, PostgreSQL ``tsquery``), with the same meaning as the in-memory matcher.

Each part of the tree becomes a condition that is either *exact* (the index says precisely what
:mod:`resonanz.listening.query.compile` says: words, phrases, ``bahn*``, AND/OR/NOT, the column
fields) or a *superset* (``?`` wildcards, NEAR/ONEAR, #tags, @handles, ``site:``, ``has:``): the
database returns candidates and the compiled query checks each in Python. So there is one
semantics, and the index only makes it fast. :attr:`SqlPlan.exact` says which case applies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    not_,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList

from resonanz.listening.query import ast
from resonanz.listening.query.match import Doc
from resonanz.mentions import search_index
from resonanz.mentions.models import Author, Mention
from resonanz.mentions.text import fold
from resonanz.sources.models import Source

_TEXT_LEAVES = (ast.Term, ast.Phrase, ast.Pattern, ast.Hashtag, ast.Handle, ast.Near)
_COLUMNS = {
    "lang": Mention.lang,
    "platform": Mention.platform,
    "sentiment": Mention.sentiment,
    "intent": Mention.intent,
}
_LINK_WORDS = ("http", "https", "www")
#: a ``?`` pattern matching more index words than this is checked in Python instead
MAX_EXPANSION = 300
MAX_NEAR_EXPANSION = 20
#: stands for "no word" in an index expression: index words are folded, never upper case
NO_SUCH_WORD = "0nosuchword0"


@dataclass
class SqlPlan:
    """``where``: a condition on ``mention`` (None: every mention); ``exact``: rows it selects are
    exactly the matches, else a superset to check with the compiled query."""

    where: ColumnElement[bool] | None
    exact: bool
    #: the index expressions used, for ``query check --explain`` and tests
    index_queries: list[str] = field(default_factory=list)
    #: set when the whole condition is one exact index expression (nothing else): the index alone
    #: can count the matches, without reading a mention row
    index_only: str | None = None
    #: an index expression that every mention the condition selects matches (the whole condition,
    #: or a part of its top-level AND): the index alone counts and yields a superset of the
    #: candidates, for a check in Python, without evaluating the other parts per mention
    driver: str | None = None
    #: the rest of the condition when the driver is one part of its top-level AND (None: the driver
    #: is the whole condition): a mention the driver's expression matches is selected when this holds
    rest: ColumnElement[bool] | None = None
    #: the lowest and highest id of the mentions in the caller's time window: every index read is
    #: held to them (:func:`window_span`; SQLite); None: no window
    ids: tuple[int, int] | None = None


@dataclass(frozen=True)
class _Expr:
    text: str
    exact: bool


class _Index:
    """Builds index expressions for one engine (FTS5 syntax or tsquery syntax)."""

    def __init__(self, postgres: bool, expand: Callable[[str], list[str] | None] | None = None) -> None:
        self.pg = postgres
        #: a ``?`` pattern -> the index words it matches (None: unknown, check in Python)
        self.expand = expand

    def words(self, words: Sequence[str], prefix: bool = False) -> str:
        if self.pg:
            lexemes = [f"'{w}'" for w in words]
            if prefix:
                lexemes[-1] += ":*"
            return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"
        return '"' + " ".join(words) + '"' + ("*" if prefix else "")

    def join(self, parts: Sequence[str], op: str) -> str:
        if len(parts) == 1:
            return parts[0]
        sep = {"and": " & ", "or": " | "}[op] if self.pg else {"and": " AND ", "or": " OR "}[op]
        return "(" + sep.join(parts) + ")"

    def minus(self, positive: str | None, negatives: Sequence[str]) -> str | None:
        """``positive`` without any of ``negatives``; FTS5 needs a positive part, tsquery does not."""
        if not negatives:
            return positive
        if self.pg:
            parts = ([positive] if positive else []) + [f"!{n}" for n in negatives]
            return "(" + " & ".join(parts) + ")"
        if positive is None:
            return None
        return "(" + positive + "".join(f" NOT {n}" for n in negatives) + ")"

    def operand(self, node: ast.Node) -> list[tuple[str, bool]] | None:
        """A NEAR operand as alternatives of (expression, exact)."""
        if isinstance(node, ast.Or):
            found = [self.operand(c) for c in node.children]
            return None if any(f is None for f in found) else [a for f in found if f for a in f]
        if isinstance(node, ast.Pattern) and not node.is_prefix and self.expand is not None:
            terms = self.expand(node.pattern)
            if terms is not None and len(terms) <= MAX_NEAR_EXPANSION:
                return [(self.words([t]), True) for t in terms or [NO_SUCH_WORD]]
        expr = self.leaf(node)
        return None if expr is None else [(expr.text, expr.exact)]

    def leaf(self, node: ast.Node) -> _Expr | None:
        if isinstance(node, ast.Term):
            return _Expr(self.words([node.word]), True)
        if isinstance(node, ast.Phrase):
            return _Expr(self.words(node.words), True)
        if isinstance(node, ast.Pattern):
            if not node.is_prefix and self.expand is not None:
                terms = self.expand(node.pattern)
                if terms is not None:  # the words of the index the pattern matches: exact
                    return _Expr(self.join([self.words([t]) for t in terms or [NO_SUCH_WORD]], "or"), True)
            prefix = node.literal_prefix
            if not prefix:
                return None
            return _Expr(self.words([prefix], prefix=True), node.is_prefix)
        if isinstance(node, (ast.Hashtag, ast.Handle)):
            from resonanz.mentions.tokens import words

            found = words(node.tag if isinstance(node, ast.Hashtag) else node.handle)
            return _Expr(self.words(found), False) if found else None
        if isinstance(node, ast.Field) and node.name == "has" and node.value == "link":
            return _Expr(self.join([self.words([w]) for w in _LINK_WORDS], "or"), False)
        if isinstance(node, ast.Near):
            return self.near(node)
        return None

    def near(self, node: ast.Near) -> _Expr | None:
        left, right = self.operand(node.left), self.operand(node.right)
        if left is None or right is None:
            return None
        if self.pg:  # both must occur; the distance is checked in Python
            return _Expr(
                self.join([self.join([a for a, _ in left], "or"), self.join([b for b, _ in right], "or")], "and"), False
            )
        pairs = [f"NEAR({a} {b}, {node.distance})" for a, _ in left for b, _ in right]
        # FTS5's NEAR is ours (at most n words between, either order) except that it lets one
        # word stand for both sides: exact when the sides cannot share a word, and unordered
        exact = (
            not node.ordered
            and all(e for _, e in left + right)
            and not any(_may_share_a_word(a, b) for a in _alternatives(node.left) for b in _alternatives(node.right))
        )
        return _Expr(self.join(pairs, "or"), exact)

    def expr(self, node: ast.Node) -> _Expr | None:
        """One index expression for a subtree of text leaves (None: it cannot be said alone)."""
        if isinstance(node, ast.And):
            positives: list[str] = []
            negatives: list[str] = []
            exact = True
            for child in node.children:
                if isinstance(child, ast.Not):
                    inner = self.expr(child.child)
                    if inner is not None and inner.exact:
                        negatives.append(inner.text)
                    else:
                        exact = False
                    continue
                found = self.expr(child)
                if found is None:
                    exact = False
                    continue
                positives.append(found.text)
                exact = exact and found.exact
            combined = self.minus(self.join(positives, "and") if positives else None, negatives)
            return None if combined is None else _Expr(combined, exact)
        if isinstance(node, ast.Or):
            found_all = [self.expr(c) for c in node.children]
            if any(f is None for f in found_all):
                return None
            alts = [f for f in found_all if f is not None]
            return _Expr(self.join([f.text for f in alts], "or"), all(f.exact for f in alts))
        if isinstance(node, ast.Not):
            inner = self.expr(node.child)
            if self.pg and inner is not None and inner.exact:
                return _Expr(f"!{inner.text}", True)
            return None
        return self.leaf(node)


def _glob(pattern: str) -> str:
    """A query pattern as an SQLite GLOB over whole index words (``?`` one character, ``*`` rest)."""
    out = []
    for char in pattern:
        out.append(char if char in "?*" else "[" + char + "]" if char in "[]" else char)
    return "".join(out)


def expand_pattern(session: Session, pattern: str) -> list[str] | None:
    """The words of SQLite's full-text index that a ``?`` pattern matches, read from the index's
    vocabulary (an ``fts5vocab`` table in the connection's temp schema), so ``m?ller`` becomes
    ``(mueller OR miller …)``, exact, instead of every mention with a word starting with "m" checked
    in Python. None when more than :data:`MAX_EXPANSION` words match (then checked as before)."""
    conn = session.connection()
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.mention_fts_vocab USING fts5vocab(main, mention_fts, row)"
    )
    prefix = ast.Pattern(pattern).literal_prefix
    sql = "SELECT term FROM temp.mention_fts_vocab WHERE term GLOB :glob"
    params: dict[str, Any] = {"glob": _glob(pattern), "limit": MAX_EXPANSION + 1}
    if prefix:  # fts5vocab walks only the terms in this range
        sql += " AND term >= :low AND term < :high"
        params.update(low=prefix, high=prefix[:-1] + chr(ord(prefix[-1]) + 1))
    terms = [row[0] for row in conn.execute(text(sql + " LIMIT :limit"), params)]
    return None if len(terms) > MAX_EXPANSION else terms


def _alternatives(node: ast.Node) -> tuple[ast.Node, ...]:
    return node.children if isinstance(node, ast.Or) else (node,)


def _word_parts(node: ast.Node) -> tuple[set[str], set[str]]:
    """(words, prefix stems) a NEAR operand may match with."""
    if isinstance(node, ast.Term):
        return {node.word}, set()
    if isinstance(node, ast.Phrase):
        return set(node.words), set()
    assert isinstance(node, ast.Pattern), node
    return set(), {node.literal_prefix}


def _may_share_a_word(a: ast.Node, b: ast.Node) -> bool:
    words_a, stems_a = _word_parts(a)
    words_b, stems_b = _word_parts(b)
    if words_a & words_b:
        return True
    if any(w.startswith(stem) for stem in stems_a for w in words_b):
        return True
    if any(w.startswith(stem) for stem in stems_b for w in words_a):
        return True
    return any(x.startswith(y) or y.startswith(x) for x in stems_a for y in stems_b)


def _text_only(node: ast.Node) -> bool:
    return all(
        isinstance(leaf, _TEXT_LEAVES) or (isinstance(leaf, ast.Field) and leaf.name == "has" and leaf.value == "link")
        for leaf in ast.leaves(node)
    )


class _Translator:
    def __init__(self, session: Session, ids: tuple[int, int] | None = None, every: int = 1) -> None:
        self.session = session
        self.ids = ids
        self.every = every
        postgres = session.get_bind().dialect.name == "postgresql"
        self.index = _Index(postgres, None if postgres else functools.partial(expand_pattern, session))
        self.params = 0
        self.index_queries: list[str] = []
        self.conditions: list[tuple[ColumnElement[bool], str]] = []

    def index_condition(self, expr: str) -> ColumnElement[bool]:
        name = f"lq{self.params}"
        self.params += 1
        self.index_queries.append(expr)
        if self.index.pg:
            sql = f"SELECT mention_id FROM mention_search WHERE vector @@ CAST(:{name} AS tsquery)"
        else:
            sql = f"SELECT rowid FROM mention_fts WHERE mention_fts MATCH :{name}"
        if self.every > 1 and not self.index.pg:  # FTS5 keeps only the sampled rowids
            sql += f" AND rowid % {int(self.every)} = 0"
        found = text(sql + _id_range(self.index.pg, self.ids)).bindparams(bindparam(name, expr))
        ids = found.columns(column("id", Integer))
        condition = Mention.id.in_(ids)
        self.conditions.append((condition, expr))
        return condition

    def field(self, node: ast.Field) -> tuple[ColumnElement[bool] | None, bool]:
        if node.name in _COLUMNS:
            col = _COLUMNS[node.name]
            return and_(col.is_not(None), col == node.value), True
        if node.name == "source":
            ids = [i for i, n in self.session.execute(select(Source.id, Source.name)) if fold(n) == node.value]
            # "IS NOT NULL AND": under NOT, a NULL would drop the row instead of keeping it
            return (and_(Mention.source_id.is_not(None), Mention.source_id.in_(ids)) if ids else false()), True
        if node.name == "author":
            wanted = [
                i
                for i, h in self.session.execute(select(Author.id, Author.handle))
                if fold(h).removeprefix("@") == node.value
            ]
            return (and_(Mention.author_id.is_not(None), Mention.author_id.in_(wanted)) if wanted else false()), True
        if node.name == "site":
            from resonanz.mentions.tokens import words

            in_text = self.index_condition(self.index.words(words(node.value)))
            return or_(in_text, func.lower(Mention.url).contains(node.value, autoescape=True)), False
        if node.value == "link":
            return self.index_condition(self.index.join([self.index.words([w]) for w in _LINK_WORDS], "or")), False
        return None, False  # has:hashtag, has:mention: checked in Python

    def condition(self, node: ast.Node) -> tuple[ColumnElement[bool] | None, bool]:
        """(condition or None for 'any mention', exact)."""
        if _text_only(node):
            found = self.index.expr(node)
            if found is not None:
                return self.index_condition(found.text), found.exact
            if isinstance(node, _TEXT_LEAVES):
                return None, False
        if isinstance(node, ast.Field):
            return self.field(node)
        if isinstance(node, ast.Not):
            inner, exact = self.condition(node.child)
            if not exact:
                return None, False
            return (false() if inner is None else not_(inner)), True
        if isinstance(node, ast.And):
            parts = [self.condition(c) for c in node.children]
            conds = [c for c, _ in parts if c is not None]
            return (and_(*conds) if conds else None), all(e for _, e in parts)
        if isinstance(node, ast.Or):
            parts = [self.condition(c) for c in node.children]
            if any(c is None for c, _ in parts):
                return None, False
            return or_(*[c for c, _ in parts if c is not None]), all(e for _, e in parts)
        return None, False  # pragma: no cover - leaves are handled above


def translate(session: Session, tree: ast.Node, *, ids: tuple[int, int] | None = None, every: int = 1) -> SqlPlan:
    """The SQL condition for ``tree`` on this session's engine. For a caller that holds its own
    statements to a time window: ``ids``, the window's id range (:func:`window_span`), held to by
    every index read on SQLite (:attr:`SqlPlan.ids`); ``every`` > 1, the caller reads only
    mentions whose id is a multiple of it, and SQLite's index reads keep only those. PostgreSQL's
    GIN subqueries get neither: its planner already drives a narrow window by the published_at
    index, and an id range or modulus there made it scan every match instead (7 days of
    ``kundenservice`` at 1M: 31 -> 400 ms)."""
    translator = _Translator(session, None if session.get_bind().dialect.name == "postgresql" else ids, every)
    where, exact = translator.condition(tree)
    exprs = {id(c): e for c, e in translator.conditions}
    whole = exprs.get(id(where))
    driver = whole
    rest: ColumnElement[bool] | None = None
    if driver is None and isinstance(where, BooleanClauseList) and where.operator is operators.and_:
        part = next((c for c in where.clauses if id(c) in exprs), None)
        if part is not None:
            driver = exprs[id(part)]
            others = [c for c in where.clauses if c is not part]
            rest = and_(*others) if others else None
    return SqlPlan(where, exact, translator.index_queries, whole if exact else None, driver, rest, translator.ids)


def _id_range(pg: bool, ids: tuple[int, int] | None) -> str:
    """`` AND <id> BETWEEN lo AND hi`` inside an index subquery (values inlined: they are ints we
    read). FTS5 seeks its doclists to the rowid range, so a common word in a week of a long
    history reads a week's share of its index (``nordwelle``, 7 days of 1M: 608 → 10 ms)."""
    if ids is None:
        return ""
    lo, hi = int(ids[0]), int(ids[1])
    return f" AND {'mention_id' if pg else 'rowid'} BETWEEN {lo} AND {hi}"


def window_span(session: Session, window: Sequence[ColumnElement[bool]]) -> tuple[int, int, int]:
    """``(lowest id, highest id, mentions)`` of the mentions in ``window`` (``(1, 0, 0)``: none),
    read from the ``published_at`` index in one pass. Ids follow ingest order, which mostly
    follows time: a window is then a narrow id range; a backfill only widens it (slower, never
    wrong)."""
    stmt = select(func.min(Mention.id), func.max(Mention.id), func.count()).select_from(Mention).where(*window)
    lo, hi, rows = session.execute(stmt).one()
    return (1, 0, 0) if lo is None else (int(lo), int(hi), int(rows))


def count_index(session: Session, expr: str, *, every: int = 1, ids: tuple[int, int] | None = None) -> Any:
    """A select of the mention ids the index expression matches (every ``every``-th id only: a
    systematic sample), for counting and for a sampled daily curve; ``ids``: within that range
    (:attr:`SqlPlan.ids`)."""
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        sql = "SELECT mention_id AS id FROM mention_search WHERE vector @@ CAST(:expr AS tsquery)"
        if every > 1:
            sql += " AND mention_id % :every = 0"
    else:
        sql = "SELECT rowid AS id FROM mention_fts WHERE mention_fts MATCH :expr"
        if every > 1:
            sql += " AND rowid % :every = 0"
    sql += _id_range(pg, ids)
    params = {"expr": expr, **({"every": every} if every > 1 else {})}
    return text(sql).bindparams(**params).columns(column("id", Integer))


@dataclass(frozen=True)
class IndexSample:
    """A sample of the stored mentions' index rows (PostgreSQL ``TABLESAMPLE SYSTEM``: whole pages,
    each with the same chance): ``rows`` read, ``ids`` of those the expression matches, out of about
    ``total`` rows. ``ids`` are real matches; the counts they stand for are estimates."""

    percent: float
    rows: int
    total: int
    ids: list[int]

    @property
    def share(self) -> float:
        """The share of the index rows read (1.0: all)."""
        return 1.0 if self.percent >= 100 or not self.total else min(1.0, self.rows / self.total)

    @property
    def scale(self) -> float:
        """What one row of the sample stands for: the ratio of all rows to the rows read (a ratio
        estimate: steadier than dividing by the percentage, as pages hold different numbers of rows)."""
        return 1.0 if self.share >= 1.0 or not self.rows else self.total / self.rows

    @property
    def estimate(self) -> int:
        """Matches among all rows, projected from the sample."""
        return round(len(self.ids) * self.scale)


#: the sample's seed: the same draft gives the same answer while the table does not change
SAMPLE_SEED = 17
#: below the planner's estimate of this many index rows, :func:`indexed_rows` counts them exactly
EXACT_TOTAL_BELOW = 100_000


def indexed_rows(session: Session) -> int:
    """About how many mentions the PostgreSQL index holds: the planner's figure (from the table's
    statistics and its current size, no row read), counted exactly for a small table, whose
    statistics may not exist yet."""
    plan = session.execute(text("EXPLAIN (FORMAT JSON) SELECT 1 FROM mention_search")).scalar_one()
    planned = int(plan[0]["Plan"]["Plan Rows"])
    if planned >= EXACT_TOTAL_BELOW:
        return planned
    return int(session.scalar(text("SELECT count(*) FROM mention_search")) or 0)


def sample_percent(wanted_rows: float, total: int, *, cap: float = 100.0) -> float:
    """The ``TABLESAMPLE`` percentage that reads about ``wanted_rows`` of ``total`` rows."""
    if total <= 0:
        return 100.0
    return max(0.01, min(cap, 100.0 * wanted_rows / total))


def sample_index(session: Session, expr: str, percent: float, *, total: int) -> IndexSample:
    """The ids of the matches of an index expression among ``percent`` % of the index's pages
    (PostgreSQL only), and how many rows those pages held. Reads only the sampled pages: a common
    word's exact count would read every match's row (the GIN index is bitmap-only)."""
    sql = (
        "SELECT count(*), array_agg(mention_id) FILTER (WHERE vector @@ CAST(:q AS tsquery)) "
        "FROM mention_search TABLESAMPLE SYSTEM (CAST(:p AS real)) REPEATABLE (:seed)"
    )
    if percent >= 100:  # every row: no sampling method in the way
        sql = "SELECT count(*), array_agg(mention_id) FILTER (WHERE vector @@ CAST(:q AS tsquery)) FROM mention_search"
    params: dict[str, Any] = {"q": expr} if percent >= 100 else {"q": expr, "p": percent, "seed": SAMPLE_SEED}
    rows, ids = session.execute(text(sql), params).one()
    rows = int(rows or 0)
    return IndexSample(percent, rows, rows if percent >= 100 else max(total, rows), list(ids or []))


def planned_index_rows(session: Session, expr: str) -> int:
    """PostgreSQL's planner estimate of the mentions an index expression matches (from the index
    statistics, no row read): an exact count reads each match's ``mention_search`` row."""
    sql = "EXPLAIN (FORMAT JSON) SELECT mention_id FROM mention_search WHERE vector @@ CAST(:q AS tsquery)"
    return int(session.execute(text(sql), {"q": expr}).scalar_one()[0]["Plan"]["Plan Rows"])


def day_of(session: Session) -> ColumnElement[str]:
    """``published_at`` as its UTC day, "YYYY-MM-DD", computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(literal_column("mention.published_at AT TIME ZONE 'UTC'"), "YYYY-MM-DD")
    return func.substr(Mention.published_at, 1, 10)  # stored as "YYYY-MM-DD HH:MM:SS[.ffffff]"


def doc_columns(tree: ast.Node | None = None) -> tuple[Any, ...]:
    """The columns :func:`to_doc` reads, in order. Source name and author handle only when the
    query asks for them (``tree``; None: always): they cost a join per candidate."""
    names = {leaf.name for leaf in ast.leaves(tree) if isinstance(leaf, ast.Field)} if tree is not None else None
    return (
        Mention.text,
        Mention.title,
        Mention.url,
        Mention.lang,
        Mention.platform,
        Source.name if names is None or "source" in names else null(),
        Author.handle if names is None or "author" in names else null(),
        Mention.sentiment,
        Mention.intent,
    )


def to_doc(row: Sequence[Any]) -> Doc:
    return Doc(*row)


def candidate_rows(
    session: Session,
    plan: SqlPlan,
    *,
    tree: ast.Node | None = None,
    extra: Sequence[ColumnElement[bool]] = (),
    chunk: int = 5000,
) -> Iterator[Any]:
    """(id, UTC day, *doc columns) of every mention the plan selects, newest first, streamed."""
    columns = doc_columns(tree)
    stmt = select(Mention.id, day_of(session), *columns)
    if columns[5] is Source.name:
        stmt = stmt.outerjoin(Source, Source.id == Mention.source_id)
    if columns[6] is Author.handle:
        stmt = stmt.outerjoin(Author, Author.id == Mention.author_id)
    stmt = stmt.order_by(Mention.published_at.desc(), Mention.id.desc())
    conds = [*([plan.where] if plan.where is not None else []), *extra]
    if conds:
        stmt = stmt.where(and_(*conds))
    yield from session.execute(stmt.execution_options(yield_per=chunk))


def reindex(session: Session, *, batch: int = 5000) -> int:
    """Write the full-text index again for every mention, in id order; returns how many.

    For a PostgreSQL store indexed before the index held FTS5's words (``to_tsvector`` made hosts
    and hyphenated words of "example.com" and "e-mail", so ``example`` did not find them). The
    caller commits; safe to repeat.
    """
    last, total = 0, 0
    while True:
        rows = session.execute(
            select(Mention.id, Mention.title, Mention.text).where(Mention.id > last).order_by(Mention.id).limit(batch)
        ).all()
        if not rows:
            return total
        search_index.write(session, [(mid, title, body) for mid, title, body in rows], replace=True)
        last, total = rows[-1][0], total + len(rows)
