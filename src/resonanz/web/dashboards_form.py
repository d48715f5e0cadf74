"""The dashboard page's query string: what to show (all mentions, a brand or a query), the range
(a preset or custom dates in the viewer's zone) and the interval, read into a :class:`Scope`.

Bad values never fail the page: each becomes a message next to its field and the page shows the
default view instead. Presets end now and start at a local midnight (24 h: an hour boundary), so
"7 days" is seven whole local days, today included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.i18n import N_, zone
from resonanz.listening.analytics_schemas import INTERVALS, Scope
from resonanz.listening.models import Brand, Query

RANGES = {"24h": N_("Last 24 hours"), "7d": N_("Last 7 days"), "30d": N_("Last 30 days"),
          "90d": N_("Last 90 days"), "custom": N_("Custom dates")}  # fmt: skip
PRESET_DAYS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_INTERVAL = {"24h": "hour", "7d": "day", "30d": "day", "90d": "week", "custom": "day"}
INTERVAL_LABELS = {"": N_("Automatic"), "hour": N_("Hourly"), "day": N_("Daily"), "week": N_("Weekly")}


@dataclass
class DashboardForm:
    """What the person asked for, as typed (to refill the form), and what was wrong with it."""

    scope: str = "all"  # all | brand:ID | query:ID
    range: str = "7d"
    since: str = ""
    until: str = ""
    interval: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    #: the listening queries behind the chosen scope (for click-through); None: every mention
    query_ids: list[int] | None = None

    def url(self, **overrides: str) -> str:
        values = {"scope": self.scope, "range": self.range, "since": self.since, "until": self.until,
                  "interval": self.interval, **overrides}  # fmt: skip
        if values["range"] != "custom":
            values["since"] = values["until"] = ""
        pairs = [(k, v) for k, v in values.items() if v and not (k == "scope" and v == "all")]
        return "/dashboards" + ("?" + urlencode(pairs) if pairs else "")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _scope_ids(session: Session, form: DashboardForm, gettext: Any) -> dict[str, list[int]]:
    kind, _, raw = form.scope.partition(":")
    if form.scope == "all":
        return {}
    if kind in ("brand", "query") and raw.isdigit() and len(raw) < 12:
        sid = int(raw)
        if kind == "brand" and session.get(Brand, sid) is not None:
            form.query_ids = list(session.scalars(select(Query.id).where(Query.brand_id == sid).order_by(Query.id)))
            return {"brand_ids": [sid]}
        if kind == "query" and session.get(Query, sid) is not None:
            form.query_ids = [sid]
            return {"query_ids": [sid]}
    form.errors["scope"] = gettext("Choose a brand or query from the list.")
    form.scope = "all"
    return {}


def _range(form: DashboardForm, tz: ZoneInfo, now: datetime, gettext: Any) -> tuple[datetime, datetime]:
    local_today = now.astimezone(tz).date()
    if form.range == "custom":
        try:
            first = date.fromisoformat(form.since)
        except ValueError:
            form.errors["since"] = gettext("Enter a date as YYYY-MM-DD.")
        try:
            last = date.fromisoformat(form.until) if form.until else local_today
        except ValueError:
            form.errors["until"] = gettext("Enter a date as YYYY-MM-DD.")
        if not form.errors:
            if last < first:
                form.errors["until"] = gettext("The end date is before the start date.")
            else:
                return _local_midnight(first, tz), _local_midnight(last + timedelta(days=1), tz)
        form.range = "7d"
    if form.range == "24h":
        return now - timedelta(hours=24), now
    days = PRESET_DAYS.get(form.range, 7)
    return _local_midnight(local_today - timedelta(days=days - 1), tz), now


def read_form(session: Session, params: Any, *, tz: str, now: datetime, gettext: Any) -> tuple[DashboardForm, Scope]:
    """(the form, the scope to show) from the request's query params (Starlette ``QueryParams``)."""
    get = params.get
    form = DashboardForm(
        scope=(get("scope") or "all").strip()[:40],
        range=get("range") if get("range") in RANGES else "7d",
        since=(get("since") or "").strip()[:20],
        until=(get("until") or "").strip()[:20],
        interval=get("interval") if get("interval") in INTERVALS else "",
    )
    if get("interval") not in (None, "", *INTERVALS):
        form.errors["interval"] = gettext("Choose one of the listed values.")
    ids = _scope_ids(session, form, gettext)
    zone_info = zone(tz)
    tz_name = getattr(zone_info, "key", "UTC")
    since, until = _range(form, zone_info, now, gettext)
    interval = form.interval or DEFAULT_INTERVAL[form.range]
    try:
        scope = Scope(since=since, until=until, tz=tz_name, interval=interval, **ids)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        form.errors["interval" if "buckets" in message else "since"] = (
            gettext("Too many points for this interval: choose a coarser one.")
            if "buckets" in message
            else gettext("The range is too long (at most 400 days).")
        )
        form.range, form.interval = "7d", ""
        since, until = _range(form, zone_info, now, gettext)
        scope = Scope(since=since, until=until, tz=tz_name, interval="day", **ids)
    return form, scope


def scope_options(session: Session) -> dict[str, list[tuple[str, str]]]:
    """The choices of the scope select: brands and queries, by name."""
    brands = [(f"brand:{i}", n) for i, n in session.execute(select(Brand.id, Brand.name).order_by(Brand.name))]
    queries = [(f"query:{i}", n) for i, n in session.execute(select(Query.id, Query.name).order_by(Query.name))]
    return {"brands": brands, "queries": queries}
