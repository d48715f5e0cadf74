"""The transition table, every pair: allowed ones pass, the rest raise naming the allowed targets."""

from __future__ import annotations

import itertools

import pytest

from resonanz.cases.models import CaseStatus
from resonanz.cases.states import (
    TRANSITIONS,
    InvalidTransitionError,
    allowed_transitions,
    can_transition,
    check_transition,
    parse_status,
)

S = CaseStatus
EXPECTED = {
    (S.new, S.open), (S.new, S.pending), (S.new, S.resolved), (S.new, S.closed),
    (S.open, S.pending), (S.open, S.resolved), (S.open, S.closed),
    (S.pending, S.open), (S.pending, S.resolved), (S.pending, S.closed),
    (S.resolved, S.open), (S.resolved, S.closed),
}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair(current: CaseStatus, target: CaseStatus) -> None:
    allowed = (current, target) in EXPECTED
    assert can_transition(current, target) is allowed
    if allowed:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransitionError) as info:
            check_transition(current, target)
        message = str(info.value)
        assert f"from {current.value} to {target.value}" in message
        for status in allowed_transitions(current):
            assert status.value in message


def test_closed_is_final_and_says_so() -> None:
    assert TRANSITIONS[S.closed] == ()
    with pytest.raises(InvalidTransitionError, match="closed is final"):
        check_transition("closed", "open")


def test_no_self_transitions_and_every_status_listed() -> None:
    assert set(TRANSITIONS) == set(S)
    assert all(status not in targets for status, targets in TRANSITIONS.items())


def test_parse_status_lists_valid_ones() -> None:
    assert parse_status("open") is S.open
    with pytest.raises(ValueError, match="new, open, pending, resolved, closed"):
        parse_status("done")
