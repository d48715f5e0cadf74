"""The notification an alert sends: subject, plain text, HTML (every post's text escaped) and the
structured ``data`` webhooks carry."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from resonanz.config import Settings
from resonanz.listening.alerts.models import Alert
from resonanz.listening.alerts.service import KIND_TITLES, summary
from resonanz.notifications.base import Notification


def alert_link(settings: Settings, alert_id: int) -> str:
    return f"{settings.public_url.rstrip('/')}/alerts/{alert_id}"


def alert_data(alert: Alert, *, rule_name: str, scope: str, link: str) -> dict[str, Any]:
    return {
        "alert_id": alert.id,
        "rule_id": alert.rule_id,
        "rule": rule_name,
        "scope": scope,
        "kind": alert.kind,
        "status": alert.status,
        "episode_start": alert.episode_start.isoformat(),
        "observed": alert.observed,
        "baseline": alert.baseline,
        "score": alert.score,
        "explanation": alert.explanation,
        "link": link,
    }


def build_notification(
    settings: Settings, alert: Alert, *, rule_name: str, scope: str, to: list[str] | None = None
) -> Notification:
    link = alert_link(settings, alert.id)
    exp = alert.explanation
    kind_title = KIND_TITLES.get(alert.kind, alert.kind)  # type: ignore[call-overload]
    subject = f"[Resonanz] {kind_title}: {scope} ({rule_name})"
    sentence = summary(alert.kind, exp)
    terms = exp.get("top_terms", [])
    samples = exp.get("samples", [])
    lines = [f"{kind_title} — {scope}", f"Rule: {rule_name}", f"When: {alert.episode_start:%Y-%m-%d %H:%M} UTC", "",
             sentence, ""]  # fmt: skip
    if terms:
        lines.append("Words driving it (in the alert window vs. the week before):")
        lines += [f"  {t['term']}: {t['window']} vs {t['baseline']} (x{t['lift']:g})" for t in terms]
        lines.append("")
    if samples:
        lines.append("Sample mentions:")
        lines += [f"  - [{s['id']}] @{s.get('author') or '?'}: {s['snippet']}" for s in samples]
        lines.append("")
    lines.append(f"Open the alert: {link}")
    text = "\n".join(lines)
    html = _html(kind_title, scope, rule_name, alert, sentence, terms, samples, link)
    data = alert_data(alert, rule_name=rule_name, scope=scope, link=link)
    return Notification(subject=subject, text=text, html=html, to=list(to or []), link=link, event="alert.fired",
                        data=data)  # fmt: skip


def _html(
    kind_title: str,
    scope: str,
    rule_name: str,
    alert: Alert,
    sentence: str,
    terms: list[dict[str, Any]],
    samples: list[dict[str, Any]],
    link: str,
) -> str:
    parts: list[Markup | str] = [
        Markup('<!doctype html><html><body style="font-family:sans-serif">'),
        Markup("<h2>{} — {}</h2>").format(kind_title, scope),
        Markup("<p>Rule: <b>{}</b><br>When: {} UTC</p>").format(rule_name, f"{alert.episode_start:%Y-%m-%d %H:%M}"),
        Markup("<p>{}</p>").format(sentence),
        Markup(
            "<table><tr><th align=left>observed</th><td>{}</td></tr><tr><th align=left>baseline</th>"
            "<td>{}</td></tr></table>"
        ).format(f"{alert.observed:g}", f"{alert.baseline:g}"),
    ]
    if terms:
        parts.append(Markup("<h3>Words driving it</h3><ul>"))
        for t in terms:
            parts.append(
                Markup("<li><b>{}</b>: {} in the window vs {} the week before (x{})</li>").format(
                    t["term"], t["window"], t["baseline"], f"{t['lift']:g}"
                )
            )
        parts.append(Markup("</ul>"))
    if samples:
        parts.append(Markup("<h3>Sample mentions</h3><ul>"))
        for s in samples:
            parts.append(Markup("<li>@{} ({} followers): {}</li>").format(s.get("author") or "?", s["followers"],
                                                                          s["snippet"]))  # fmt: skip
        parts.append(Markup("</ul>"))
    parts.append(Markup('<p><a href="{}">Open the alert in Resonanz</a></p></body></html>').format(link))
    return str(Markup("").join(escape(p) for p in parts))
