"""The normalised form every connector's parse step produces, and the read schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from resonanz.clock import ensure_utc
from resonanz.mentions.models import MentionKind


class AuthorIn(BaseModel):
    """An author as a platform describes it; ``handle`` is the platform's stable account id."""

    model_config = ConfigDict(extra="forbid")

    handle: str = Field(min_length=1, max_length=300)
    name: str | None = Field(default=None, max_length=300)
    url: str | None = None
    followers: int | None = Field(default=None, ge=0)


class MentionIn(BaseModel):
    """One normalised mention, ready to store. Built by a connector's pure parse step.

    ``text`` is plain text; ``html`` is the *sanitised* HTML when the source had HTML.
    """

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=40)
    external_id: str = Field(min_length=1, max_length=500)
    kind: MentionKind = MentionKind.POST
    url: str | None = None
    author: AuthorIn | None = None
    parent_external_id: str | None = Field(default=None, max_length=500)
    thread_external_id: str | None = Field(default=None, max_length=500)
    published_at: AwareDatetime
    title: str | None = None
    text: str = ""
    html: str | None = None
    language_hint: str | None = Field(default=None, max_length=20)
    media: list[dict[str, Any]] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    raw: Any = None

    @field_validator("published_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return ensure_utc(value)


M = TypeVar("M", bound=BaseModel)
_setattr = object.__setattr__


def construct_trusted(cls: type[M], values: dict[str, Any]) -> M:
    """A model from values that are already valid, with every field given (``values`` is kept as
    the instance's ``__dict__``, not copied).

    What ``model_construct`` does for such values, minus its per-field default and alias
    handling, which costs about 10 µs per model on the import hot path. Only for parse steps
    that validated the same limits themselves; tests hold the result equal to ``model_validate``.
    """
    obj = cls.__new__(cls)
    _setattr(obj, "__dict__", values)
    _setattr(obj, "__pydantic_fields_set__", set(values))
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


class MentionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    external_id: str
    kind: str
    url: str | None
    source_id: int | None
    author_id: int | None
    parent_id: int | None
    parent_external_id: str | None
    thread_external_id: str | None
    published_at: datetime
    title: str | None
    text: str
    language_hint: str | None
    duplicate_of_id: int | None
    revision: int
