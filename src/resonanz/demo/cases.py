"""The demo's inbox: cases opened by intake from the analysed demo mentions (routed by the demo's
routing rules, :mod:`resonanz.demo.routing`), and a little work already done on a few of them, so
the queue, the case page and the timeline have something to show.

Runs after the analysis: it runs the ``cases.intake`` jobs the analysis queued (the worker would,
but ``resonanz demo --no-serve`` has none), then, once, assigns the three most urgent new cases
to the demo agent, opens them, leaves a note that @mentions the demo manager on the first,
marks the fourth resolved and snoozes the fifth. Deterministic (cases are picked by priority and
id) and idempotent (the work is skipped when the demo agent already has notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from resonanz.accounts.service import get_user_by_email
from resonanz.cases import actions, collab, service
from resonanz.cases.intake_plugin import INTAKE_KIND
from resonanz.cases.models import Case
from resonanz.cases.workflow_models import CaseNote
from resonanz.clock import now
from resonanz.db.database import Database
from resonanz.db.engine import transaction
from resonanz.demo.users import DEMO_USERS
from resonanz.worker.runner import drain


@dataclass
class CasesLoad:
    cases: int
    created_now: int


def load_cases(db: Database) -> CasesLoad:
    """Run pending intake and seed the demo's workflow (see the module docstring)."""
    import resonanz.cases.tasks  # noqa: F401  (registers the intake handler)

    created = sum(int((o.result or {}).get("created", 0)) for o in drain(db, kinds=[INTAKE_KIND]))
    with transaction(db.sessions) as session:
        agent = get_user_by_email(session, email=DEMO_USERS[2].email)
        manager = get_user_by_email(session, email=DEMO_USERS[1].email)
        done_before = agent is not None and session.scalar(select(CaseNote.id).where(CaseNote.author_id == agent.id))
        if agent is not None and manager is not None and not done_before:
            page = service.list_cases(session, filters=service.CaseFilter(statuses=["new"]), limit=5)
            by = collab.audit_actor(agent.id)
            handle = manager.email.split("@", 1)[0]
            for i, case in enumerate(page.items):
                if i < 3:
                    actions.do_assign(session, case=case, assignee_id=agent.id, expected_version=None, actor=by)
                    actions.do_change_status(session, case=case, status="open", expected_version=None, actor=by)
                if i == 0:
                    collab.do_add_note(
                        session, case=case, actor=by,
                        body=f"@{handle} Kundin fragt nach Erstattung – kannst du die Kulanz freigeben?",
                    )  # fmt: skip
                if i == 3:
                    actions.do_change_status(session, case=case, status="resolved", expected_version=None, actor=by)
                if i == 4:
                    until = now() + timedelta(days=1)
                    actions.do_snooze(session, case=case, until=until, expected_version=None, actor=by)
        total = int(session.scalar(select(func.count()).select_from(Case)) or 0)
    return CasesLoad(cases=total, created_now=created)
