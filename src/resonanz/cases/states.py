"""The case life cycle: which status may follow which. The one table every writer checks.

::

    new ──► open ──► pending ──► resolved ──► closed
     │       ▲  │      │  ▲         │  ▲
     │       │  └──────┼──┘         │  │
     │       └─────────┴────────────┘  │   (reopen: a resolved case goes back to open)
     └─────────────────────────────────┘   (spam or duplicates close straight away)

``closed`` is final: when the customer writes again after a case was closed, intake opens a new case
and links it to the old one (see :mod:`resonanz.cases.intake`); a *resolved* case is reopened
instead. Pure: no database, so the API, pages, CLI and tests all read the same table.
"""

from __future__ import annotations

from resonanz.cases.models import CaseStatus
from resonanz.errors import ConflictError

S = CaseStatus

TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    S.new: (S.open, S.pending, S.resolved, S.closed),
    S.open: (S.pending, S.resolved, S.closed),
    S.pending: (S.open, S.resolved, S.closed),
    S.resolved: (S.open, S.closed),
    S.closed: (),
}

#: statuses a case is "being worked" in: counted in queues, due times run (pending pauses them)
ACTIVE: frozenset[CaseStatus] = frozenset({S.new, S.open, S.pending})
#: statuses intake may add a customer's new message to (resolved ones reopen; closed ones never)
JOINABLE: frozenset[CaseStatus] = frozenset({S.new, S.open, S.pending, S.resolved})


class InvalidTransitionError(ConflictError):
    """The status change is not in :data:`TRANSITIONS`; the message names the allowed targets."""

    def __init__(self, current: CaseStatus, target: CaseStatus) -> None:
        self.current = current
        self.target = target
        self.allowed = TRANSITIONS[current]
        allowed = ", ".join(s.value for s in self.allowed) or "none (closed is final)"
        super().__init__(
            f"a case cannot go from {current.value} to {target.value}; from {current.value} it may go to: {allowed}"
        )


def parse_status(value: str) -> CaseStatus:
    """``value`` as a status, or a ValueError that lists the valid ones."""
    try:
        return CaseStatus(value)
    except ValueError:
        raise ValueError(f"unknown status {value!r}; use one of: {', '.join(s.value for s in CaseStatus)}") from None


def allowed_transitions(current: CaseStatus | str) -> tuple[CaseStatus, ...]:
    return TRANSITIONS[CaseStatus(current)]


def can_transition(current: CaseStatus | str, target: CaseStatus | str) -> bool:
    return CaseStatus(target) in TRANSITIONS[CaseStatus(current)]


def check_transition(current: CaseStatus | str, target: CaseStatus | str) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> target`` is allowed."""
    if not can_transition(current, target):
        raise InvalidTransitionError(CaseStatus(current), CaseStatus(target))
