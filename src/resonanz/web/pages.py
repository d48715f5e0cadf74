"""The home page: counts of what the store holds, with links to the dashboards and areas.

Every area of the navigation now has its own module (dashboards, inbox, alerts, reports, admin …);
the "not built yet" placeholders that stood here until each area existed are gone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.clock import now
from resonanz.mentions import explorer
from resonanz.mentions import service as mention_service
from resonanz.mentions.quarantine import count_items
from resonanz.sources.service import count_sources
from resonanz.web.deps import require_page
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

#: how far the dashboard counts go before saying "more than"
COUNT_CAP = 1_000_000


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, session: DbSession, principal: Annotated[Principal, require_page(Permission.dashboards_read)]
) -> HTMLResponse:
    """Counts of what the store holds: all mentions, the last 24 hours, the negative share."""
    day_ago = now() - timedelta(hours=24)
    total = mention_service.count_mentions(session)
    last_day = explorer.count(session, query=explorer.ExplorerQuery(since=day_ago), cap=COUNT_CAP)
    # one count per label: each walks its own (sentiment, published_at, id) index, which at a million
    # mentions is ~7x faster than one count over the three labels together (measured: 0.2 s vs 1.4 s)
    by_label = {
        label: explorer.count(session, query=explorer.ExplorerQuery(sentiments=[label]), cap=COUNT_CAP)
        for label in ("negative", "neutral", "positive")
    }
    negative, rated = by_label["negative"], sum(by_label.values())
    context = {
        "principal": principal,
        "total": total,
        "last_day": last_day,
        "negative_share": negative / rated if rated else None,
        "rated": rated,
        "sources": count_sources(session),
        "quarantined": count_items(session),
        "show_quarantine": principal.can(Permission.system_manage),
    }
    return render(request, "dashboard.html", context)
