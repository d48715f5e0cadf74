"""The demo's knowledge base, reply templates and approval rules, so a new user finds suggested
answers on the demo's cases, a template to start from and one rule that sends risky replies to the
approval queue. Idempotent (matched by title/name); German and English like the demo's mentions."""

from __future__ import annotations

from sqlalchemy import select

from resonanz.cases import approvals, knowledge
from resonanz.cases.reply_models import ApprovalRule, Article, ReplyTemplate
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.world import OWN

ARTICLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Verspätungen und Zugausfälle", "de",
     f"Das tut uns leid! Aktuelle Verspätungen sehen Sie in der App {OWN.app} unter „Live“. Bei mehr als 60 Minuten "
     f"Verspätung erstatten wir 25 % des Fahrpreises: einfach das Formular auf {OWN.domain}/erstattung ausfüllen.",
     ("verspaetung", "erstattung")),
    ("Delays and cancellations", "en",
     f"We are sorry! Live delays are shown in the {OWN.app} app under 'Live'. For delays over 60 minutes we refund "
     f"25 % of the fare: fill in the form at {OWN.domain}/refund.",
     ("delay", "refund")),
    (f"{OWN.app}: Anmeldung klappt nicht", "de",
     f"Bitte aktualisieren Sie {OWN.app} auf die neueste Version und melden Sie sich neu an. Hilft das nicht, "
     "schreiben Sie uns per Direktnachricht Ihre Kundennummer (bitte nicht öffentlich posten).",
     ("app", "login")),
    (f"{OWN.subscription} kündigen oder ändern", "de",
     f"Das {OWN.subscription} können Sie monatlich in der App unter „Mein Abo“ kündigen oder ändern. "
     "Die Kündigung gilt zum Monatsende.",
     ("abo", "kuendigung")),
    ("Charged twice: refunds of double payments", "en",
     f"We are sorry that you were charged twice! A double payment for the {OWN.subscription} is refunded "
     "automatically within 5 working days; if it is not, our billing team refunds it by hand. Please do not "
     "post your bank details or customer number publicly.",
     ("refund", "billing", "invoice")),
    ("Doppelt abgebucht: Erstattung", "de",
     f"Das tut uns leid! Eine doppelte Abbuchung für das {OWN.subscription} erstatten wir automatisch innerhalb "
     "von 5 Werktagen; sonst übernimmt unser Billing-Team die Erstattung von Hand. Bitte posten Sie Ihre "
     "Bankdaten oder Kundennummer nicht öffentlich.",
     ("erstattung", "rechnung", "abbuchung")),
    (f"{OWN.scooter} e-scooters: parking and fines", "en",
     f"Please park {OWN.scooter} scooters only in the marked zones shown in the app; the ride cannot end elsewhere. "
     "If you received a fine by mistake, send us the ride number by direct message.",
     ("scooter", "parking")),
)  # fmt: skip

TEMPLATES: tuple[tuple[str, str, str], ...] = (
    ("Begrüßung (de)", "de", "Hallo {author_name}, danke für Ihre Nachricht! Ihr Anliegen hat die Nummer {case_id}. "),
    ("Greeting (en)", "en", "Hi {author_name}, thanks for reaching out! Your case number is {case_id}. "),
    ("Direktnachricht erbeten (de)", "de",
     "Hallo {author_name}, damit wir Ihre Daten schützen: Bitte schreiben Sie uns die Details per Direktnachricht. "
     "Viele Grüße, {agent_name}"),
)  # fmt: skip


def load_knowledge(db: Database) -> int:
    """Create the demo's articles, templates and approval rules; returns the number of articles."""
    with transaction(db.sessions) as session:
        titles = set(session.scalars(select(Article.title)))
        for title, lang, body, tags in ARTICLES:
            if title not in titles:
                knowledge.do_create_article(session, title=title, body=body, lang=lang, tags=tags, actor=None)
        names = set(session.scalars(select(ReplyTemplate.name)))
        for name, lang, body in TEMPLATES:
            if name not in names:
                knowledge.do_save_template(session, name=name, lang=lang, body=body, actor=None)
        rules = set(session.scalars(select(ApprovalRule.name)))
        if "Dringende Fälle" not in rules:
            approvals.do_save_rule(session, name="Dringende Fälle", kind="high_risk", params={"priority": "urgent"},
                                   actor=None)  # fmt: skip
        if "Neue Kolleginnen und Kollegen" not in rules:
            approvals.do_save_rule(session, name="Neue Kolleginnen und Kollegen", kind="new_agent", params={"days": 14},
                                   actor=None)  # fmt: skip
        return len(ARTICLES)
