"""The CSAT link on resolve: sent once per resolution through the case's channel when the switch
(global, or the case's team) is on; never for internal cases or when nobody can be reached."""

from __future__ import annotations

from resonanz.accounts.teams import do_create_team
from resonanz.audit.service import list_events
from resonanz.cases import actions, care_settings, csat
from resonanz.cases.care_settings_models import CsatDispatch
from resonanz.cases.models import Case
from resonanz.cases.reply_models import CsatSurvey, OutboxEntry, Reply, ReplyStatus
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.worker.models import Job
from resonanz.worker.runner import drain
from tests.care.care_factory import fake_publisher, make_case, make_source


def _resolve(db: Database, case_id: int) -> None:
    with db.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        actions.do_change_status(session, case=case, status="resolved", expected_version=None, actor=None)
        session.commit()


def _new_case(db: Database, *, platform: str = "portal", lang: str = "de", team: bool = False) -> int:
    with db.sessions() as session:
        source = make_source(session, kind="fake_publisher")
        case = make_case(session, source=source, platform=platform, lang=lang)
        case.first_responded_at = now()
        if team:
            case.team_id = do_create_team(session, name=f"team-{case.id}", actor=None).id
        session.commit()
        return case.id


def _csat_jobs(db: Database) -> int:
    with db.sessions() as session:
        return len([j for j in session.query(Job).all() if j.kind == csat.SEND_KIND])


def test_switched_off_by_default_nothing_is_sent(db: Database) -> None:
    with fake_publisher() as pub:
        case_id = _new_case(db)
        _resolve(db, case_id)
        drain(db)
        assert pub.published == []
    assert _csat_jobs(db) == 0


def test_switched_on_the_link_goes_out_once_in_the_customers_language(db: Database) -> None:
    with db.sessions() as session:
        care_settings.do_set_csat_global(session, enabled=True, actor=None)
        session.commit()
    with fake_publisher() as pub:
        case_id = _new_case(db, lang="de")
        _resolve(db, case_id)
        drain(db)
        assert len(pub.published) == 1
        text = pub.published[0].text
        assert "/csat/" in text and "Vielen Dank" in text
        token = text.rsplit("/csat/", 1)[1].strip()
        with db.sessions() as session:
            # the same job again (a redelivery) finds the resolution's row and sends nothing more
            case = session.get(Case, case_id)
            assert case is not None and case.resolved_at is not None
            again = csat.do_dispatch(session, case_id=case_id, resolved_at=case.resolved_at, base_url="http://x")
            session.commit()
            assert again.status == "queued" and again.reply_id is not None
            survey = csat.find(session, token=token)
            assert survey is not None and survey.case_id == case_id
            reply = session.get(Reply, again.reply_id)
            assert reply is not None and reply.author_id is None
            assert session.query(CsatSurvey).count() == 1
            assert "csat.send" in [e.action for e in list_events(session, object_type="case", object_id=case_id)]
        drain(db)
        assert len(pub.published) == 1


def test_each_resolution_gets_its_own_link(db: Database) -> None:
    with db.sessions() as session:
        care_settings.do_set_csat_global(session, enabled=True, actor=None)
        session.commit()
    with fake_publisher() as pub:
        case_id = _new_case(db, lang="en")
        _resolve(db, case_id)
        drain(db)
        with db.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            actions.do_change_status(session, case=case, status="open", expected_version=None, actor=None)
            session.commit()
        _resolve(db, case_id)
        drain(db)
        assert len(pub.published) == 2
        assert "Thank you" in pub.published[1].text
        assert pub.published[0].idempotency_key != pub.published[1].idempotency_key


def test_reopened_before_the_job_ran_is_skipped_with_the_reason(db: Database) -> None:
    with db.sessions() as session:
        care_settings.do_set_csat_global(session, enabled=True, actor=None)
        session.commit()
    with fake_publisher() as pub:
        case_id = _new_case(db)
        _resolve(db, case_id)
        with db.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None
            actions.do_change_status(session, case=case, status="open", expected_version=None, actor=None)
            session.commit()
        drain(db)
        assert pub.published == []
    with db.sessions() as session:
        (row,) = csat.dispatches_of(session, case_id=case_id)
        assert row.status == "skipped" and "reopened" in (row.reason or "")


def test_internal_and_unreachable_cases_get_no_link(db: Database) -> None:
    with db.sessions() as session:
        care_settings.do_set_csat_global(session, enabled=True, actor=None)
        internal = make_case(session, platform="internal")
        unreachable = make_case(session, platform="telegraph")  # no source, no outbound webhook
        unanswered = make_case(session)
        unreachable.first_responded_at = internal.first_responded_at = now()
        session.commit()
        ids = internal.id, unreachable.id, unanswered.id
    for case_id in ids:
        _resolve(db, case_id)
    drain(db)
    with db.sessions() as session:
        rows = {r.case_id: r for r in session.query(CsatDispatch).all()}
        assert rows[ids[0]].status == "skipped" and "internal" in (rows[ids[0]].reason or "")
        assert rows[ids[1]].status == "skipped" and "no way to reach" in (rows[ids[1]].reason or "")
        assert rows[ids[2]].status == "skipped" and "nobody answered" in (rows[ids[2]].reason or "")
        assert session.query(OutboxEntry).count() == 0
        assert session.query(CsatSurvey).count() == 0  # the attempt left nothing behind
        assert session.query(Reply).filter(Reply.status == ReplyStatus.queued).count() == 0


def test_a_team_override_wins_over_the_global_switch(db: Database) -> None:
    with fake_publisher() as pub:
        case_id = _new_case(db, team=True)
        with db.sessions() as session:
            case = session.get(Case, case_id)
            assert case is not None and case.team_id is not None
            care_settings.do_set_team_csat(session, team_id=case.team_id, enabled=True, actor=None)
            session.commit()
            assert care_settings.csat_enabled_for(session, case=case)
            (row,) = [t for t in care_settings.team_csat(session) if t.team_id == case.team_id]
            assert row.override is True and row.effective is True
        _resolve(db, case_id)
        drain(db)
        assert len(pub.published) == 1


def test_answers_show_in_the_care_metrics_and_their_csv(db: Database) -> None:
    import csv
    import io
    from datetime import timedelta

    from resonanz.cases.metrics import care_metrics, metrics_csv

    with db.sessions() as session:
        for score in (5, 4, None):
            case = make_case(session)
            if score is not None:
                token = csat.do_create_survey(session, case=case, actor=None)
                survey = csat.find(session, token=token)
                assert survey is not None
                csat.do_answer(session, survey=survey, score=score)
        session.commit()
        rows = care_metrics(session, since=now() - timedelta(days=1), until=now() + timedelta(days=1))
    total = rows[-1]
    assert (total.csat_answers, total.csat_average) == (2, 4.5)
    parsed = list(csv.DictReader(io.StringIO(metrics_csv(rows))))
    assert parsed[-1]["csat_average"] == "4.5" and parsed[-1]["csat_answers"] == "2"


def test_switched_off_after_the_resolve_nothing_goes_out(db: Database) -> None:
    with db.sessions() as session:
        care_settings.do_set_csat_global(session, enabled=True, actor=None)
        session.commit()
    with fake_publisher() as pub:
        case_id = _new_case(db)
        _resolve(db, case_id)
        with db.sessions() as session:
            care_settings.do_set_csat_global(session, enabled=False, actor=None)
            session.commit()
        drain(db)
        assert pub.published == []
    with db.sessions() as session:
        (row,) = csat.dispatches_of(session, case_id=case_id)
        assert row.status == "skipped" and "switched off" in (row.reason or "")
