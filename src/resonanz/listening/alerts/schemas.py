"""Rule parameters per kind (validated with field paths), and the API's read/write shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from resonanz.errors import InputError
from resonanz.listening.alerts.models import RuleKind
from resonanz.listening.alerts.rules import Sensitivity


class VolumeSpikeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sensitivity: Sensitivity = Sensitivity.medium
    min_count: int = Field(default=10, ge=1, le=1_000_000, description="never fire below this many mentions an hour")
    weeks: int = Field(default=4, ge=1, le=12, description="weeks of the same hour compared against")
    recent_hours: int = Field(default=24, ge=0, le=168)


class NegativeSurgeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sensitivity: Sensitivity = Sensitivity.medium
    min_volume: int = Field(default=10, ge=1, le=1_000_000)
    min_rise: float = Field(default=0.1, ge=0, le=1, description="the share must rise by at least this much")


class InfluencerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_followers: int = Field(default=10_000, ge=1)


class KeywordParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000, description='a listening query, e.g. "Rückruf" OR recall')
    min_count: int = Field(default=1, ge=1, le=100_000)

    @field_validator("text")
    @classmethod
    def _parses(cls, value: str) -> str:
        from resonanz.listening.query.compile import compile_query
        from resonanz.listening.query.errors import QuerySyntaxError

        try:
            compile_query(value)
        except QuerySyntaxError as exc:  # says where ("column 14") and why
            raise ValueError(str(exc)) from None
        return value


class CrisisParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sensitivity: Sensitivity = Sensitivity.medium
    min_count: int = Field(default=10, ge=1, le=1_000_000)
    weeks: int = Field(default=4, ge=1, le=12)


PARAMS: dict[str, type[BaseModel]] = {
    RuleKind.volume_spike: VolumeSpikeParams,
    RuleKind.negative_surge: NegativeSurgeParams,
    RuleKind.influencer: InfluencerParams,
    RuleKind.keyword: KeywordParams,
    RuleKind.crisis: CrisisParams,
}

#: minutes per bucket: statistics need hours; events (a keyword, an author) want minutes
BUCKET_MINUTES: dict[str, int] = {
    RuleKind.volume_spike: 60,
    RuleKind.negative_surge: 60,
    RuleKind.crisis: 60,
    RuleKind.influencer: 5,
    RuleKind.keyword: 5,
}


def validate_params(kind: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """Normalised params for ``kind``; :class:`InputError` with ``params.<field>`` otherwise."""
    try:
        model_cls = PARAMS[RuleKind(kind)]
    except ValueError:
        raise InputError(f"unknown rule kind {kind!r} (one of {', '.join(RuleKind)})", location="kind") from None
    try:
        return model_cls.model_validate(params or {}).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        raise InputError(message, location=f"params.{where}" if where else "params") from exc


class AlertRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    kind: RuleKind
    query_id: int | None = None
    brand_id: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    cooldown_minutes: int = Field(default=180, ge=0, le=7 * 24 * 60)
    enabled: bool = True
    channel_ids: list[int] = Field(default_factory=list, max_length=50)
    recipient_user_ids: list[int] = Field(default_factory=list, max_length=200)
    recipient_emails: list[str] = Field(default_factory=list, max_length=200)


class AlertRuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    params: dict[str, Any] | None = None
    cooldown_minutes: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    enabled: bool | None = None
    channel_ids: list[int] | None = None
    recipient_user_ids: list[int] | None = None
    recipient_emails: list[str] | None = None


class AlertRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    query_id: int | None
    brand_id: int | None
    params: dict[str, Any]
    cooldown_minutes: int
    enabled: bool
    channel_ids: list[int]
    recipient_user_ids: list[int]
    recipient_emails: list[str]
    evaluated_until: datetime | None
    created_at: datetime
    updated_at: datetime


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    rule_id: int
    kind: str
    status: str
    #: the watched query's or brand's name when it fired
    title: str
    #: "Volume spike: Nordwelle" and the sentence with the numbers, in the caller's language
    #: (their setting, else Accept-Language); ``explanation`` holds the same facts for machines
    headline: str = ""
    summary: str = ""
    episode_start: datetime
    episode_end: datetime
    fired_at: datetime
    updated_at: datetime
    observed: float
    baseline: float
    score: float
    buckets: int
    explanation: dict[str, Any]
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
