"""The PDF report read back with pypdf: key numbers, chart text, notable posts, both languages."""

from __future__ import annotations

import io
from datetime import date, timedelta

from pypdf import PdfReader
from sqlalchemy.orm import Session

from resonanz.listening import rollups
from resonanz.listening.alerts.models import Alert, AlertRule
from resonanz.reports.content import gather
from resonanz.reports.models import ReportDefinition
from resonanz.reports.pdf import render_pdf
from resonanz.reports.schedule import Period, window_from
from tests.reports.reports_data import T0, build


def _definition(session: Session, brand_ids: list[int], *, lang: str = "de") -> ReportDefinition:
    d = ReportDefinition(
        name="Wochenbericht Nordwelle",
        brand_ids=brand_ids,
        query_ids=[],
        period=Period.weekly,
        recipient_user_ids=[],
        recipient_emails=["team@example.org"],
        language=lang,
        tz="Europe/Berlin",
        enabled=True,
        created_at=T0,
        updated_at=T0,
    )
    session.add(d)
    session.flush()
    return d


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_weekly_pdf_has_key_numbers_charts_and_posts(session: Session) -> None:
    ws = build(session, days=14)  # weeks of Mar 2 and Mar 9, 3 mentions a day
    rollups.rebuild(session)
    definition = _definition(session, [ws.brands["Nordwelle"]])
    window = window_from(date(2026, 3, 9), period=Period.weekly, tz="Europe/Berlin")
    content = gather(session, definition=definition, window=window)
    assert content.total == 21 and content.previous_total == 21
    pdf = render_pdf(content, public_url="https://rz.example")
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "Wochenbericht: Wochenbericht Nordwelle" in text
    assert "9.–15. März 2026" in text
    assert "21" in text and "±0 %" in text  # total and change against the week before
    assert "Erwähnungen" in text and "Netto-Stimmung" in text
    assert "9. März" in text  # an x-axis label of the SAME SVG chart as the dashboard
    assert "Rivale" in text and "Nordwelle" in text  # share of voice compares with the competitor
    assert "<script>" not in text or "alert" in text  # snippets are text, never markup
    assert "@user" in text  # notable posts name their authors


def test_alerts_of_the_period_and_scope_are_listed(session: Session) -> None:
    ws = build(session, days=7)
    rollups.rebuild(session)
    stamp = T0 + timedelta(days=2)
    rules = []
    for name, brand in (("spike", "Nordwelle"), ("rival", "Rivale")):
        rule = AlertRule(name=name, kind="volume_spike", brand_id=ws.brands[brand], params={}, cooldown_minutes=60,
                         enabled=True, channel_ids=[], recipient_user_ids=[], recipient_emails=[],
                         created_at=T0, updated_at=T0)  # fmt: skip
        session.add(rule)
        session.flush()
        rules.append(rule)
    for rule, title, fired in (
        (rules[0], "Nordwelle <x>", stamp),  # an alert stores its scope; the kind is worded per reader
        (rules[0], "Outside the period", stamp + timedelta(days=30)),
        (rules[1], "Rivale", stamp),
    ):
        session.add(Alert(rule_id=rule.id, kind="volume_spike", status="open", title=title, episode_start=fired,
                          episode_end=fired, fired_at=fired, updated_at=fired, observed=40.0, baseline=10.0,
                          score=4.0, buckets=1, explanation={}))  # fmt: skip
    session.flush()
    definition = _definition(session, [ws.brands["Nordwelle"]], lang="en")
    window = window_from(date(2026, 3, 2), period=Period.weekly, tz="Europe/Berlin")
    content = gather(session, definition=definition, window=window)
    assert [a.title for a in content.alerts or []] == ["Nordwelle <x>"]
    assert content.summary()["alerts"] == 1
    text = _text(render_pdf(content, public_url="http://x"))
    assert "Volume spike: Nordwelle <x>" in text and "Volume spike: Rivale" not in text


def test_english_pdf(session: Session) -> None:
    ws = build(session, days=7)
    rollups.rebuild(session)
    definition = _definition(session, [ws.brands["Nordwelle"]], lang="en")
    window = window_from(date(2026, 3, 2), period=Period.weekly, tz="Europe/Berlin")
    text = _text(render_pdf(gather(session, definition=definition, window=window), public_url="http://x"))
    assert "Weekly report" in text and "Mar 2\u2009–\u20098, 2026" in text and "Mentions" in text
    assert "Most engaged posts" in text
