"""Roles and what each may do: the one table every endpoint and page checks.

Why a table and not role checks scattered in views: the route test walks every route, reads the
permission it declares and proves that a role without it is refused, so adding a route without
choosing a permission fails CI. Roles are fixed (admin, manager, agent, analyst, viewer); a team or
department limits *which* cases a person sees, a role limits *what* they may do.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    admin = "admin"  # everything, including users, sources and system operations
    manager = "manager"  # leads a team: assigns, approves, manages knowledge, queries and alerts
    agent = "agent"  # answers customers: works cases, corrects analysis
    analyst = "analyst"  # listens: queries, dashboards, alerts, reports, corrections
    viewer = "viewer"  # reads dashboards and mentions, changes nothing


class Permission(StrEnum):
    profile_edit = "profile.edit"  # own language, time zone, password, API tokens, sessions
    mentions_read = "mentions.read"
    mentions_raw = "mentions.raw"  # the platform's raw payload, which may hold personal data
    mentions_correct = "mentions.correct"  # correct sentiment/intent (the feedback loop)
    sources_read = "sources.read"
    sources_manage = "sources.manage"
    users_read = "users.read"  # list colleagues (routing, @mentions, expert finder)
    users_manage = "users.manage"  # create, change role, deactivate; teams
    dashboards_read = "dashboards.read"
    queries_manage = "queries.manage"  # brands and listening queries
    alerts_read = "alerts.read"
    alerts_manage = "alerts.manage"
    reports_read = "reports.read"
    reports_manage = "reports.manage"
    cases_read = "cases.read"
    cases_work = "cases.work"  # reply, note, change state of cases one may see
    cases_assign = "cases.assign"  # assign/transfer to others, routing rules, SLAs
    cases_approve = "cases.approve"  # approve risky replies
    knowledge_read = "knowledge.read"
    knowledge_manage = "knowledge.manage"
    audit_read = "audit.read"
    system_manage = "system.manage"  # jobs, quarantine, models, settings


P = Permission

_VIEWER = frozenset({P.profile_edit, P.mentions_read, P.dashboards_read, P.alerts_read, P.reports_read})
_ANALYST = _VIEWER | {
    P.mentions_correct,
    P.sources_read,
    P.users_read,
    P.queries_manage,
    P.alerts_manage,
    P.reports_manage,
    P.knowledge_read,
}
_AGENT = _VIEWER | {
    P.mentions_correct,
    P.users_read,
    P.cases_read,
    P.cases_work,
    P.knowledge_read,
}
_MANAGER = (
    _ANALYST
    | _AGENT
    | {
        P.cases_assign,
        P.cases_approve,
        P.knowledge_manage,
        P.audit_read,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.viewer: _VIEWER,
    Role.analyst: frozenset(_ANALYST),
    Role.agent: frozenset(_AGENT),
    Role.manager: frozenset(_MANAGER),
    Role.admin: frozenset(Permission),
}


def has_permission(role: Role | str, permission: Permission) -> bool:
    """True when ``role`` carries ``permission``; an unknown role string carries nothing."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def roles_with(permission: Permission) -> list[Role]:
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]


def roles_without(permission: Permission) -> list[Role]:
    return [role for role in Role if permission not in ROLE_PERMISSIONS[role]]
