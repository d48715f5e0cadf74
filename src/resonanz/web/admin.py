"""``/admin``: source health (per source its state, last success, last error, new items per hour
over 24 hours), the source kinds this installation can add, and links to the other admin pages
that exist in this installation (found among the app's routes, so an area's page shows up here as
soon as its owner adds it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import iter_route_contexts
from starlette.routing import Route

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.connectors.registry import connector_classes
from resonanz.i18n import N_
from resonanz.sources.health import HOURS, SourceHealthRow, source_health
from resonanz.web.deps import require_page
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

#: admin pages other areas may provide, with their labels; shown when the app has the route
ADMIN_PAGES: dict[str, str] = {
    "/admin/users": N_("Users"),
    "/users": N_("Users"),
    "/admin/teams": N_("Teams"),
    "/teams": N_("Teams"),
    "/routing": N_("Routing and SLA"),
    "/admin/routing": N_("Routing and SLA"),
    "/routing/sla": N_("Service levels"),
    "/sla": N_("Service levels"),
    "/routing/agents": N_("Agents and skills"),
    "/routing/metrics": N_("Care metrics"),
    "/care-admin/approval-rules": N_("Approval rules"),
    "/care-admin/policy": N_("Reply policy"),
    "/care-admin/csat": N_("Satisfaction survey"),
    "/admin/audit": N_("Audit log"),
    "/quarantine": N_("Quarantine"),
    "/admin/quarantine": N_("Quarantine"),
    "/jobs": N_("Jobs"),
    "/admin/jobs": N_("Jobs"),
}
STATES = {
    "new": N_("not pulled yet"),
    "ok": N_("working"),
    "failing": N_("failing, retrying"),
    "disabled": N_("stopped"),
}
SPARK_HEIGHT = 24


def admin_links(request: Request) -> list[dict[str, str]]:
    """The admin pages this app serves (GET routes named in ADMIN_PAGES), each once."""
    # iter_route_contexts walks into included routers (FastAPI keeps them nested, not flattened)
    paths = {
        str(ctx.path)
        for ctx in iter_route_contexts(request.app.routes)
        if isinstance(ctx.original_route, Route) and "GET" in (ctx.methods or set()) and str(ctx.path) in ADMIN_PAGES
    }
    seen: set[str] = set()
    links = []
    for path in ADMIN_PAGES:
        if path in paths and ADMIN_PAGES[path] not in seen:
            seen.add(ADMIN_PAGES[path])
            links.append({"href": path, "label": ADMIN_PAGES[path]})
    return links


def spark(row: SourceHealthRow) -> list[dict[str, int]]:
    """Bars of the hourly counts for the template's SVG (heights as attributes: CSP allows no styles)."""
    top = max(row.hourly) or 1
    bars = []
    for hour, count in enumerate(row.hourly):
        height = max(1, round(count / top * SPARK_HEIGHT)) if count else 0
        bars.append(
            {"x": hour * 4, "y": SPARK_HEIGHT - height, "height": height, "count": count, "ago": HOURS - 1 - hour}
        )
    return bars


@router.get("/admin", response_class=HTMLResponse)
def admin(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.users_manage)]
) -> HTMLResponse:
    """Source health and the way to the other admin pages."""
    rows = source_health(session)
    kinds: list[dict[str, Any]] = [
        {"kind": kind, "title": cls.title, "pulls": cls.pulls, "publishes": cls.publishes}
        for kind, cls in sorted(connector_classes().items())
    ]
    context = {
        "principal": principal,
        "rows": rows,
        "sparks": {row.id: spark(row) for row in rows},
        "states": STATES,
        "kinds": kinds,
        "links": admin_links(request),
        "spark_height": SPARK_HEIGHT,
        "spark_width": HOURS * 4,
    }
    return render(request, "admin/index.html", context)
