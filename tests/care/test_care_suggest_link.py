"""Suggestions ranked with their reasons (articles and replies that resolved similar cases), and a
sent reply linked into the case's thread when the platform's id names a stored mention."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from resonanz.cases import knowledge, outbox, replies, suggestions
from resonanz.cases.models import Case, CaseMention
from resonanz.cases.reply_models import Reply, ReplyStatus
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.mentions.models import Mention
from tests.care.care_factory import fake_publisher, make_case, make_source
from tests.support.accounts_factory import make_user


@dataclass(frozen=True)
class Who:
    user_id: int


def test_articles_and_past_replies_are_ranked_with_reasons(session: Session) -> None:
    knowledge.do_create_article(session, title="Verspätete Lieferung", body="Lieferungen sind 2 Tage verspätet.",
                                lang="de", tags=["lieferung"], actor=None)  # fmt: skip
    knowledge.do_create_article(session, title="Passwort vergessen", body="So setzen Sie Ihr Passwort zurück.",
                                lang="de", tags=["login"], actor=None)  # fmt: skip
    knowledge.do_create_article(session, title="Late delivery", body="Deliveries are late by two days.", lang="en",
                                tags=["lieferung"], actor=None)  # fmt: skip
    old = make_case(session, text="Lieferung verspätet, schon wieder!", status="resolved", tags=["lieferung"])
    session.add(Reply(case_id=old.id, text="Ihre Lieferung kommt morgen, Entschuldigung für die Verspätung.",
                      lang="de", status=ReplyStatus.sent, created_at=now(), updated_at=now()))  # fmt: skip
    session.flush()
    case = make_case(session, text="Wo bleibt meine Lieferung? Total verspätet.", tags=["lieferung"])
    found = suggestions.suggest(session, case=case)
    kinds = [(s.kind, s.title) for s in found]
    assert ("article", "Passwort vergessen") not in kinds
    top = found[0]
    assert top.lang == "de" and any(r.startswith("shares words:") and "verspaetet" in r for r in top.reasons)
    assert "same tags: lieferung" in top.reasons and "same language (de)" in top.reasons
    past = next(s for s in found if s.kind == "reply")
    assert f"resolved case #{old.id}" in past.reasons
    english = next(s for s in found if s.title == "Late delivery")
    assert "in en, the customer wrote de" in english.reasons and english.score < top.score


def test_sent_reply_joins_the_thread_when_its_mention_exists(db: Database) -> None:
    with fake_publisher(), db.sessions() as session:
        source = make_source(session, kind="fake_publisher")
        case = make_case(session, source=source)
        me = Who(make_user(session).id)
        draft = replies.do_save_draft(session, case=case, text="Danke, ist erledigt.", actor=me)
        replies.do_submit(session, reply=draft, actor=me)
        session.commit()
        entry = outbox.entry_for(session, reply_id=draft.id)
        assert entry is not None
        stamp = now()
        ours = Mention(platform="portal", external_id=f"out-{entry.idempotency_key}", published_at=stamp,
                       fetched_at=stamp, updated_at=stamp, text=draft.text, content_hash="f" * 64,
                       revision_hash="f" * 64)  # fmt: skip
        session.add(ours)
        session.commit()
        ours_id, case_id, reply_id = ours.id, case.id, draft.id
        assert outbox.send_entry(db.sessions, outbox_id=entry.id, settings=db.settings).status == "sent"
    with db.sessions() as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None and reply.sent_mention_id == ours_id
        link = session.get(CaseMention, ours_id)
        assert link is not None and link.case_id == case_id
        loaded = session.get(Case, case_id)
        assert loaded is not None and loaded.first_responded_at is not None
        # our own published reply is not taken for the customer's newest message
        assert ours_id not in [m.id for m in replies.customer_mentions(session, case=loaded)]
