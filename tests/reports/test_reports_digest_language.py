"""The report e-mail's digest in a recipient's language and zone (issue 5): the same gathered
numbers worded and formatted per language, and the period's alerts named in it (an alert stores
its scope; the kind is worded per reader)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from resonanz.listening import rollups
from resonanz.listening.alerts.models import Alert, AlertRule
from resonanz.reports.content import gather
from resonanz.reports.digest import render_digest
from resonanz.reports.schedule import Period, window_from
from tests.reports.reports_data import T0, build
from tests.reports.test_reports_pdf import _definition


def test_digest_in_the_report_language_or_a_recipients(session: Session) -> None:
    ws = build(session, days=7)
    rollups.rebuild(session)
    rule = AlertRule(name="spike", kind="volume_spike", brand_id=ws.brands["Nordwelle"], params={},
                     cooldown_minutes=60, enabled=True, channel_ids=[], recipient_user_ids=[], recipient_emails=[],
                     created_at=T0, updated_at=T0)  # fmt: skip
    session.add(rule)
    session.flush()
    fired = T0 + timedelta(days=2, hours=23, minutes=30)  # 5 March, 08:30 UTC
    session.add(Alert(rule_id=rule.id, kind="volume_spike", status="open", title="Nordwelle <b>", episode_start=fired,
                      episode_end=fired, fired_at=fired, updated_at=fired, observed=1234.0, baseline=10.0, score=4.0,
                      buckets=1, explanation={}))  # fmt: skip
    session.flush()
    definition = _definition(session, [ws.brands["Nordwelle"]], lang="de")
    content = gather(session, definition=definition, window=window_from(date(2026, 3, 2), period=Period.weekly,
                                                                         tz="Europe/Berlin"))  # fmt: skip

    german = render_digest(content, public_url="https://rz.example")
    assert german.subject.startswith("Wochenbericht: Wochenbericht Nordwelle")
    assert "Volumenspitze: Nordwelle &lt;b&gt;" in german.html and "Nordwelle <b>" not in german.html
    assert "Volumenspitze: Nordwelle <b>" in german.text and "05.03.26, 09:30" in german.text  # Berlin

    english = render_digest(content, public_url="https://rz.example", language="en", tz="America/New_York")
    assert english.subject.startswith("Weekly report: Wochenbericht Nordwelle")
    assert "Volume spike: Nordwelle <b>" in english.text and "3/5/26, 3:30\u202fAM" in english.text  # New York
    assert "Mentions" in english.text and "Erwähnungen" not in english.text
