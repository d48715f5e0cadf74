"""``/dashboards``: every chart and list of :func:`resonanz.listening.analytics.dashboard` for a
brand, a query or all mentions, each point, bar and entry linking to the mentions behind it.

The charts are the SVG strings of :mod:`resonanz.listening.charts` (the same ones reports embed),
marked safe here because the renderer escapes every text it writes; tooltips and click-through
come from ``/static/dashboards.js`` (no inline script, CSP). Numbers and dates are formatted per
the viewer's language and zone; buckets are the viewer's local hours, days and weeks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz import clock
from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.i18n import N_, translations
from resonanz.listening import charts
from resonanz.listening.analytics import dashboard
from resonanz.listening.analytics_schemas import Dashboard, Facet, Scope, TopList
from resonanz.listening.models import Query, QueryMatch
from resonanz.mentions.models import Mention
from resonanz.web.dashboards_form import INTERVAL_LABELS, RANGES, DashboardForm, read_form, scope_options
from resonanz.web.deps import require_page
from resonanz.web.templating import formatters, locale_of, render

router = APIRouter(include_in_schema=False)

SENTIMENTS = (("positive", N_("Positive")), ("neutral", N_("Neutral")), ("negative", N_("Negative")),
              ("unknown", N_("Not analysed")))  # fmt: skip


class Links:
    """``/mentions`` URLs for the dashboard's scope and range, plus one more filter."""

    def __init__(self, form: DashboardForm, board: Dashboard, tz: str) -> None:
        self.base: list[tuple[str, str]] = [("query", str(q)) for q in form.query_ids or ()]
        if form.query_ids == []:  # a brand without queries: nothing to show, say so with an impossible id
            self.base = [("query", "0")]
        self.zone = board.scope.zone
        #: brand id -> its query ids (share-of-voice bars click through to a brand's queries)
        self.brand_queries: dict[int, list[int]] = {}
        self.since = board.range_since.astimezone(self.zone).date()
        self.until = (board.range_until - timedelta(microseconds=1)).astimezone(self.zone).date()

    def _url(self, pairs: Sequence[tuple[str, str]], since: Any = None, until: Any = None) -> str:
        days = [("since", (since or self.since).isoformat()), ("until", (until or self.until).isoformat())]
        return "/mentions?" + urlencode([*self.base, *pairs, *days])

    def bucket(self, start: datetime, end: datetime, *pairs: tuple[str, str]) -> str:
        last = (end - timedelta(microseconds=1)).astimezone(self.zone).date()
        return self._url(pairs, start.astimezone(self.zone).date(), last)

    def all(self) -> str:
        return self._url([])

    def queries(self, ids: Sequence[int]) -> str:
        """The range's mentions matched by any of these queries (a share-of-voice bar), whatever
        the dashboard's own scope."""
        days = [("since", self.since.isoformat()), ("until", self.until.isoformat())]
        return "/mentions?" + urlencode([*(("query", str(i)) for i in ids), *days])

    def filtered(self, name: str, value: str) -> str:
        return self._url([(name, value)])

    def search(self, text: str) -> str:
        return self._url([("q", '"' + text.replace('"', " ").strip() + '"')])


def _labels(board: Dashboard, fmt: dict[str, Callable[..., str]]) -> tuple[list[str], list[str]]:
    """Axis labels (short) and tooltip labels (full) of the buckets."""
    short, full = [], []
    for p in board.volume.points:
        if board.scope.interval == "hour":
            short.append(fmt["format_datetime"](p.start, "short"))
            full.append(fmt["format_datetime"](p.start, "medium"))
        else:
            short.append(fmt["format_date"](p.start, "short"))
            full.append(fmt["format_date"](p.start, "medium"))
    return short, full


def _charts(
    board: Dashboard, links: Links, fmt: dict[str, Callable[..., str]], gettext: Callable[[str], str]
) -> dict[str, Any]:
    number = fmt["format_number"]
    short, full = _labels(board, fmt)
    points = board.volume.points
    hrefs: list[str | None] = [links.bucket(p.start, p.end) for p in points]
    period = f"{full[0]} – {full[-1]}" if full else ""
    out: dict[str, Any] = {}
    out["volume"] = charts.line_chart(
        [charts.Series(gettext("Mentions"), [p.count for p in points])],
        short,
        tip_labels=full,
        title=gettext("Mentions over time"),
        desc=gettext("%(total)s mentions, %(period)s") % {"total": number(board.volume.total), "period": period},
        hrefs=hrefs,
        fmt=number,
    )
    sent = board.sentiment.points
    out["sentiment"] = charts.stacked_bar_chart(
        [charts.Series(gettext(name), [getattr(p, key) for p in sent], key) for key, name in SENTIMENTS],
        short,
        tip_labels=full,
        title=gettext("Sentiment over time"),
        desc=gettext("Positive, neutral, negative and not analysed mentions per bucket, %(period)s")
        % {"period": period},
        hrefs=hrefs,
        fmt=number,
    )
    out["net"] = charts.line_chart(
        [charts.Series(gettext("Net sentiment"), [p.net or 0.0 for p in sent], "s4")],
        short,
        tip_labels=full,
        title=gettext("Net sentiment"),
        desc=gettext("(positive − negative) ÷ (positive + negative + neutral) per bucket"),
        hrefs=hrefs,
        fmt=fmt["format_percent"],
        y_min=-1.0,
        y_max=1.0,
    )
    sov = board.share_of_voice
    out["share"] = charts.bar_list(
        [
            (
                f"{item.name} ({fmt['format_percent'](item.share)})",
                item.count,
                links.queries([item.id] if item.kind == "query" else links.brand_queries.get(item.id, [0])),
            )
            for item in sov.items
        ],
        title=gettext("Share of voice"),
        desc=gettext("Mentions per brand in the range; shares of %(total)s") % {"total": number(sov.total)},
        fmt=number,
        color="s0",
    )
    if len(sov.items) > 1:
        out["share_time"] = charts.stacked_bar_chart(
            [charts.Series(item.name, [p.counts[j] for p in sov.points], f"s{j}") for j, item in enumerate(sov.items)],
            short,
            tip_labels=full,
            title=gettext("Share of voice over time"),
            desc=gettext("Mentions per brand and bucket, %(period)s") % {"period": period},
            hrefs=hrefs,
            fmt=number,
        )
    lang_name = fmt["language_name"]
    out["languages"] = _facet_chart(board.languages, gettext("Languages"), "lang", links, number, lang_name, gettext)
    out["platforms"] = _facet_chart(board.platforms, gettext("Platforms"), "platform", links, number, str, gettext)
    out["sources"] = _facet_chart(board.sources, gettext("Sources"), "source", links, number, str, gettext)
    out["terms"] = _top_chart(board.top_terms, gettext("Top terms"), links.search, number, gettext, "s1")
    out["hashtags"] = _top_chart(
        board.top_hashtags, gettext("Top hashtags"), lambda v: links.search(v.lstrip("#")), number, gettext, "s2"
    )
    out["domains"] = _top_chart(board.top_domains, gettext("Linked sites"), links.search, number, gettext, "s3")
    out["links"] = _top_chart(board.top_links, gettext("Top links"), links.search, number, gettext, "s5")
    for key, authors, title, value in (
        ("authors_reach", board.authors_by_reach, gettext("Authors by reach (followers)"), "followers"),
        ("authors_volume", board.authors_by_volume, gettext("Authors by volume (mentions)"), "count"),
    ):
        out[key] = charts.bar_list(
            [
                (
                    f"{a.name} (@{a.handle.lstrip('@')})" if a.name else "@" + a.handle.lstrip("@"),
                    getattr(a, value),
                    links.filtered("author", str(a.id)),
                )
                for a in authors.items
            ],
            title=title,
            desc=_sample_note(authors.sampled, authors.sample_size, authors.total, number, gettext),
            fmt=number,
            color="s6",
        )
    return {k: Markup(v) for k, v in out.items()}  # noqa: S704 - the renderer escapes every text it writes


def _sample_note(
    sampled: bool, size: int, total: int, number: Callable[..., str], gettext: Callable[[str], str]
) -> str:
    if sampled:
        return gettext("Counted over %(n)s of %(total)s mentions (an even sample)") % {
            "n": number(size),
            "total": number(total),
        }
    return gettext("Counted over all %(total)s mentions of the range") % {"total": number(total)}


def _facet_chart(
    facet: Facet,
    title: str,
    param: str,
    links: Links,
    number: Callable[..., str],
    label: Callable[..., str],
    gettext: Callable[[str], str],
) -> str:
    none = gettext("unknown")
    items = [
        (label(item.label) if item.key not in ("", "0") else none, item.count,
         links.filtered(param, item.key) if item.key not in ("", "0") else None)
        for item in facet.items[:12]
    ]  # fmt: skip
    desc = gettext("Mentions per value; %(total)s in all") % {"total": number(facet.total)}
    return charts.bar_list(items, title=title, desc=desc, fmt=number, color="s7")


def _top_chart(
    top: TopList,
    title: str,
    href: Callable[[str], str],
    number: Callable[..., str],
    gettext: Callable[[str], str],
    color: str,
) -> str:
    items = [(item.value, item.count, href(item.value)) for item in top.items]
    desc = _sample_note(top.sampled, top.sample_size, top.total, number, gettext)
    return charts.bar_list(items, title=title, desc=desc, fmt=number, color=color)


def newest_in_scope(session: Session, scope: Scope) -> datetime | None:
    """When the scope's newest mention was published, whatever the range (None: it has none).
    One index seek per chosen query (``ix_query_match_query_published``) or on
    ``ix_mention_published``."""
    if scope.query_ids is None and scope.brand_ids is None:
        return session.scalar(select(func.max(Mention.published_at)))
    ids = set(scope.query_ids or [])
    if scope.brand_ids:
        ids.update(session.scalars(select(Query.id).where(Query.brand_id.in_(scope.brand_ids))))
    newest = [
        session.scalar(select(func.max(QueryMatch.published_at)).where(QueryMatch.query_id == qid)) for qid in ids
    ]
    return max((n for n in newest if n is not None), default=None)


#: days up to the newest mention that the empty range's hint offers
HINT_DAYS = 30


def empty_range_hint(session: Session, form: DashboardForm, board: Dashboard) -> dict[str, Any] | None:
    """For a range without mentions (an old import, a demo from last month): when the scope's
    newest mention is from, and a link to the 30 days up to it — instead of an empty page."""
    if board.volume.total or form.errors:
        return None
    newest = newest_in_scope(session, board.scope)
    if newest is None:
        return None
    last = newest.astimezone(board.scope.zone).date()
    params = {"scope": form.scope, "range": "custom", "since": str(last - timedelta(days=HINT_DAYS - 1))}
    return {"newest": newest, "href": "/dashboards?" + urlencode({**params, "until": str(last)})}


@router.get("/dashboards", response_class=HTMLResponse)
def dashboards_page(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.dashboards_read)]
) -> HTMLResponse:
    """The dashboard of the chosen brand, query or all mentions over the chosen range."""
    locale = locale_of(request, principal)
    gettext = translations(locale).ugettext
    form, scope = read_form(session, request.query_params, tz=principal.time_zone, now=clock.now(), gettext=gettext)
    board = dashboard(session, scope=scope)
    fmt = formatters(locale, scope.tz)
    links = Links(form, board, scope.tz)
    for qid, bid in session.execute(select(Query.id, Query.brand_id).where(Query.brand_id.is_not(None))):
        if bid is not None:
            links.brand_queries.setdefault(bid, []).append(qid)
    sent = board.sentiment
    labelled = sent.positive + sent.negative + sent.neutral
    context = {
        "principal": principal,
        "form": form,
        "board": board,
        "charts": _charts(board, links, fmt, gettext),
        "links": links,
        "options": {**scope_options(session), "ranges": RANGES, "intervals": INTERVAL_LABELS},
        "negative_share": sent.negative / labelled if labelled else None,
        "empty_hint": empty_range_hint(session, form, board),
    }
    return render(request, "dashboards/page.html", context, status_code=400 if form.errors else 200)
