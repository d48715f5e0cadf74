"""The demo's report: a weekly German report on the own brand for the demo manager, so a new user
finds one on /reports, can generate any week of the demo's 90 days and download the PDF.

Idempotent: a second run keeps the existing report. Created after the brands (it names them).
"""

from __future__ import annotations

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.world import OWN
from resonanz.listening.brands import find_brand
from resonanz.reports.actions import do_create_report
from resonanz.reports.schemas import ReportCreate
from resonanz.reports.service import list_reports

DEMO_REPORT = f"{OWN.short} – Wochenbericht"


def load_reports(db: Database) -> int:
    """Create the demo's weekly report; returns its id."""
    with transaction(db.sessions) as session:
        for report in list_reports(session):
            if report.name == DEMO_REPORT:
                return report.id
        brand = find_brand(session, name=OWN.name)
        data = ReportCreate(
            name=DEMO_REPORT,
            brand_ids=[brand.id] if brand is not None else [],
            period="weekly",
            recipient_emails=[f"demo-manager@{OWN.domain}"],
            language="de",
            tz="Europe/Berlin",
        )
        return do_create_report(session, data=data, actor=None).id
