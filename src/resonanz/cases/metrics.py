"""Care metrics over a period, per team or per agent: first response time, resolution time, SLA
attainment and backlog; and their CSV export.

The period selects cases by ``created_at`` in ``[since, until)``. Times are wall-clock minutes
(what the customer waited); SLA attainment compares with the business-hours due times the SLA
service set:

- a first-response target is *met* when the first response came at or before its due time, and
  *missed* when it came later or has not come and the due time passed before ``until``; cases
  still inside their time are not counted either way (same for resolution);
- backlog: cases of the group created before ``until`` that are still new/open/pending;
- CSAT: the average of the answered satisfaction surveys (1-5) of the period's cases, and how many.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from resonanz.accounts.models import Team, User
from resonanz.cases.models import Case, CaseStatus
from resonanz.errors import InputError

GROUPS = ("team", "agent")
_OPEN = (CaseStatus.new.value, CaseStatus.open.value, CaseStatus.pending.value)


@dataclass
class MetricsRow:
    group: str  # "team" | "agent" | "all"
    key: int | None
    name: str
    cases: int
    responded: int
    first_response_median_min: float | None
    first_response_p90_min: float | None
    resolved: int
    resolution_median_min: float | None
    resolution_p90_min: float | None
    first_response_met: int
    first_response_missed: int
    resolution_met: int
    resolution_missed: int
    sla_attainment: float | None  # met / (met + missed) over both targets
    backlog: int
    csat_answers: int = 0
    csat_average: float | None = None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return round(ordered[index], 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


class _Acc:
    def __init__(self) -> None:
        self.cases = 0
        self.frt: list[float] = []
        self.res: list[float] = []
        self.fr = [0, 0]
        self.rs = [0, 0]
        self.backlog = 0
        self.csat: list[int] = []

    def target(self, pair: list[int], due: datetime | None, done: datetime | None, until: datetime) -> None:
        if due is None:
            return
        if done is not None and done <= due:
            pair[0] += 1
        elif done is not None or due < until:
            pair[1] += 1

    def row(self, group: str, key: int | None, name: str) -> MetricsRow:
        met, missed = self.fr[0] + self.rs[0], self.fr[1] + self.rs[1]
        return MetricsRow(
            group=group, key=key, name=name, cases=self.cases,
            responded=len(self.frt), first_response_median_min=_median(self.frt),
            first_response_p90_min=_pct(self.frt, 0.9),
            resolved=len(self.res), resolution_median_min=_median(self.res), resolution_p90_min=_pct(self.res, 0.9),
            first_response_met=self.fr[0], first_response_missed=self.fr[1],
            resolution_met=self.rs[0], resolution_missed=self.rs[1],
            sla_attainment=round(met / (met + missed), 4) if met + missed else None, backlog=self.backlog,
            csat_answers=len(self.csat), csat_average=round(statistics.fmean(self.csat), 2) if self.csat else None,
        )  # fmt: skip


def care_metrics(
    session: Session, *, since: datetime, until: datetime, group: str = "team", team_id: int | None = None
) -> list[MetricsRow]:
    """One row per team (or agent) with cases in the period, then the total row (group "all")."""
    if group not in GROUPS:
        raise InputError("group is team or agent", location="group")
    if until <= since:
        raise InputError("the period ends before it starts", location="until")
    column = Case.team_id if group == "team" else Case.assignee_id
    stmt = select(
        column, Case.created_at, Case.first_responded_at, Case.resolved_at,
        Case.first_response_due_at, Case.resolution_due_at, Case.status, Case.csat,
    ).where(Case.created_at < until, Case.merged_into_id.is_(None))  # fmt: skip
    if team_id is not None:
        stmt = stmt.where(Case.team_id == team_id)
    accs: dict[int | None, _Acc] = {}
    total = _Acc()
    for key, created, responded, resolved, fr_due, rs_due, status, csat in session.execute(stmt):
        acc = accs.setdefault(key, _Acc())
        if status in _OPEN:
            acc.backlog += 1
            total.backlog += 1
        if created < since:
            continue
        for a in (acc, total):
            a.cases += 1
            if responded is not None:
                a.frt.append((responded - created).total_seconds() / 60)
            if resolved is not None:
                a.res.append((resolved - created).total_seconds() / 60)
            a.target(a.fr, fr_due, responded, until)
            a.target(a.rs, rs_due, resolved, until)
            if csat is not None:
                a.csat.append(csat)
    model = Team if group == "team" else User
    ids = [k for k in accs if k is not None]
    names: dict[int, str] = {}
    if ids:
        label = Team.name if group == "team" else User.display_name
        names = {i: n for i, n in session.execute(select(model.id, label).where(model.id.in_(ids)))}
    none_label = "(no team)" if group == "team" else "(unassigned)"
    rows = [
        acc.row(group, key, names.get(key, none_label) if key is not None else none_label)
        for key, acc in accs.items()
        if acc.cases or acc.backlog
    ]
    rows.sort(key=lambda r: (r.key is None, r.name.lower()))
    rows.append(total.row("all", None, "all"))
    return rows


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a team name must not run as a spreadsheet formula
    return value


def metrics_csv(rows: list[MetricsRow]) -> str:
    """The rows as CSV (header from the field names; empty cells for "no value")."""
    out = io.StringIO()
    fields = list(MetricsRow.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = asdict(row)
        writer.writerow({k: _cell(values[k]) for k in fields})
    return out.getvalue()
