"""The time-window cursor shared by the newest-first connectors (pure): no gaps, no duplicates."""

from __future__ import annotations

import json
import random

import pytest

from resonanz.connectors.windows import MAX_SEEN, Window


def fake_pull(
    items: list[tuple[str, float]], state: object, *, page: int, max_pages: int, overlap: float
) -> tuple[list[str], dict[str, object]]:
    """A newest-first API over ``items`` read the way the connectors read it (since/until, pages)."""
    window = Window.load(state, overlap_s=overlap)
    since, until = window.since, window.until
    visible = sorted(
        (i for i in items if (since is None or i[1] >= since) and (until is None or i[1] <= until)),
        key=lambda i: i[1], reverse=True,
    )  # fmt: skip
    emitted: list[str] = []
    complete = more = False
    for n in range(max_pages):
        chunk = visible[n * page : (n + 1) * page]
        emitted += [key for key, at in chunk if window.offer(key, at)]
        more = len(visible) > (n + 1) * page
        if not more or window.first:
            complete = True
            break
    stored = window.finish(complete=complete, more=more)
    return emitted, json.loads(json.dumps(stored))  # the cursor goes through JSON in the database


@pytest.mark.parametrize("seed", range(12))
def test_random_arrivals_and_restarts_give_every_item_once(seed: int) -> None:
    rng = random.Random(seed)
    items = [(f"i{n}", float(n)) for n in range(20)]
    state: object = None
    got, _ = [], None
    first, state = fake_pull(items, state, page=5, max_pages=2, overlap=3)
    got += first
    clock = 20.0
    for _ in range(30):
        for _ in range(rng.randint(0, 12)):
            clock += rng.choice([0.0, 0.5, 1.0])  # ties included
            late = clock - rng.choice([0.0, 0.0, 1.0, 2.5])  # some arrive late, inside the overlap
            items.append((f"i{len(items)}", late))
        emitted, state = fake_pull(items, state, page=rng.randint(1, 6), max_pages=rng.randint(1, 3), overlap=3)
        got += emitted
    for _ in range(40):  # drain
        emitted, state = fake_pull(items, state, page=6, max_pages=3, overlap=3)
        got += emitted
    assert len(got) == len(set(got)), "an item came twice"
    first_oldest = min(at for key, at in items if key in first)
    expected = {key for key, at in items[20:] if at >= first_oldest} | set(first)
    assert set(got) >= expected, f"gaps: {sorted(expected - set(got))}"


def test_first_pull_with_more_sets_a_floor_and_without_does_not() -> None:
    items = [(f"i{n}", float(n)) for n in range(10)]
    _, state = fake_pull(items, None, page=3, max_pages=5, overlap=100)
    assert isinstance(state, dict) and state["floor"] == 7.0 and state["hwm"] == 9.0
    _, state = fake_pull(items[:2], None, page=3, max_pages=5, overlap=100)
    assert isinstance(state, dict) and state["floor"] is None


def test_an_interrupted_pull_keeps_the_rest_of_its_window_pending() -> None:
    items = [(f"i{n}", float(n)) for n in range(3)]
    _, state = fake_pull(items, None, page=5, max_pages=1, overlap=0)
    items += [(f"i{n}", float(n)) for n in range(3, 13)]
    emitted, state = fake_pull(items, state, page=2, max_pages=2, overlap=0)
    assert emitted == ["i12", "i11", "i10", "i9"]
    assert isinstance(state, dict) and state["pending"] == {"newest": 12.0, "until": 9.0} and state["hwm"] == 2.0
    emitted, state = fake_pull(items, state, page=10, max_pages=1, overlap=0)
    assert emitted == ["i8", "i7", "i6", "i5", "i4", "i3"]
    assert isinstance(state, dict) and state["pending"] is None and state["hwm"] == 12.0


def test_a_first_pull_that_got_nothing_stays_a_first_pull() -> None:
    window = Window.load(None, overlap_s=10)
    state = window.finish(complete=False)
    assert Window.load(state, overlap_s=10).first


def test_seen_ids_are_bounded_and_outside_the_overlap_forgotten() -> None:
    window = Window.load({"hwm": 100.0, "seen": {"old": 50.0}}, overlap_s=10)
    for n in range(MAX_SEEN + 10):
        window.offer(f"k{n}", 200.0 + n)
    state = window.finish(complete=True)
    assert "old" not in state["seen"] and len(state["seen"]) <= MAX_SEEN


@pytest.mark.parametrize("garbage", [None, [], "x", {"hwm": "soon", "seen": [1], "pending": 3}])
def test_unreadable_state_starts_afresh(garbage: object) -> None:
    window = Window.load(garbage, overlap_s=5)
    assert window.hwm is None and window.pending is None and window.seen == {}
