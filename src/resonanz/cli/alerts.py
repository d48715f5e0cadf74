"""``resonanz alerts rules|add|backtest|list|ack|resolve|evaluate``: alert rules and their alerts
from the command line, over the same actions as the API.

Exit codes: 3 not found, 4 conflict (a taken name, an alert resolved already), 5 bad input (the
message names the option, e.g. ``params.sensitivity``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import select

from resonanz.cli.context import console, database, fmt_time, handle_errors, print_json, print_table, session_scope
from resonanz.clock import now
from resonanz.errors import InputError, NotFoundError
from resonanz.i18n import cli_locale
from resonanz.listening.alerts import actions, service, wording
from resonanz.listening.alerts.backtest import run_backtest
from resonanz.listening.alerts.models import RuleKind
from resonanz.listening.alerts.schemas import AlertRuleCreate, AlertRuleRead
from resonanz.listening.models import Brand, Query

app = typer.Typer(help="Alert rules (spikes, negative surges, keywords, influencers, crises) and alerts.",
                  no_args_is_help=True)  # fmt: skip


def _query_id(session: Any, ref: str) -> int:
    found = session.scalar(select(Query.id).where(Query.name == ref))
    if found is None and ref.isdigit():
        found = session.scalar(select(Query.id).where(Query.id == int(ref)))
    if found is None:
        raise NotFoundError(f"no query called {ref!r}")
    return int(found)


def _brand_id(session: Any, ref: str) -> int:
    found = session.scalar(select(Brand.id).where(Brand.name == ref))
    if found is None and ref.isdigit():
        found = session.scalar(select(Brand.id).where(Brand.id == int(ref)))
    if found is None:
        raise NotFoundError(f"no brand called {ref!r}")
    return int(found)


@app.command("rules")
@handle_errors
def rules(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List alert rules."""
    with session_scope() as session:
        rows = service.list_rules(session)
        if as_json:
            print_json([AlertRuleRead.model_validate(r).model_dump(mode="json") for r in rows])
            return
        print_table("Alert rules", ["id", "name", "kind", "watches", "params", "cooldown", "enabled"],
                    [[r.id, r.name, r.kind, service.scope_name(session, r), r.params, f"{r.cooldown_minutes} min",
                      r.enabled] for r in rows])  # fmt: skip


@app.command("add")
@handle_errors
def add(
    name: Annotated[str, typer.Argument(help="a unique name")],
    kind: Annotated[RuleKind, typer.Option(help="what to watch for")] = RuleKind.volume_spike,
    query: Annotated[str | None, typer.Option(help="the query (name or id) to watch")] = None,
    brand: Annotated[str | None, typer.Option(help="or the brand (name or id): all its queries")] = None,
    sensitivity: Annotated[str | None, typer.Option(help="low, medium or high (spike, surge, crisis)")] = None,
    min_count: Annotated[int | None, typer.Option(help="never fire below this many mentions")] = None,
    text: Annotated[str | None, typer.Option(help="keyword rules: a listening query, e.g. rückruf OR recall")] = None,
    min_followers: Annotated[int | None, typer.Option(help="influencer rules: follower threshold")] = None,
    cooldown: Annotated[int, typer.Option(min=0, max=10080, help="minutes of quiet before it may fire again")] = 180,
    email: Annotated[list[str] | None, typer.Option(help="an address to e-mail (repeat for more)")] = None,
    channel: Annotated[list[int] | None, typer.Option(help="a notification channel id (repeat for more)")] = None,
) -> None:
    """Add a rule; options a kind does not use are refused with the field named."""
    params: dict[str, Any] = {}
    for key, value in (("sensitivity", sensitivity), ("min_count", min_count), ("text", text),
                       ("min_followers", min_followers)):  # fmt: skip
        if value is not None:
            params[key] = value
    with session_scope() as session:
        data = AlertRuleCreate(
            name=name,
            kind=kind,
            query_id=_query_id(session, query) if query else None,
            brand_id=_brand_id(session, brand) if brand else None,
            params=params,
            cooldown_minutes=cooldown,
            recipient_emails=email or [],
            channel_ids=channel or [],
        )
        rule = actions.do_create_rule(session, data=data, actor=None)
        console.print(f"rule {rule.id} {rule.name!r} added: {rule.kind} {rule.params}", markup=False)


@app.command("remove")
@handle_errors
def remove(rule_id: Annotated[int, typer.Argument()]) -> None:
    """Remove a rule and its alerts."""
    with session_scope() as session:
        actions.do_delete_rule(session, id=rule_id, actor=None)
    console.print(f"rule {rule_id} removed")


@app.command("backtest")
@handle_errors
def backtest(
    rule_id: Annotated[int, typer.Argument()],
    days: Annotated[int, typer.Option(min=1, max=365)] = 90,
    until: Annotated[str | None, typer.Option(help="end of the range (ISO date/time, UTC); default now")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """When the rule would have fired over the past days, with why."""
    end = now()
    if until:
        try:
            parsed = datetime.fromisoformat(until)
        except ValueError as exc:
            raise InputError("use an ISO date such as 2026-03-01", location="--until") from exc
        end = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    with session_scope() as session:
        rule = service.get_rule(session, id=rule_id)
        report = run_backtest(session, rule=rule, until=end, days=days)
        if as_json:
            print_json(report.as_dict())
            return
        console.print(f"{rule.name}: {len(report.episodes)} episode(s) in {days} days "
                      f"({report.buckets} buckets judged)", markup=False)  # fmt: skip
        for ep in report.episodes:
            line = service.summary(rule.kind, ep.explanation) if ep.explanation else f"score {ep.score:g}"
            terms = ", ".join(t["term"] for t in (ep.explanation or {}).get("top_terms", [])[:5])
            console.print(f"  {fmt_time(ep.start)} – {fmt_time(ep.end)}: {line}" + (f" [{terms}]" if terms else ""),
                          markup=False, highlight=False)  # fmt: skip


@app.command("list")
@handle_errors
def list_(
    status: Annotated[str | None, typer.Option(help="open, acknowledged or resolved")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The newest alerts."""
    with session_scope() as session:
        rows = service.list_alerts(session, status=status, limit=limit)
        if as_json:
            from resonanz.listening.alerts.schemas import AlertRead

            print_json([AlertRead.model_validate(a).model_dump(mode="json") for a in rows])
            return
        # the stored title is the watched scope only; the kind is worded in the CLI's language
        words = wording.wording(cli_locale())
        print_table("Alerts", ["id", "fired", "status", "rule", "what"],
                    [[a.id, fmt_time(a.fired_at), a.status, a.rule_id, wording.headline(a.kind, a.title, words)]
                     for a in rows])  # fmt: skip


@app.command("ack")
@handle_errors
def ack(alert_id: Annotated[int, typer.Argument()]) -> None:
    """Acknowledge an alert (someone is on it)."""
    with session_scope() as session:
        alert = actions.do_acknowledge_alert(session, id=alert_id, actor=None)
        console.print(f"alert {alert.id}: {alert.status}")


@app.command("resolve")
@handle_errors
def resolve(alert_id: Annotated[int, typer.Argument()], note: Annotated[str | None, typer.Option()] = None) -> None:
    """Resolve an alert."""
    with session_scope() as session:
        alert = actions.do_resolve_alert(session, id=alert_id, note=note, actor=None)
        console.print(f"alert {alert.id}: {alert.status}")


@app.command("evaluate")
@handle_errors
def evaluate(
    deliver: Annotated[bool, typer.Option(help="also send the notifications now")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Judge every enabled rule's closed buckets now (what the worker does every minute)."""
    from resonanz.worker.runner import drain

    db = database()
    with session_scope() as session:
        results = actions.evaluate_all(session, at=now(), settings=db.settings)
    sent = drain(db, kinds=["notifications.deliver"]) if deliver else []
    summary = [{"rule_id": r.rule_id, "buckets": r.buckets, "fired": r.fired, "updated": r.updated} for r in results]
    if as_json:
        print_json({"rules": summary, "deliveries": [o.state for o in sent]})
        return
    for r in results:
        console.print(f"rule {r.rule_id}: {r.buckets} bucket(s), fired {r.fired or '-'}, updated {r.updated or '-'}")
    if sent:
        console.print(f"{len(sent)} notification attempt(s): " + ", ".join(o.state for o in sent))


def register(root: typer.Typer) -> None:
    """Add this area's commands to ``root``."""
    root.add_typer(app, name="alerts")
