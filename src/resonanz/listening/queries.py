"""Saved listening queries: reads and ``do_*`` writes (each with its audit row).

A query's text is versioned: every change of the text writes a new
:class:`~resonanz.listening.models.QueryVersion` (who, when, a note) and queues the re-apply job
(:mod:`resonanz.listening.reapply`) that rebuilds the query's matches over history; until it has
finished, ``applied_version`` is NULL (dashboards say "being applied"). Text is validated by the
query parser before anything is stored, so a bad query is refused with the parser's column and
hint (:class:`~resonanz.listening.query.QuerySyntaxError`) and never reaches the matcher.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.audit.actions import Actor, do_record
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.listening.brands import get_brand
from resonanz.listening.models import Query, QueryMatch, QueryVersion
from resonanz.listening.query import CompiledQuery, compile_query

MAX_NAME = 120
MAX_NOTE = 500
MAX_TEXT = 20_000
REAPPLY_KIND = "listening.reapply"


class Unset(Enum):
    UNSET = "unset"


#: "leave as it is" for arguments where ``None`` has a meaning (``brand_id=None``: no brand)
UNSET: Final = Unset.UNSET


# -- reads ---------------------------------------------------------------------------------------


def list_queries(session: Session, *, brand_id: int | None = None, active: bool | None = True) -> list[Query]:
    """Queries by name; ``active=None``: active and inactive ones."""
    stmt = select(Query).order_by(func.lower(Query.name), Query.id)
    if brand_id is not None:
        stmt = stmt.where(Query.brand_id == brand_id)
    if active is not None:
        stmt = stmt.where(Query.active.is_(active))
    return list(session.scalars(stmt))


def get_query(session: Session, *, id: int) -> Query:
    query = session.get(Query, id)
    if query is None:
        raise NotFoundError(f"no query with id {id}")
    return query


def find_query(session: Session, *, name: str) -> Query | None:
    return session.scalar(select(Query).where(func.lower(Query.name) == " ".join(name.split()).lower()))


def query_by_ref(session: Session, *, ref: str) -> Query:
    """A query named by id or by name (the CLI's argument)."""
    if ref.isdigit():
        return get_query(session, id=int(ref))
    query = find_query(session, name=ref)
    if query is None:
        raise NotFoundError(f"no query named {ref!r}")
    return query


def list_versions(session: Session, *, query_id: int) -> list[QueryVersion]:
    """The query's saved texts, newest first."""
    stmt = select(QueryVersion).where(QueryVersion.query_id == query_id).order_by(QueryVersion.version.desc())
    return list(session.scalars(stmt))


def get_version(session: Session, *, query_id: int, version: int) -> QueryVersion:
    found = session.scalar(
        select(QueryVersion).where(QueryVersion.query_id == query_id, QueryVersion.version == version)
    )
    if found is None:
        raise NotFoundError(f"query {query_id} has no version {version}")
    return found


def match_counts(session: Session, *, query_ids: list[int] | None = None) -> dict[int, int]:
    """query id -> stored matches (read from the (query_id, published_at) index)."""
    stmt = select(QueryMatch.query_id, func.count()).group_by(QueryMatch.query_id)
    if query_ids is not None:
        stmt = stmt.where(QueryMatch.query_id.in_(query_ids))
    return {int(q): int(c) for q, c in session.execute(stmt)}


def is_applied(query: Query) -> bool:
    """True when the stored matches are complete for the current text."""
    return query.applied_version == query.version


# -- validation ----------------------------------------------------------------------------------


def validate_text(text: str) -> CompiledQuery:
    """The compiled query, or QuerySyntaxError (column + hint) / InputError (too long)."""
    if len(text) > MAX_TEXT:
        raise InputError(f"a query has at most {MAX_TEXT:,} characters", location="text")
    return compile_query(text.strip())


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError("a query needs a name", location="name")
    if len(cleaned) > MAX_NAME:
        raise InputError(f"a query name has at most {MAX_NAME} characters", location="name")
    return cleaned


def _clean_note(note: str | None) -> str | None:
    cleaned = (note or "").strip()
    if len(cleaned) > MAX_NOTE:
        raise InputError(f"a note has at most {MAX_NOTE} characters", location="note")
    return cleaned or None


def _check_name_free(session: Session, name: str, own_id: int | None) -> None:
    other = find_query(session, name=name)
    if other is not None and other.id != own_id:
        raise ConflictError(f"a query named {name!r} exists already")


def query_state(query: Query) -> dict[str, Any]:
    return {
        "name": query.name,
        "brand_id": query.brand_id,
        "text": query.text,
        "version": query.version,
        "active": query.active,
    }


# -- writes --------------------------------------------------------------------------------------


def _add_version(session: Session, query: Query, *, note: str | None, actor: Actor | None) -> QueryVersion:
    entry = QueryVersion(
        query_id=query.id,
        version=query.version,
        text=query.text,
        note=note,
        changed_by_id=actor.user_id if actor is not None else None,
        changed_at=query.updated_at,
    )
    session.add(entry)
    return entry


def enqueue_reapply(session: Session, *, query: Query, after_id: int = 0) -> int | None:
    """Queue the job that rebuilds ``query``'s matches over history for its current version (in
    the caller's transaction; a job for the same version and position already queued counts)."""
    from resonanz.worker.queue import enqueue

    payload = {"query_id": query.id, "version": query.version, "after_id": after_id}
    key = f"{REAPPLY_KIND}:{query.id}:{query.version}:{after_id}"
    return enqueue(session, kind=REAPPLY_KIND, payload=payload, dedupe_key=key, priority=120)


def do_create_query(
    session: Session,
    *,
    name: str,
    text: str,
    brand_id: int | None = None,
    note: str | None = None,
    active: bool = True,
    actor: Actor | None = None,
) -> Query:
    """A new query at version 1; its matches over history are built by the re-apply job."""
    name = _clean_name(name)
    compiled = validate_text(text)
    _check_name_free(session, name, None)
    if brand_id is not None:
        get_brand(session, id=brand_id)
    stamp = now()
    query = Query(
        name=name,
        brand_id=brand_id,
        text=compiled.text,
        version=1,
        active=active,
        created_by_id=actor.user_id if actor is not None else None,
        created_at=stamp,
        updated_at=stamp,
        applied_version=None,
    )
    session.add(query)
    session.flush()
    _add_version(session, query, note=_clean_note(note) or "created", actor=actor)
    enqueue_reapply(session, query=query)
    session.flush()
    do_record(
        session, actor=actor, action="query.create", object_type="query", object_id=query.id, after=query_state(query)
    )
    return query


def do_update_query(
    session: Session,
    *,
    query: Query,
    name: str | None = None,
    text: str | None = None,
    brand_id: int | Unset | None = UNSET,
    note: str | None = None,
    active: bool | None = None,
    actor: Actor | None = None,
) -> Query:
    """Change what is given. A changed text is a new version (with ``note``) and is re-applied to
    history; reactivating a query re-applies it too (mentions that came in meanwhile)."""
    before = query_state(query)
    new_text = validate_text(text).text if text is not None else None
    if name is not None:
        name = _clean_name(name)
        _check_name_free(session, name, query.id)
        query.name = name
    if not isinstance(brand_id, Unset):
        if brand_id is not None:
            get_brand(session, id=brand_id)
        query.brand_id = brand_id
    reapply = False
    if new_text is not None and new_text != query.text:
        query.text = new_text
        query.version += 1
        query.updated_at = now()
        _add_version(session, query, note=_clean_note(note), actor=actor)
        reapply = True
    if active is not None and active != query.active:
        query.active = active
        query.updated_at = now()
        reapply = reapply or active
    if reapply:
        query.applied_version = None
        enqueue_reapply(session, query=query)
    elif query_state(query) != before:
        query.updated_at = now()
    session.flush()
    after = query_state(query)
    if after != before:
        action = "query.update" if after["version"] == before["version"] else "query.new_version"
        do_record(
            session, actor=actor, action=action, object_type="query", object_id=query.id, before=before, after=after
        )
    return query


def do_save_query(
    session: Session,
    *,
    name: str,
    text: str,
    brand_id: int | None = None,
    note: str | None = None,
    actor: Actor | None = None,
) -> Query:
    """Create the query named ``name``, or give it a new version when its text changed (its brand
    follows ``brand_id``)."""
    existing = find_query(session, name=name)
    if existing is None:
        return do_create_query(session, name=name, text=text, brand_id=brand_id, note=note, actor=actor)
    return do_update_query(session, query=existing, text=text, brand_id=brand_id, note=note, actor=actor)


def do_restore_version(
    session: Session, *, query: Query, version: int, note: str | None = None, actor: Actor | None = None
) -> Query:
    """Make an old text current again: a new version whose text is version ``version``'s."""
    old = get_version(session, query_id=query.id, version=version)
    if old.text == query.text:
        raise ConflictError(f"version {version} has the current text already")
    return do_update_query(
        session, query=query, text=old.text, note=_clean_note(note) or f"restored version {version}", actor=actor
    )


def do_reapply(session: Session, *, query: Query, actor: Actor | None = None) -> int | None:
    """Rebuild the query's matches over history again (e.g. after mentions were imported with
    analysis off); returns the job id (None: one is queued already)."""
    query.applied_version = None
    job_id = enqueue_reapply(session, query=query)
    session.flush()
    do_record(
        session,
        actor=actor,
        action="query.reapply",
        object_type="query",
        object_id=query.id,
        after={"version": query.version},
    )
    return job_id


def do_remove_query(session: Session, *, query: Query, actor: Actor | None = None) -> None:
    """Delete the query with its versions and matches (alerts on it go with it)."""
    before = query_state(query)
    query_id = query.id
    session.query(QueryMatch).filter(QueryMatch.query_id == query_id).delete(synchronize_session=False)
    session.query(QueryVersion).filter(QueryVersion.query_id == query_id).delete(synchronize_session=False)
    session.delete(query)
    session.flush()
    do_record(session, actor=actor, action="query.remove", object_type="query", object_id=query_id, before=before)
