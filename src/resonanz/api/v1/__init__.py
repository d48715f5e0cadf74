"""The JSON API, version 1, mounted under ``/api/v1``. Each resource is its own module with its own
router; this package only gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from resonanz.api.v1 import (
    alerts,
    analytics,
    care_admin,
    cases,
    knowledge,
    listening,
    mentions,
    reports,
    routing,
    sources,
    teams,
    users,
)

#: Body and query-string limits are enforced for the whole API by resonanz.api.problems.RequestLimits.
router = APIRouter()
router.include_router(mentions.router)
router.include_router(sources.router)
router.include_router(sources.kinds_router)
router.include_router(users.router)
router.include_router(teams.router)
for area in (listening, analytics, alerts, reports, cases, knowledge, routing, care_admin):
    router.include_router(area.router)
