"""What a dashboard asks (:class:`Scope`) and what it gets back (JSON-able pydantic models).

The same models serve the web page, ``/api/v1/analytics/...`` and the reports, so the numbers are
the same everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

Interval = Literal["hour", "day", "week"]
INTERVALS: tuple[Interval, ...] = ("hour", "day", "week")
#: a chart with more points than this is unreadable and slow; ask for a coarser interval
MAX_BUCKETS = 2_200
MAX_RANGE = timedelta(days=400)


class Scope(BaseModel):
    """Which mentions (``query_ids`` or ``brand_ids``; neither: every mention) over which range,
    bucketed by ``interval`` in the zone ``tz`` (IANA name; day and week boundaries are local
    midnights, so a DST day has 23 or 25 hours). The range is widened to whole buckets.

    Given both ``query_ids`` and ``brand_ids``, or several of either, the scope is their union: a
    mention matched by two chosen queries (or by queries of two chosen brands) counts once, in every
    chart, facet, top list and total. Share of voice alone compares the chosen items one by one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    query_ids: list[int] | None = Field(default=None, max_length=50)
    brand_ids: list[int] | None = Field(default=None, max_length=50)
    since: AwareDatetime
    until: AwareDatetime
    tz: str = "UTC"
    interval: Interval = "day"

    @field_validator("query_ids", "brand_ids")
    @classmethod
    def _ids(cls, values: list[int] | None) -> list[int] | None:
        if not values:
            return None
        if any(v < 1 for v in values):
            raise ValueError("ids are positive integers")
        return sorted(set(values))

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value[:60]!r} (use an IANA name such as Europe/Berlin)") from None
        return value

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _range(self) -> Scope:
        if self.since >= self.until:
            raise ValueError("since must be earlier than until")
        if self.until - self.since > MAX_RANGE:
            raise ValueError(f"the range is longer than {MAX_RANGE.days} days")
        step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[self.interval]
        if (self.until - self.since) / step > MAX_BUCKETS:
            raise ValueError(f"more than {MAX_BUCKETS} {self.interval} buckets: choose a coarser interval")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


class VolumePoint(BaseModel):
    start: datetime
    end: datetime
    count: int
    reach: int


class Volume(BaseModel):
    interval: Interval
    tz: str
    points: list[VolumePoint]
    total: int
    reach: int


class SentimentPoint(BaseModel):
    start: datetime
    end: datetime
    positive: int
    negative: int
    neutral: int
    unknown: int
    #: (positive - negative) / (positive + negative + neutral); None without labelled mentions
    net: float | None


class SentimentSeries(BaseModel):
    points: list[SentimentPoint]
    positive: int
    negative: int
    neutral: int
    unknown: int
    net: float | None


class ShareItem(BaseModel):
    kind: Literal["brand", "query"]
    id: int
    name: str
    #: own | product | competitor for brands; "query" for queries
    role: str
    count: int
    share: float


class SharePoint(BaseModel):
    start: datetime
    end: datetime
    counts: list[int]  # in the order of ShareOfVoice.items


class ShareOfVoice(BaseModel):
    items: list[ShareItem]
    total: int
    points: list[SharePoint]


class FacetItem(BaseModel):
    key: str
    label: str
    count: int
    reach: int
    share: float


class Facet(BaseModel):
    items: list[FacetItem]
    total: int


class TopItem(BaseModel):
    value: str
    count: int


class TopList(BaseModel):
    items: list[TopItem]
    #: True when only an even sample (``sample_size`` of ``total`` mentions) was read; counts are its
    sampled: bool
    sample_size: int
    total: int


class AuthorItem(BaseModel):
    id: int
    platform: str
    handle: str
    name: str | None
    followers: int
    count: int


class AuthorList(BaseModel):
    items: list[AuthorItem]
    sampled: bool
    sample_size: int
    total: int


class EmergingTerm(BaseModel):
    """``current`` mentions with the term in the range against ``baseline`` per range-length before:
    "x this period vs y per period before". Estimated (scaled from samples) when ``sampled``."""

    term: str
    current: int
    baseline: float
    growth: float
    new: bool


class EmergingTerms(BaseModel):
    items: list[EmergingTerm]
    baseline_since: datetime
    baseline_periods: int
    min_count: int
    sampled: bool


class Dashboard(BaseModel):
    scope: Scope
    range_since: datetime
    range_until: datetime
    volume: Volume
    sentiment: SentimentSeries
    share_of_voice: ShareOfVoice
    languages: Facet
    platforms: Facet
    sources: Facet
    top_terms: TopList
    top_hashtags: TopList
    top_links: TopList
    top_domains: TopList
    authors_by_reach: AuthorList
    authors_by_volume: AuthorList
    emerging_terms: EmergingTerms
