"""The shared newest-first page walk (pure): every item once across random arrivals, page sizes,
rate limits, unreadable pages and restarts; a stop resumes without a gap."""

from __future__ import annotations

import json
import random

import pytest

from resonanz.connectors.page_walk import Entry, Page, walk_newest_first
from resonanz.connectors.windows import Window


class FakeApi:
    """A newest-first API over ``items`` that may run out of rate limit or send an unreadable
    page. ``time`` mode answers by time like Bluesky search (``since``/``until`` from the window,
    every walk starts at the newest page); ``cursor`` mode pages by an opaque keyset token like
    Reddit's ``after``, and a stopped walk resumes from it."""

    def __init__(self, rng: random.Random, mode: str) -> None:
        self.items: list[tuple[str, float]] = []
        self.rng = rng
        self.mode = mode

    def pull(
        self, state: object, *, page: int, max_pages: int, overlap: float, flaky: bool
    ) -> tuple[list[str], object]:
        window = Window.load(state, overlap_s=overlap)
        emitted: list[str] = []

        def fetch(token: str | None, _page_no: int) -> Page | None:
            if flaky and self.rng.random() < 0.15:
                return None  # unreadable: quarantined by the connector
            since, until = (window.since, window.until) if self.mode == "time" else (None, None)
            order = sorted(self.items, key=lambda i: (i[1], int(i[0][1:])), reverse=True)
            visible = [i for i in order if (since is None or i[1] >= since) and (until is None or i[1] <= until)]
            if token:  # keyset: strictly older than the last item handed over
                at, _, n = token.partition(":")
                visible = [i for i in visible if (i[1], int(i[0][1:])) < (float(at), int(n))]
            chunk = visible[:page]
            more = len(visible) > page
            next_token = f"{chunk[-1][1]}:{chunk[-1][0][1:]}" if more else None
            exhausted = flaky and self.rng.random() < 0.15
            return Page([Entry(k, at, k) for k, at in chunk], next_token, exhausted)

        resume_key = "cursor" if self.mode == "cursor" else None
        walked = walk_newest_first(window, fetch, lambda item, _p, _i: emitted.append(item), max_pages=max_pages,
                                   resume_key=resume_key)  # fmt: skip
        return emitted, json.loads(json.dumps(walked.state))  # the cursor goes through JSON in the database


@pytest.mark.parametrize("mode", ["time", "cursor"])
@pytest.mark.parametrize("seed", range(10))
def test_random_arrivals_stops_and_restarts_give_every_item_once(seed: int, mode: str) -> None:
    rng = random.Random(seed)
    api = FakeApi(rng, mode)
    api.items = [(f"i{n}", float(n)) for n in range(20)]
    first, state = api.pull(None, page=5, max_pages=2, overlap=3, flaky=False)
    got = list(first)
    clock = 20.0
    for _ in range(30):
        for _ in range(rng.randint(0, 12)):
            clock += rng.choice([0.0, 0.5, 1.0])  # ties included
            late = clock - rng.choice([0.0, 0.0, 1.0, 2.5])  # some arrive late, inside the overlap
            api.items.append((f"i{len(api.items)}", late))
        emitted, state = api.pull(state, page=rng.randint(1, 6), max_pages=rng.randint(1, 3), overlap=3, flaky=True)
        got += emitted
    for _ in range(60):  # drain, without failures
        emitted, state = api.pull(state, page=6, max_pages=3, overlap=3, flaky=False)
        got += emitted
    assert len(got) == len(set(got)), "an item came twice"
    first_oldest = min(at for key, at in api.items if key in first)
    expected = {key for key, at in api.items[20:] if at >= first_oldest} | set(first)
    assert set(got) >= expected, f"gaps: {sorted(expected - set(got))}"


def _pages(*pages: Page) -> list[Page | None]:
    return list(pages)


def test_a_rate_limit_stop_resumes_at_the_next_page_without_a_gap() -> None:
    window = Window(hwm=10.0)
    answers = _pages(Page([Entry("c", 30.0, "c"), Entry("b", 25.0, "b")], "p2", exhausted=True))
    got: list[str] = []
    walked = walk_newest_first(window, lambda t, n: answers.pop(0), lambda i, _p, _n: got.append(i), max_pages=5,
                               resume_key="cursor")  # fmt: skip
    assert got == ["c", "b"] and walked.exhausted and not walked.complete
    assert walked.state["pending"]["cursor"] == "p2" and walked.state["hwm"] == 10.0

    again = Window.load(walked.state, overlap_s=0)
    asked: list[str | None] = []

    def fetch(token: str | None, _n: int) -> Page:
        asked.append(token)
        return Page([Entry("b", 25.0, "b"), Entry("a", 20.0, "a"), Entry("old", 9.0, "old")], "p3")

    walked = walk_newest_first(again, fetch, lambda i, _p, _n: got.append(i), max_pages=5, resume_key="cursor")
    assert asked == ["p2"] and got == ["c", "b", "a"]  # b is a re-read; "old" lies below the mark
    assert walked.complete and walked.state["hwm"] == 30.0 and walked.state["pending"] is None


def test_an_unreadable_page_keeps_the_position_and_a_capped_walk_says_so() -> None:
    window = Window(hwm=0.0)
    answers = _pages(Page([Entry("b", 5.0, "b")], "p2"), None)
    walked = walk_newest_first(window, lambda t, n: answers.pop(0), lambda *_: None, max_pages=5, resume_key="k")
    assert not walked.complete and not walked.capped and walked.state["pending"]["k"] == "p2"
    window = Window(hwm=0.0)
    walked = walk_newest_first(window, lambda t, n: Page([Entry(f"x{n}", 9.0 - n, None)], f"p{n + 1}"),
                               lambda *_: None, max_pages=2, resume_key="k")  # fmt: skip
    assert walked.capped and walked.state["pending"]["k"] == "p3" and walked.state["hwm"] == 0.0


def test_first_pull_reads_one_page_and_a_page_of_dropped_items_is_not_the_end() -> None:
    window = Window()
    pages = iter([Page([Entry("n", 9.0, "n")], "p2"), Page([Entry("m", 8.0, "m")], None)])
    got: list[str] = []
    walked = walk_newest_first(window, lambda t, n: next(pages), lambda i, _p, _n: got.append(i), max_pages=5)
    assert got == ["n"] and walked.complete and walked.state["floor"] == 9.0  # nothing older is read later
    window = Window(hwm=0.0)
    pages = iter([Page([], "p2", sent=3), Page([Entry("m", 8.0, "m"), Entry("", None, "no-id")], None)])
    got = []
    walked = walk_newest_first(window, lambda t, n: next(pages), lambda i, _p, _n: got.append(i), max_pages=5)
    assert got == ["m", "no-id"] and walked.complete  # items without a key or time always come


def test_xs_since_id_mark_moves_only_after_a_complete_walk() -> None:
    from resonanz.connectors.x.connector import SinceId

    assert SinceId.load({}).finish(complete=False) == {}  # a first pull that got nothing stays first
    mark = SinceId.load({"since_id": "100"})
    pages = iter([Page([Entry("120", None, "a"), Entry("119", None, "b")], "t2", exhausted=True)])
    got: list[str] = []
    walked = walk_newest_first(mark, lambda t, n: next(pages), lambda i, _p, _n: got.append(i), max_pages=3,
                               resume_key="next_token")  # fmt: skip
    assert got == ["a", "b"] and walked.exhausted and not walked.complete
    assert walked.state == {"since_id": "100", "pending": {"next_token": "t2", "newest": "120"}}
    mark = SinceId.load(walked.state)
    asked: list[str | None] = []

    def fetch(token: str | None, _n: int) -> Page:
        asked.append(token)
        return Page([Entry("99", None, "c")], None)

    walked = walk_newest_first(mark, fetch, lambda i, _p, _n: got.append(i), max_pages=3, resume_key="next_token")
    assert asked == ["t2"] and walked.complete and walked.state == {"since_id": "120"}
