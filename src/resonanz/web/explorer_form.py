"""The explorer's query string: read into an ``ExplorerQuery``, and written back for links.

The whole state of the explorer lives in the URL (filters, sort and the keyset cursor), so a view
can be bookmarked, shared and reloaded, and the back button works. Dates are whole days in the
viewer's time zone: "until 2026-11-27" means up to the end of that day where the viewer lives.
Bad values never fail the page: each becomes a message next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.orm import Session

from resonanz.analysis.feedback import LABELS
from resonanz.i18n import N_, zone

SORTS = ("newest", "oldest", "engagement")
SORT_LABELS = {"newest": N_("Newest first"), "oldest": N_("Oldest first"), "engagement": N_("Most engagement")}
PAGE_SIZES = (25, 50, 100)
MAX_Q = 500
MULTI = ("source", "platform", "lang", "sentiment", "intent", "query")
#: pages the "previous" link can step back through (their cursors ride along in the URL as ``back``)
BACK_DEPTH = 20
FIRST = "-"  # the first page in the ``back`` trail (it has no cursor)
SINGLE = ("q", "since", "until", "author", "sort", "limit")


@dataclass
class ExplorerForm:
    """What the person asked for, as typed (to refill the form), and what was wrong with it."""

    q: str = ""
    source: list[str] = field(default_factory=list)
    platform: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    sentiment: list[str] = field(default_factory=list)
    intent: list[str] = field(default_factory=list)
    query: list[str] = field(default_factory=list)  # listening query ids (click-through from dashboards)
    since: str = ""
    until: str = ""
    author: str = ""
    sort: str = "newest"
    limit: int = PAGE_SIZES[0]
    errors: dict[str, str] = field(default_factory=dict)  # field -> message (msgid, already translated)
    after: str | None = None  # this page's cursor
    back: list[str] = field(default_factory=list)  # cursors of the pages before it, oldest first

    def next_url(self, cursor: str) -> str:
        """The next page, remembering this one so "previous" can return to it."""
        trail = [*self.back, self.after or FIRST][-BACK_DEPTH:]
        return self.url(after=cursor, back="~".join(trail))

    def previous_url(self) -> str | None:
        """The page before this one, or None on the first page (the trail may be cut: then the
        first page)."""
        if not self.after:
            return None
        if not self.back:
            return self.url()
        previous = self.back[-1]
        return self.url(after=None if previous == FIRST else previous, back="~".join(self.back[:-1]))

    @property
    def active_filters(self) -> int:
        return sum(bool(getattr(self, name)) for name in (*MULTI, "since", "until", "author"))

    def params(self, **overrides: Any) -> list[tuple[str, str]]:
        """The query string pairs for this form (defaults left out), with ``overrides`` applied."""
        values: dict[str, Any] = {name: getattr(self, name) for name in (*SINGLE, *MULTI)}
        values.update(overrides)
        pairs: list[tuple[str, str]] = []
        for name in ("q", *MULTI, "since", "until", "author", "sort", "limit", "after", "back"):
            value = values.get(name)
            if value in (None, "", []) or (name == "sort" and value == "newest"):
                continue
            if name == "limit" and value == PAGE_SIZES[0]:
                continue
            if isinstance(value, list):
                pairs.extend((name, str(v)) for v in value)
            else:
                pairs.append((name, str(value)))
        return pairs

    def url(self, **overrides: Any) -> str:
        pairs = self.params(**overrides)
        return "/mentions" + ("?" + urlencode(pairs) if pairs else "")


def _day(value: str, tz: str, *, end: bool) -> datetime:
    day = date.fromisoformat(value)
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=zone(tz))


def read_form(params: Any, *, tz: str, gettext: Any) -> tuple[ExplorerForm, dict[str, Any]]:
    """(the form as typed, keyword arguments for ``ExplorerQuery``) from the request's query params.

    ``params`` is Starlette's ``QueryParams`` (``getlist``/``get``). Unknown sentiment/intent
    values and malformed dates and ids become field errors instead of exceptions.
    """
    form = ExplorerForm()
    get = params.get
    form.q = (get("q") or "").strip()[: MAX_Q + 1]
    if len(form.q) > MAX_Q:
        form.errors["q"] = gettext("The search is too long (at most %(n)s characters).") % {"n": MAX_Q}
        form.q = form.q[:MAX_Q]
    for name in MULTI:
        setattr(form, name, [v.strip() for v in params.getlist(name) if v and v.strip()][:50])
    form.since, form.until = (get("since") or "").strip(), (get("until") or "").strip()
    form.author = (get("author") or "").strip()[:300]
    form.sort = get("sort") if get("sort") in SORTS else "newest"
    try:
        form.limit = int(get("limit") or PAGE_SIZES[0])
    except ValueError:
        form.limit = PAGE_SIZES[0]
    if form.limit not in PAGE_SIZES:
        form.limit = min(PAGE_SIZES, key=lambda size: abs(size - form.limit))

    form.after = (get("after") or "").strip()[:500] or None
    back = (get("back") or "")[: BACK_DEPTH * 200]
    form.back = [c for c in back.split("~") if c and len(c) <= 500][-BACK_DEPTH:] if form.after else []

    query: dict[str, Any] = {"sort": form.sort}
    if form.q:
        query["q"] = form.q
    source_ids = []
    for value in form.source:
        if value.isdigit() and len(value) < 12:
            source_ids.append(int(value))
        else:
            form.errors["source"] = gettext("Unknown source.")
    if source_ids:
        query["source_ids"] = source_ids
    query_ids = [int(v) for v in form.query if v.isdigit() and len(v) < 12]
    if len(query_ids) < len(form.query):
        form.errors["query"] = gettext("Unknown query.")
    elif query_ids:
        query["query_ids"] = query_ids
    if form.platform:
        query["platforms"] = form.platform
    if form.lang:
        query["langs"] = form.lang
    for name, key, labels in (
        ("sentiment", "sentiments", LABELS["sentiment"]),
        ("intent", "intents", LABELS["intent"]),
    ):
        chosen = getattr(form, name)
        if any(v not in labels for v in chosen):
            form.errors[name] = gettext("Choose one of the listed values.")
        elif chosen:
            query[key] = chosen
    for name, end in (("since", False), ("until", True)):
        value = getattr(form, name)
        if not value:
            continue
        try:
            query[name] = _day(value, tz, end=end)
        except ValueError:
            form.errors[name] = gettext("Enter a date as YYYY-MM-DD.")
    if "since" in query and "until" in query and query["since"] >= query["until"]:
        form.errors["until"] = gettext("The end date is before the start date.")
    if form.author:
        query["author"] = form.author
    return form, query


_DISTINCT = """
WITH RECURSIVE d(v) AS (
  SELECT MIN({col}) FROM mention
  UNION ALL
  SELECT (SELECT MIN({col}) FROM mention WHERE {col} > d.v) FROM d WHERE d.v IS NOT NULL
)
SELECT v FROM d WHERE v IS NOT NULL LIMIT 200
"""


def distinct_values(session: Session, column: str) -> list[str]:
    """Distinct ``platform`` or ``lang`` values of all mentions, by a loose index scan (one index
    probe per value, so it stays fast at a million mentions on SQLite and PostgreSQL)."""
    if column not in {"platform", "lang"}:
        raise ValueError(column)
    return [row[0] for row in session.execute(text(_DISTINCT.format(col=column)))]
