"""Brands: the entities a company monitors (its own, its products, its competitors).

Reads (``list_brands``, ``get_brand``) and writes (``do_*``, each with its audit row in the
caller's transaction). A brand's queries keep existing when the brand is removed (their
``brand_id`` becomes NULL): queries are the valuable, versioned part.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resonanz.audit.actions import Actor, do_record
from resonanz.clock import now
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.listening.models import Brand, BrandKind, Query

MAX_NAME = 120
MAX_ALIASES = 50


def list_brands(session: Session, *, kind: str | None = None) -> list[Brand]:
    """All brands, own first, then products and competitors, each by name."""
    order = {BrandKind.own: 0, BrandKind.product: 1, BrandKind.competitor: 2}
    stmt = select(Brand)
    if kind is not None:
        stmt = stmt.where(Brand.kind == kind)
    return sorted(session.scalars(stmt), key=lambda b: (order.get(BrandKind(b.kind), 3), b.name.casefold()))


def get_brand(session: Session, *, id: int) -> Brand:
    brand = session.get(Brand, id)
    if brand is None:
        raise NotFoundError(f"no brand with id {id}")
    return brand


def find_brand(session: Session, *, name: str) -> Brand | None:
    return session.scalar(select(Brand).where(func.lower(Brand.name) == name.strip().lower()))


def brand_by_ref(session: Session, *, ref: str) -> Brand:
    """A brand named by id or by name (the CLI's ``--brand``)."""
    if ref.isdigit():
        return get_brand(session, id=int(ref))
    brand = find_brand(session, name=ref)
    if brand is None:
        raise NotFoundError(f"no brand named {ref!r}")
    return brand


def query_counts(session: Session) -> dict[int, int]:
    """brand id -> how many queries it has."""
    rows = session.execute(
        select(Query.brand_id, func.count()).where(Query.brand_id.is_not(None)).group_by(Query.brand_id)
    )
    return {int(b or 0): int(c) for b, c in rows}


def alias_list(brand: Brand) -> list[str]:
    return [a for a in (brand.aliases or "").split("\n") if a]


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InputError("a brand needs a name", location="name")
    if len(cleaned) > MAX_NAME:
        raise InputError(f"a brand name has at most {MAX_NAME} characters", location="name")
    return cleaned


def _clean_kind(kind: str) -> str:
    if kind not in {k.value for k in BrandKind}:
        raise InputError(f"{kind!r} is not a brand kind; choose own, product or competitor", location="kind")
    return kind


def _clean_aliases(aliases: list[str] | None) -> str | None:
    if not aliases:
        return None
    seen: dict[str, str] = {}
    for alias in aliases:
        cleaned = " ".join(alias.split())
        if len(cleaned) > MAX_NAME:
            raise InputError(f"an alias has at most {MAX_NAME} characters", location="aliases")
        if cleaned:
            seen.setdefault(cleaned.casefold(), cleaned)
    if len(seen) > MAX_ALIASES:
        raise InputError(f"at most {MAX_ALIASES} aliases", location="aliases")
    return "\n".join(seen.values()) or None


def brand_state(brand: Brand) -> dict[str, Any]:
    return {"name": brand.name, "kind": brand.kind, "description": brand.description, "aliases": alias_list(brand)}


def do_create_brand(
    session: Session,
    *,
    name: str,
    kind: str = BrandKind.own,
    description: str | None = None,
    aliases: list[str] | None = None,
    actor: Actor | None = None,
) -> Brand:
    name = _clean_name(name)
    if find_brand(session, name=name) is not None:
        raise ConflictError(f"a brand named {name!r} exists already")
    brand = Brand(
        name=name,
        kind=_clean_kind(kind),
        description=(description or "").strip() or None,
        aliases=_clean_aliases(aliases),
        created_at=now(),
    )
    session.add(brand)
    session.flush()
    do_record(
        session, actor=actor, action="brand.create", object_type="brand", object_id=brand.id, after=brand_state(brand)
    )
    return brand


def do_update_brand(
    session: Session,
    *,
    brand: Brand,
    name: str | None = None,
    kind: str | None = None,
    description: str | None = None,
    aliases: list[str] | None = None,
    actor: Actor | None = None,
) -> Brand:
    """Change what is given (``None``: keep); ``description=""`` or ``aliases=[]`` clear."""
    before = brand_state(brand)
    if name is not None:
        name = _clean_name(name)
        other = find_brand(session, name=name)
        if other is not None and other.id != brand.id:
            raise ConflictError(f"a brand named {name!r} exists already")
        brand.name = name
    if kind is not None:
        brand.kind = _clean_kind(kind)
    if description is not None:
        brand.description = description.strip() or None
    if aliases is not None:
        brand.aliases = _clean_aliases(aliases)
    session.flush()
    after = brand_state(brand)
    if after != before:
        do_record(
            session,
            actor=actor,
            action="brand.update",
            object_type="brand",
            object_id=brand.id,
            before=before,
            after=after,
        )
    return brand


def do_remove_brand(session: Session, *, brand: Brand, actor: Actor | None = None) -> None:
    """Remove the brand; its queries stay, without a brand."""
    before = brand_state(brand)
    brand_id = brand.id
    for query in session.scalars(select(Query).where(Query.brand_id == brand_id)):
        query.brand_id = None
    session.delete(brand)
    session.flush()
    do_record(session, actor=actor, action="brand.remove", object_type="brand", object_id=brand_id, before=before)
