"""Listening pages: saved queries per brand (/queries), the query editor with its live test
against history (/queries/new, /queries/{id}) and brands (/brands).

The editor is a plain form that saves without JavaScript; ``/static/listening.js`` adds the test
as the user types (a debounced ``POST /api/v1/queries/test`` with the session's CSRF header) and
draws the count, a volume curve and sample matches. A text that does not parse is refused with the
parser's column and a caret under it, on the page and in the live test alike.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.i18n import N_, translations
from resonanz.listening import brands as brand_service
from resonanz.listening import queries as query_service
from resonanz.listening.models import BrandKind, Query
from resonanz.listening.query import QuerySyntaxError
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, require_page(Permission.dashboards_read)]
Manager = Annotated[Principal, require_page(Permission.queries_manage)]

KIND_NAMES = {BrandKind.own: N_("own brand"), BrandKind.product: N_("product"), BrandKind.competitor: N_("competitor")}
_MAX_ID = 2**31


def _field(form: Any, name: str, limit: int) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _not_found(request: Request, principal: Principal, message: str) -> HTMLResponse:
    gettext = translations(locale_of(request, principal)).ugettext
    context = {"principal": principal, "title": gettext("Not found"), "message": message, "back_href": "/queries",
               "back_label": gettext("Back to the queries")}  # fmt: skip
    return render(request, "error.html", context, status_code=404)


def _query_or_none(session: Session, query_id: int) -> Query | None:
    return session.get(Query, query_id) if 0 < query_id < _MAX_ID else None


def word_diff(old: str, new: str) -> Markup:
    """``new`` against ``old`` word by word: removed words in ``<del>``, added ones in ``<ins>``
    (everything escaped: a query text is user input)."""
    a, b = old.split(), new.split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(str(escape(" ".join(a[i1:i2]))))
            continue
        if i2 > i1:
            parts.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            parts.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return Markup(" ".join(parts))  # noqa: S704 - every part is escaped above


# -- queries -------------------------------------------------------------------------------------


@router.get("/queries", response_class=HTMLResponse)
def query_list(request: Request, session: DbSession, principal: Reader) -> HTMLResponse:
    """Saved queries grouped by brand, with stored matches and whether history is applied."""
    queries = query_service.list_queries(session, active=None)
    counts = query_service.match_counts(session)
    brands = brand_service.list_brands(session)
    groups: list[dict[str, Any]] = [{"brand": b, "queries": [q for q in queries if q.brand_id == b.id]} for b in brands]
    loose = [q for q in queries if q.brand_id is None]
    if loose:
        groups.append({"brand": None, "queries": loose})
    context = {
        "principal": principal,
        "groups": groups,
        "counts": counts,
        "kind_names": KIND_NAMES,
        "can_manage": principal.can(Permission.queries_manage),
        "saved": request.query_params.get("removed") == "1",
    }
    return render(request, "listening/queries.html", context)


def _editor(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    query: Query | None,
    values: dict[str, Any],
    error: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    versions = query_service.list_versions(session, query_id=query.id) if query is not None else []
    diffs = [word_diff(versions[i + 1].text, v.text) if i + 1 < len(versions) else None for i, v in enumerate(versions)]
    context = {
        "principal": principal,
        "query": query,
        "values": values,
        "error": error,
        "brands": brand_service.list_brands(session),
        "kind_names": KIND_NAMES,
        "versions": list(zip(versions, diffs, strict=True)),
        "matches": query_service.match_counts(session, query_ids=[query.id]).get(query.id, 0) if query else 0,
        "can_manage": principal.can(Permission.queries_manage),
        "notice": request.query_params.get("saved") or request.query_params.get("restored"),
    }
    return render(request, "listening/editor.html", context, status_code=status_code)


def _error_of(exc: Exception, text: str, gettext: Any) -> dict[str, Any]:
    if isinstance(exc, QuerySyntaxError):
        column = max(1, min(exc.column, len(text) + 1))
        return {"field": "text", "message": exc.reason, "hint": exc.hint, "column": column, "text": text,
                "caret": " " * (column - 1) + "^"}  # fmt: skip
    if isinstance(exc, ConflictError):
        return {"field": "name", "message": gettext("A query with this name exists already.")}
    assert isinstance(exc, InputError)
    field = (exc.location or "text").split(".")[-1]
    return {"field": field if field in {"name", "note", "brand", "text"} else "text", "message": exc.reason}


def _brand_id(session: Session, raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < _MAX_ID:
        raise InputError("choose a brand from the list", location="brand")
    try:
        return brand_service.get_brand(session, id=int(raw)).id
    except NotFoundError as exc:
        raise InputError("choose a brand from the list", location="brand") from exc


def _form_values(form: Any) -> dict[str, Any]:
    return {
        "name": _field(form, "name", 200),
        "text": _field(form, "text", query_service.MAX_TEXT + 1),
        "brand_id": _field(form, "brand_id", 20),
        "note": _field(form, "note", 600),
        "active": form.get("active") == "on",
    }


@router.get("/queries/new", response_class=HTMLResponse)
def query_new(request: Request, session: DbSession, principal: Manager) -> HTMLResponse:
    """An empty editor (``?brand=`` preselects a brand)."""
    values = {"name": "", "text": "", "brand_id": request.query_params.get("brand", "")[:20], "note": "",
              "active": True}  # fmt: skip
    return _editor(request, session, principal, query=None, values=values)


@router.post("/queries/new", response_class=HTMLResponse)
def query_create(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    gettext = translations(locale_of(request, principal)).ugettext
    values = _form_values(form)
    try:
        query = query_service.do_create_query(
            session, name=values["name"], text=values["text"], brand_id=_brand_id(session, values["brand_id"]),
            note=values["note"] or None, active=values["active"], actor=principal,
        )  # fmt: skip
        session.commit()
    except (InputError, ConflictError) as exc:
        session.rollback()
        error = _error_of(exc, values["text"], gettext)
        return _editor(request, session, principal, query=None, values=values, error=error, status_code=400)
    return RedirectResponse(f"/queries/{query.id}?saved=1", status_code=303)


@router.get("/queries/{query_id}", response_class=HTMLResponse)
def query_edit(request: Request, query_id: int, session: DbSession, principal: Reader) -> HTMLResponse:
    """The editor of a saved query, with its versions (read-only without ``queries.manage``)."""
    query = _query_or_none(session, query_id)
    if query is None:
        gettext = translations(locale_of(request, principal)).ugettext
        return _not_found(request, principal, gettext("There is no query with the number %(id)s.") % {"id": query_id})
    values = {"name": query.name, "text": query.text, "brand_id": str(query.brand_id or ""), "note": "",
              "active": query.active}  # fmt: skip
    return _editor(request, session, principal, query=query, values=values)


@router.post("/queries/{query_id}", response_class=HTMLResponse)
def query_save(request: Request, query_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    """Save: a changed text becomes a new version with the note."""
    gettext = translations(locale_of(request, principal)).ugettext
    query = _query_or_none(session, query_id)
    if query is None:
        return _not_found(request, principal, gettext("There is no query with the number %(id)s.") % {"id": query_id})
    values = _form_values(form)
    try:
        query_service.do_update_query(
            session, query=query, name=values["name"], text=values["text"],
            brand_id=_brand_id(session, values["brand_id"]), note=values["note"] or None, active=values["active"],
            actor=principal,
        )  # fmt: skip
        session.commit()
    except (InputError, ConflictError) as exc:
        session.rollback()
        query = _query_or_none(session, query_id)
        error = _error_of(exc, values["text"], gettext)
        return _editor(request, session, principal, query=query, values=values, error=error, status_code=400)
    return RedirectResponse(f"/queries/{query_id}?saved=1", status_code=303)


@router.post("/queries/{query_id}/restore", response_class=HTMLResponse)
def query_restore(request: Request, query_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    """Make an old version current again (a new version)."""
    gettext = translations(locale_of(request, principal)).ugettext
    query = _query_or_none(session, query_id)
    raw = _field(form, "version", 10)
    if query is None or not raw.isdigit():
        return _not_found(request, principal, gettext("There is no such query or version."))
    try:
        query_service.do_restore_version(session, query=query, version=int(raw), actor=principal)
        session.commit()
    except (NotFoundError, ConflictError):
        session.rollback()
    return RedirectResponse(f"/queries/{query_id}?restored={int(raw)}#versions", status_code=303)


@router.post("/queries/{query_id}/delete", response_class=HTMLResponse)
def query_delete(request: Request, query_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    gettext = translations(locale_of(request, principal)).ugettext
    query = _query_or_none(session, query_id)
    if query is None:
        return _not_found(request, principal, gettext("There is no query with the number %(id)s.") % {"id": query_id})
    query_service.do_remove_query(session, query=query, actor=principal)
    session.commit()
    return RedirectResponse("/queries?removed=1", status_code=303)


# -- brands --------------------------------------------------------------------------------------


def _brands_page(
    request: Request, session: Session, principal: Principal, *, values: dict[str, str] | None = None,
    error: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "principal": principal,
        "brands": brand_service.list_brands(session),
        "query_counts": brand_service.query_counts(session),
        "alias_list": brand_service.alias_list,
        "kind_names": KIND_NAMES,
        "values": values or {"name": "", "kind": "own", "aliases": "", "description": ""},
        "error": error,
        "can_manage": principal.can(Permission.queries_manage),
    }
    return render(request, "listening/brands.html", context, status_code=status_code)


@router.get("/brands", response_class=HTMLResponse)
def brand_list(request: Request, session: DbSession, principal: Reader) -> HTMLResponse:
    return _brands_page(request, session, principal)


@router.post("/brands", response_class=HTMLResponse)
def brand_create(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    gettext = translations(locale_of(request, principal)).ugettext
    values = {name: _field(form, name, 2000) for name in ("name", "kind", "aliases", "description")}
    try:
        brand_service.do_create_brand(
            session, name=values["name"], kind=values["kind"] or "own",
            aliases=[a for a in values["aliases"].replace(",", "\n").split("\n")],
            description=values["description"] or None, actor=principal,
        )  # fmt: skip
        session.commit()
    except (InputError, ConflictError) as exc:
        session.rollback()
        if isinstance(exc, ConflictError):
            error = {"field": "name", "message": gettext("A brand with this name exists already.")}
        else:
            error = {"field": (exc.location or "name"), "message": exc.reason}
        return _brands_page(request, session, principal, values=values, error=error, status_code=400)
    return RedirectResponse("/brands", status_code=303)


@router.post("/brands/{brand_id}/delete", response_class=HTMLResponse)
def brand_delete(request: Request, brand_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    gettext = translations(locale_of(request, principal)).ugettext
    try:
        if not 0 < brand_id < _MAX_ID:
            raise NotFoundError("no such brand")
        brand = brand_service.get_brand(session, id=brand_id)
    except NotFoundError:
        return _not_found(request, principal, gettext("There is no brand with the number %(id)s.") % {"id": brand_id})
    brand_service.do_remove_brand(session, brand=brand, actor=principal)
    session.commit()
    return RedirectResponse("/brands", status_code=303)
