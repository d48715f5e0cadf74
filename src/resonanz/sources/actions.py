"""Writes on sources. Each ``do_*`` runs inside the caller's transaction and validates the
connector config through the connector's own pydantic ``Config``."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.clock import now
from resonanz.connectors.registry import connector_class
from resonanz.errors import ConfigError, ConflictError
from resonanz.sources.models import Source, SourceHealth
from resonanz.sources.schemas import SourceCreate, SourceUpdate


def validate_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as the connector understands it, or a ConfigError naming the bad field."""
    cls = connector_class(kind)
    try:
        return cls.Config.model_validate(config).model_dump(mode="json")
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid {kind} source config: {problems}") from exc


def do_create_source(session: Session, *, data: SourceCreate) -> Source:
    if session.scalar(select(Source.id).where(Source.name == data.name)) is not None:
        raise ConflictError(f"a source named {data.name!r} exists already")
    config = validate_config(data.kind, data.config)
    scheduled = data.enabled and connector_class(data.kind).pulls
    source = Source(
        name=data.name,
        kind=data.kind,
        config=config,
        enabled=data.enabled,
        interval_s=data.interval_s,
        next_pull_at=now() if scheduled else None,
        cursor={},
        health=SourceHealth.NEW,
        consecutive_failures=0,
        created_at=now(),
    )
    session.add(source)
    session.flush()
    return source


def do_update_source(session: Session, *, source: Source, data: SourceUpdate) -> Source:
    if data.config is not None:
        source.config = validate_config(source.kind, {**source.config, **data.config})
    if data.interval_s is not None:
        source.interval_s = data.interval_s
    if data.enabled is not None:
        source.enabled = data.enabled
        if not data.enabled:
            source.next_pull_at = None
        if data.enabled:
            source.health = SourceHealth.NEW if source.health == SourceHealth.DISABLED else source.health
            source.next_pull_at = now() if connector_class(source.kind).pulls else None
            source.consecutive_failures = 0
    session.flush()
    return source


def do_remove_source(session: Session, *, source: Source) -> None:
    """Remove the source; its mentions stay (they are the company's record) with source unset."""
    session.delete(source)
    session.flush()


def get_or_create_source(session: Session, *, name: str, kind: str, config: dict[str, Any] | None = None) -> Source:
    """Used by imports and webhooks that name a source implicitly."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is not None:
        if source.kind != kind:
            raise ConflictError(f"source {name!r} is a {source.kind} source, not {kind}")
        return source
    return do_create_source(session, data=SourceCreate(name=name, kind=kind, config=config or {}, enabled=False))
