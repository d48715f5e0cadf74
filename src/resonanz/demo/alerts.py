"""The demo's alert rules: a volume spike and a keyword rule on Nordwelle's queries, a negative
surge and a crisis score on the brand, and new influential authors — so a new user finds rules on
/alerts/rules whose backtest shows the #NordwelleDown outage.

Idempotent: rules that exist (by name) are kept. Created after the brands and queries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.world import OWN
from resonanz.listening.alerts.actions import do_create_rule
from resonanz.listening.alerts.models import AlertRule, RuleKind
from resonanz.listening.alerts.schemas import AlertRuleCreate
from resonanz.listening.models import Brand, Query

#: the outage posts say customer data may have leaked ("Kundendaten betroffen", "may have leaked")
LEAK_WORDS = 'kundendaten OR leak* OR datenleck OR datenpanne OR "data breach" OR rückruf OR recall'


def demo_rules(*, all_query: int | None, brand: int | None) -> list[dict[str, Any]]:
    to = [f"demo-manager@{OWN.domain}"]
    rules: list[dict[str, Any]] = []
    if all_query is not None:
        rules += [
            {"name": f"{OWN.short}: volume spike", "kind": RuleKind.volume_spike, "query_id": all_query,
             "params": {"sensitivity": "medium", "min_count": 10}, "recipient_emails": to},
            {"name": f"{OWN.short}: data leak or recall", "kind": RuleKind.keyword, "query_id": all_query,
             "params": {"text": LEAK_WORDS},
             "cooldown_minutes": 720, "recipient_emails": to},
        ]  # fmt: skip
    if brand is not None:
        rules += [
            {"name": f"{OWN.short}: negative surge", "kind": RuleKind.negative_surge, "brand_id": brand,
             "params": {"sensitivity": "medium", "min_volume": 10}},
            {"name": f"{OWN.short}: crisis score", "kind": RuleKind.crisis, "brand_id": brand,
             "params": {"sensitivity": "medium", "min_count": 10}, "recipient_emails": to},
            {"name": f"{OWN.short}: new influential author", "kind": RuleKind.influencer, "brand_id": brand,
             "params": {"min_followers": 100_000}, "cooldown_minutes": 60},
        ]  # fmt: skip
    return rules


def load_alerts(db: Database) -> int:
    """Create the demo's alert rules; returns how many the demo has."""
    with transaction(db.sessions) as session:
        brand = session.scalar(select(Brand.id).where(Brand.name == OWN.name))
        all_query = session.scalar(select(Query.id).where(Query.name == f"{OWN.short}: all mentions"))
        existing = set(session.scalars(select(AlertRule.name)))
        wanted = demo_rules(all_query=all_query, brand=brand)
        for rule in wanted:
            if rule["name"] not in existing:
                do_create_rule(session, data=AlertRuleCreate.model_validate(rule), actor=None)
        return len(wanted)
