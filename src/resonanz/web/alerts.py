"""Alert pages: the alerts with their explanations, acknowledge/resolve; the rules, each with a
90-day backtest chart; notification channels.

- ``/alerts``: newest alerts (filter by state), each explaining itself in the reader's language;
- ``/alerts/{id}``: numbers against the baseline, the words driving it, sample posts (links to
  the mentions), deliveries and their state;
- ``/alerts/rules`` (+ ``/alerts/rules/{id}``): rules and the add form; a rule's page shows its
  backtest (an SVG chart of mentions per day with the days it would have fired, and the list);
- ``/alerts/channels``: e-mail, webhook and chat channels.

Reading needs ``alerts.read``; changing anything ``alerts.manage``. Forms work without JavaScript.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from resonanz.accounts.permissions import Permission
from resonanz.accounts.schemas import Principal
from resonanz.api.deps import DbSession
from resonanz.clock import now
from resonanz.config import Settings
from resonanz.errors import ConflictError, InputError, NotFoundError
from resonanz.i18n import N_
from resonanz.listening.alerts import actions, service
from resonanz.listening.alerts.backtest import Backtest, run_backtest
from resonanz.listening.alerts.models import AlertStatus
from resonanz.listening.alerts.rules import SPREAD_FACTOR, Sensitivity
from resonanz.listening.alerts.schemas import AlertRuleCreate
from resonanz.listening.alerts.wording import KIND_LABELS, summary, wording
from resonanz.listening.charts import Series, line_chart
from resonanz.listening.models import Brand, Query
from resonanz.notifications import actions as channel_actions
from resonanz.notifications import service as channel_service
from resonanz.notifications.base import notifier_classes
from resonanz.web.deps import CsrfForm, require_page
from resonanz.web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, require_page(Permission.alerts_read)]
Manager = Annotated[Principal, require_page(Permission.alerts_manage)]

STATUS_LABELS = {
    AlertStatus.open.value: N_("open"),
    AlertStatus.acknowledged.value: N_("acknowledged"),
    AlertStatus.resolved.value: N_("resolved"),
}
SENSITIVITY_LABELS = {
    Sensitivity.low.value: N_("low"),
    Sensitivity.medium.value: N_("medium"),
    Sensitivity.high.value: N_("high"),
}


def _text(form: Any, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _int(form: Any, name: str) -> int | None:
    value = _text(form, name, 20)
    if not value:
        return None
    if not value.isdigit():
        raise InputError("a whole number is needed here", location=name)
    return int(value)


def alert_summary(kind: str, explanation: dict[str, Any], locale: str, time_zone: str | None = None) -> str:
    """The alert's sentence for the page's reader: the same words its e-mail and chat messages use."""
    return summary(kind, explanation, wording(locale, time_zone))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _common() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "sensitivity_labels": SENSITIVITY_LABELS,
            "spread_factor": {s.value: k for s, k in SPREAD_FACTOR.items()},
            "alert_summary": alert_summary}  # fmt: skip


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, session: DbSession, principal: Reader, status: str | None = None) -> HTMLResponse:
    chosen = status if status in STATUS_LABELS else None
    alerts = service.list_alerts(session, status=chosen, limit=100)
    rules = {r.id: r for r in service.list_rules(session)}
    context = {
        **_common(),
        "alerts": alerts,
        "rules": rules,
        "status": chosen,
        "open_count": service.count_open(session),
        "can_manage": principal.can(Permission.alerts_manage),
    }
    return render(request, "alerts/list.html", context)


@router.get("/alerts/rules", response_class=HTMLResponse)
def rules_page(request: Request, session: DbSession, principal: Reader) -> HTMLResponse:
    return _rules_page(request, session, principal)


def _rules_page(request: Request, session: Session, principal: Principal, *, error: Exception | None = None,
                values: dict[str, Any] | None = None) -> HTMLResponse:  # fmt: skip
    context = {
        **_common(),
        "rules": service.list_rules(session),
        "scope_names": {r.id: service.scope_name(session, r) for r in service.list_rules(session)},
        "queries": session.query(Query).order_by(Query.name).all(),
        "brands": session.query(Brand).order_by(Brand.name).all(),
        "channels": channel_service.list_channels(session),
        "can_manage": principal.can(Permission.alerts_manage),
        "error": {"field": getattr(error, "location", None) or "", "message": str(error)} if error else None,
        "values": values or {"kind": "volume_spike", "sensitivity": "medium", "cooldown_minutes": "180"},
    }
    return render(request, "alerts/rules.html", context, status_code=422 if error else 200)


@router.post("/alerts/rules", response_class=HTMLResponse)
def create_rule(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    values = {k: _text(form, k) for k in ("name", "kind", "scope", "sensitivity", "min_count", "text",
                                          "min_followers", "cooldown_minutes", "emails")}  # fmt: skip
    try:
        kind = values["kind"] if values["kind"] in KIND_LABELS else "volume_spike"
        params: dict[str, Any] = {}
        if kind in ("volume_spike", "negative_surge", "crisis") and values["sensitivity"]:
            params["sensitivity"] = values["sensitivity"]
        if kind in ("volume_spike", "crisis", "keyword") and values["min_count"]:
            params["min_count"] = _int(form, "min_count")
        if kind == "negative_surge" and values["min_count"]:
            params["min_volume"] = _int(form, "min_count")
        if kind == "keyword":
            params["text"] = values["text"]
        if kind == "influencer" and values["min_followers"]:
            params["min_followers"] = _int(form, "min_followers")
        scope_kind, _, scope_id = values["scope"].partition(":")
        if not scope_id.isdigit():
            raise InputError("choose a query or a brand", location="scope")
        data = AlertRuleCreate.model_validate({
            "name": values["name"] or "?",
            "kind": kind,
            "query_id": int(scope_id) if scope_kind == "query" else None,
            "brand_id": int(scope_id) if scope_kind == "brand" else None,
            "params": params,
            "cooldown_minutes": _int(form, "cooldown_minutes") or 0,
            "channel_ids": [int(v) for v in form.getlist("channel_ids") if isinstance(v, str) and v.isdigit()],
            "recipient_user_ids": [principal.user_id] if form.get("notify_me") == "on" else [],
            "recipient_emails": [e.strip() for e in values["emails"].replace(";", ",").split(",") if e.strip()],
        })  # fmt: skip
        rule = actions.do_create_rule(session, data=data, actor=principal)
        session.commit()
    except (InputError, ConflictError, NotFoundError, ValueError) as exc:
        session.rollback()
        return _rules_page(request, session, principal, error=exc, values=values)
    return RedirectResponse(f"/alerts/rules/{rule.id}", status_code=303)


def backtest_chart(report: Backtest, *, title: str, fired_label: str, desc: str) -> str:
    """Mentions per day, and a second line that only rises on the days the rule would have fired."""
    fired_days = {e.start.date() for e in report.episodes}
    labels = [d.strftime("%d.%m.") for d, _ in report.daily]
    volume = [float(n) for _, n in report.daily]
    fired = [float(n) if d.date() in fired_days else 0.0 for d, n in report.daily]
    return line_chart([Series(title, volume, "s0"), Series(fired_label, fired, "negative")], labels, title=title,
                      desc=desc)  # fmt: skip


@router.get("/alerts/rules/{rule_id}", response_class=HTMLResponse)
def rule_page(request: Request, rule_id: int, session: DbSession, principal: Reader, days: int = 90) -> HTMLResponse:
    rule = service.get_rule(session, id=rule_id)
    report = run_backtest(session, rule=rule, until=now(), days=max(1, min(days, 365)))
    from resonanz.web.deps import translate

    chart = backtest_chart(report, title=translate(request, N_("Mentions per day")),
                           fired_label=translate(request, N_("would have fired")),
                           desc=translate(request, N_("Backtest of this rule over the past days")))  # fmt: skip
    context = {
        **_common(),
        "rule": rule,
        "scope": service.scope_name(session, rule),
        "report": report,
        "chart": chart,
        "channels": {c.id: c for c in channel_service.list_channels(session)},
        "can_manage": principal.can(Permission.alerts_manage),
    }
    return render(request, "alerts/rule.html", context)


@router.post("/alerts/rules/{rule_id}/toggle")
def toggle_rule(rule_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    from resonanz.listening.alerts.schemas import AlertRuleUpdate

    rule = service.get_rule(session, id=rule_id)
    actions.do_update_rule(session, id=rule_id, data=AlertRuleUpdate(enabled=not rule.enabled), actor=principal)
    session.commit()
    return RedirectResponse(f"/alerts/rules/{rule_id}", status_code=303)


@router.post("/alerts/rules/{rule_id}/delete")
def delete_rule(rule_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_delete_rule(session, id=rule_id, actor=principal)
    session.commit()
    return RedirectResponse("/alerts/rules", status_code=303)


@router.get("/alerts/channels", response_class=HTMLResponse)
def channels_page(request: Request, session: DbSession, principal: Reader) -> HTMLResponse:
    return _channels_page(request, session, principal)


def _channels_page(request: Request, session: Session, principal: Principal, *, error: Exception | None = None,
                   values: dict[str, Any] | None = None) -> HTMLResponse:  # fmt: skip
    context = {
        "channels": channel_service.list_channels(session),
        "kinds": {k: cls.title for k, cls in sorted(notifier_classes().items())},
        "can_manage": principal.can(Permission.alerts_manage),
        "error": {"field": getattr(error, "location", None) or "", "message": str(error)} if error else None,
        "values": values or {"kind": "email"},
        "default_language": _settings(request).notification_language,
    }
    return render(request, "alerts/channels.html", context, status_code=422 if error else 200)


@router.post("/alerts/channels", response_class=HTMLResponse)
def create_channel(request: Request, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    values = {k: _text(form, k) for k in ("name", "kind", "url", "to", "secret_name", "language", "time_zone")}
    config: dict[str, Any] = {k: values[k] for k in ("language", "time_zone") if values[k]}
    if values["kind"] == "email":
        config["to"] = [a.strip() for a in values["to"].replace(";", ",").split(",") if a.strip()]
    else:
        config["url"] = values["url"] or None
        if values["secret_name"]:
            config["secret_name" if values["kind"] == "webhook" else "url_secret"] = values["secret_name"]
        config = {k: v for k, v in config.items() if v is not None}
    try:
        channel_actions.do_create_channel(session, name=values["name"], kind=values["kind"], config=config,
                                          actor=principal)  # fmt: skip
        session.commit()
    except (InputError, ConflictError, NotFoundError) as exc:
        session.rollback()
        return _channels_page(request, session, principal, error=exc, values=values)
    return RedirectResponse("/alerts/channels", status_code=303)


@router.post("/alerts/channels/{channel_id}/delete")
def delete_channel(channel_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    channel_actions.do_delete_channel(session, id=channel_id, actor=principal)
    session.commit()
    return RedirectResponse("/alerts/channels", status_code=303)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, alert_id: int, session: DbSession, principal: Reader) -> HTMLResponse:
    alert = service.get_alert(session, id=alert_id)
    rule = service.get_rule(session, id=alert.rule_id)
    context = {
        **_common(),
        "alert": alert,
        "rule": rule,
        "scope": service.scope_name(session, rule),
        "exp": alert.explanation,
        "deliveries": channel_service.list_deliveries(session, ref_type="alert", ref_id=alert.id),
        "can_manage": principal.can(Permission.alerts_manage),
    }
    return render(request, "alerts/alert.html", context)


@router.post("/alerts/{alert_id}/ack")
def acknowledge(alert_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_acknowledge_alert(session, id=alert_id, actor=principal)
    session.commit()
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/resolve")
def resolve(alert_id: int, session: DbSession, principal: Manager, form: CsrfForm) -> Response:
    actions.do_resolve_alert(session, id=alert_id, note=_text(form, "note"), actor=principal)
    session.commit()
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
