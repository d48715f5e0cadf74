"""The notification an alert sends, worded for one reader: subject, plain text, HTML (every
post's text escaped) in the reader's language and zone, and the structured ``data`` webhooks
carry (stable English keys, numbers as numbers, whatever the language of the words)."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from resonanz.config import Settings
from resonanz.listening.alerts.models import Alert
from resonanz.listening.alerts.wording import Wording, headline, kind_title, sample_line, summary, term_line, wording
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
    settings: Settings,
    alert: Alert,
    *,
    rule_name: str,
    scope: str,
    to: list[str] | None = None,
    language: str | None = None,
    time_zone: str | None = None,
) -> Notification:
    """The message about ``alert`` in ``language`` and ``time_zone`` (default: the settings')."""
    w = wording(language or settings.notification_language, time_zone or settings.notification_time_zone)
    link = alert_link(settings, alert.id)
    exp = alert.explanation
    subject = w._("[Resonanz] %(headline)s (%(rule)s)", headline=headline(alert.kind, scope, w), rule=rule_name)
    sentence = summary(alert.kind, exp, w)
    terms: list[dict[str, Any]] = list(exp.get("top_terms") or [])
    samples: list[dict[str, Any]] = list(exp.get("samples") or [])
    lines = [f"{kind_title(alert.kind, w)} — {scope}", w._("Rule: %(rule)s", rule=rule_name),
             w._("When: %(when)s", when=w.when(alert.episode_start)), "", sentence,
             f"{w._('Observed')}: {w.number(alert.observed)} · {w._('Baseline')}: {w.number(alert.baseline)}",
             ""]  # fmt: skip
    if terms:
        lines.append(w._("Words driving it") + ":")
        lines += [f"  {term_line(t, w)}" for t in terms]
        lines.append("")
    if samples:
        lines.append(w._("Sample mentions") + ":")
        lines += [f"  - [{s.get('id')}] {sample_line(s, w)}" for s in samples]
        lines.append("")
    lines.append(w._("Open the alert: %(link)s", link=link))
    html = _html(w, alert, scope=scope, rule_name=rule_name, sentence=sentence, terms=terms, samples=samples,
                 link=link)  # fmt: skip
    data = alert_data(alert, rule_name=rule_name, scope=scope, link=link)
    return Notification(subject=subject, text="\n".join(lines), html=html, to=list(to or []), link=link,
                        event="alert.fired", data=data, language=w.lang)  # fmt: skip


def _html(
    w: Wording,
    alert: Alert,
    *,
    scope: str,
    rule_name: str,
    sentence: str,
    terms: list[dict[str, Any]],
    samples: list[dict[str, Any]],
    link: str,
) -> str:
    when = w._("When: %(when)s", when=w.when(alert.episode_start))
    numbers = Markup(
        "<table><tr><th align=left>{}</th><td>{}</td></tr><tr><th align=left>{}</th><td>{}</td></tr></table>"
    )
    parts: list[Markup | str] = [
        Markup('<!doctype html><html lang="{}"><body style="font-family:sans-serif">').format(w.lang),
        Markup("<h2>{} — {}</h2>").format(kind_title(alert.kind, w), scope),
        Markup("<p>{}: <b>{}</b><br>{}</p>").format(w._("Rule"), rule_name, when),
        Markup("<p>{}</p>").format(sentence),
        numbers.format(w._("Observed"), w.number(alert.observed), w._("Baseline"), w.number(alert.baseline)),
    ]
    if terms:
        parts.append(Markup("<h3>{}</h3><ul>").format(w._("Words driving it")))
        parts += [Markup("<li>{}</li>").format(term_line(t, w)) for t in terms]
        parts.append(Markup("</ul>"))
    if samples:
        parts.append(Markup("<h3>{}</h3><ul>").format(w._("Sample mentions")))
        parts += [Markup("<li>{}</li>").format(sample_line(s, w)) for s in samples]
        parts.append(Markup("</ul>"))
    parts.append(Markup('<p><a href="{}">{}</a></p></body></html>').format(link, w._("Open the alert in Resonanz")))
    return str(Markup("").join(escape(p) for p in parts))
