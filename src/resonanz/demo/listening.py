"""The demo's brands and listening queries: Nordwelle (own) and its two competitors, with queries
that find the demo's own vocabulary (the app, the subscription, the scooters, the outage).

Created before the demo's mentions are ingested, so the analysis job matches every mention as it
goes (the streaming matcher) and the dashboards, alerts and reports have query data at once.
Idempotent: a second run keeps existing brands and gives a query a new version only when its text
here changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.world import COMPETITORS, CRISIS_HASHTAG, OWN, Company
from resonanz.listening.brands import do_create_brand, find_brand
from resonanz.listening.models import BrandKind, Query
from resonanz.listening.queries import REAPPLY_KIND, do_save_query


@dataclass(frozen=True)
class DemoQuery:
    name: str
    brand: str
    text: str
    note: str


def _aliases(company: Company) -> list[str]:
    return [company.short, company.app, company.subscription, company.scooter]


def demo_queries() -> list[DemoQuery]:
    own = OWN.short.lower()
    app = OWN.app.lower()
    crisis = CRISIS_HASHTAG
    queries = [
        DemoQuery(f"{OWN.short}: all mentions", OWN.name,
                  f'{own}* OR "{OWN.subscription.lower()}" OR {OWN.scooter.lower()}',
                  "the brand, its app, subscription and scooters"),
        DemoQuery(f"{OWN.short}: app problems", OWN.name,
                  f"{app} AND (stürzt OR abstürz* OR login OR down OR ausfäll* OR fehlermeldung OR crash*)",
                  "app crashes, login and outage reports"),
        DemoQuery(f"{OWN.short}: complaints", OWN.name, f"{own}* AND (sentiment:negative OR intent:complaint)",
                  "negative or complaining mentions of the brand"),
        DemoQuery(f"{OWN.short}: outage", OWN.name,
                  f"{crisis} OR ({own}* NEAR/5 (down OR ausfall OR störung))", "the outage and its hashtag"),
    ]  # fmt: skip
    for company in COMPETITORS:
        words = [company.short.lower(), f'"{company.subscription.lower()}"', f'"{company.app.lower()}"']
        queries.append(
            DemoQuery(
                f"{company.short}: all mentions", company.name, " OR ".join(words), "competitor, for share of voice"
            )
        )
    return queries


def load_listening(db: Database) -> int:
    """Create the demo brands and queries (and apply them to mentions already stored); returns how
    many queries the demo has."""
    from resonanz.worker.runner import drain

    with transaction(db.sessions) as session:
        ids: dict[str, int] = {}
        for company, kind in [(OWN, BrandKind.own), *[(c, BrandKind.competitor) for c in COMPETITORS]]:
            brand = find_brand(session, name=company.name)
            if brand is None:
                brand = do_create_brand(
                    session, name=company.name, kind=kind, aliases=_aliases(company), description="DEMO DATA"
                )
            ids[company.name] = brand.id
        queries = demo_queries()
        for q in queries:
            do_save_query(session, name=q.name, text=q.text, brand_id=ids[q.brand], note=q.note)
    drain(db, kinds=[REAPPLY_KIND])
    with db.sessions() as session:
        return len(list(session.scalars(select(Query.id))))
