"""Schemas of brands, queries and query tests, shared by the API and the web editor."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from resonanz.listening.brands import alias_list
from resonanz.listening.models import Brand, Query


class BrandCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(default="own", pattern="^(own|product|competitor)$")
    description: str | None = Field(default=None, max_length=2000)
    aliases: list[str] = Field(default_factory=list, max_length=50)


class BrandUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    kind: str | None = Field(default=None, pattern="^(own|product|competitor)$")
    description: str | None = Field(default=None, max_length=2000)
    aliases: list[str] | None = Field(default=None, max_length=50)


class BrandRead(BaseModel):
    id: int
    name: str
    kind: str
    description: str | None
    aliases: list[str]
    created_at: datetime

    @classmethod
    def of(cls, brand: Brand) -> BrandRead:
        return cls(
            id=brand.id,
            name=brand.name,
            kind=brand.kind,
            description=brand.description,
            aliases=alias_list(brand),
            created_at=brand.created_at,
        )


class QueryCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=20_000, description="the query in the listening query language")
    brand_id: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=500)
    active: bool = True


class QueryUpdate(BaseModel):
    """Only the fields sent change; ``brand_id: null`` detaches the query from its brand."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    text: str | None = Field(default=None, min_length=1, max_length=20_000)
    brand_id: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=500, description="why the text changed (kept with the version)")
    active: bool | None = None


class QueryRead(BaseModel):
    id: int
    name: str
    brand_id: int | None
    text: str
    version: int
    active: bool
    applied_version: int | None = Field(description="the version whose matches are complete over history")
    applied: bool
    matches: int | None = Field(default=None, description="stored matches (lists and the single query)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, query: Query, *, matches: int | None = None) -> QueryRead:
        return cls(
            id=query.id,
            name=query.name,
            brand_id=query.brand_id,
            text=query.text,
            version=query.version,
            active=query.active,
            applied_version=query.applied_version,
            applied=query.applied_version == query.version,
            matches=matches,
            created_at=query.created_at,
            updated_at=query.updated_at,
        )


class QueryVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    text: str
    note: str | None
    changed_by_id: int | None
    changed_at: datetime


class QueryRestore(BaseModel):
    version: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=500)


class QueryTestIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    since: datetime | None = None
    until: datetime | None = None
    samples: int = Field(default=5, ge=0, le=20)


class VolumePoint(BaseModel):
    day: str
    count: int


class SampleRead(BaseModel):
    id: int
    published_at: datetime
    platform: str
    text: str


class QueryTestOut(BaseModel):
    normalized: str
    count: int
    exact: bool = Field(description="counted by the full-text index alone")
    partial: bool = Field(
        description="not every candidate was checked (a spread sample, or the time limit): the count is a lower bound"
    )
    checked: int
    candidates: int | None = Field(
        default=None, description="candidates the index yielded for the exact check (null: exact, or not known)"
    )
    estimate: int | None = Field(
        default=None, description="when partial: the matches projected from those checked (null: unknown)"
    )
    scanned_share: float = Field(default=1.0, description="share of the candidates checked (1: all)")
    zone: str = Field(default="UTC", description="the time zone of the volume's days (the user's)")
    volume: list[VolumePoint]
    volume_every: int = Field(
        default=1, description="1: the curve counts every match; k: each day estimated from every k-th match"
    )
    samples: list[SampleRead]
    elapsed_ms: float
