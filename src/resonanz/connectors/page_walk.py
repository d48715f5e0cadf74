"""The page walk every newest-first connector does: from the newest page back to the window's
high-water mark, handing over each item that is new to the :class:`~resonanz.connectors.windows.Window`.

Why one function: the walk has a handful of rules that are easy to get subtly wrong in each copy
(a gap after a stop, a duplicate after an overlap, a first pull that reads the whole history),
and Bluesky, Reddit and the App Store connectors each carried their own. The rules:

* a page that cannot be read (the connector quarantines it and answers ``None``) ends the walk
  *incomplete*: the position stays, the next pull reads that page again;
* an item older than the window's ``since`` marks the mark as *reached* (it is not emitted), an
  item the window has seen is skipped, an item without a time or key is always handed over;
* the walk is *complete* when it reached the mark, when this is the window's first pull (the
  newest page only), or when the platform has no older page; only a complete walk moves the mark;
* a rate limit used up after a page (``Page.exhausted``) stops the walk — incomplete unless that
  page was the last one needed — with the next page's token kept as ``resume`` so the next pull
  goes on from there;
* ``max_pages`` reached before any of that: incomplete too (``capped``; the connector warns).

The connector keeps everything platform-specific: how a page is fetched and parsed into
:class:`Entry` rows (``fetch``), and what an emitted item becomes (``emit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class Mark(Protocol):
    """How far a stream has been read. :class:`~resonanz.connectors.windows.Window` (by time,
    with overlap and seen ids) is the usual one; X's exact ``since_id`` is another."""

    @property
    def first(self) -> bool:
        """Never read: the walk takes the newest page only."""
        ...

    @property
    def pending(self) -> dict[str, Any] | None:
        """The unfinished rest of an earlier walk (where ``resume_key`` finds its token)."""
        ...

    def reached_since(self, at: float) -> bool:
        """True for an item older than what is to be read (the walk has reached the mark)."""
        ...

    def admit(self, key: str, at: float | None) -> bool:
        """True when the item is to be handed over (new, or nothing to compare it by)."""
        ...

    def finish(self, *, complete: bool, resume: dict[str, Any] | None = None, more: bool = False) -> dict[str, Any]:
        """The state to store after the walk."""
        ...


@dataclass(frozen=True)
class Entry:
    """One item of a page: its ``key`` (the platform's id; empty: always emitted), its time in
    Unix seconds (None: always emitted) and whatever the connector wants back in ``emit``."""

    key: str
    at: float | None
    item: Any


@dataclass(frozen=True)
class Page:
    """What one request gave: its entries, the token of the next older page (None: the end),
    and whether the platform's rate limit is used up after it. ``sent`` is how many items the
    platform answered with when the connector dropped some (an empty answer is the end; a page
    whose items were all dropped is not)."""

    entries: list[Entry] = field(default_factory=list)
    token: str | None = None
    exhausted: bool = False
    sent: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.entries if self.sent is None else self.sent)


@dataclass(frozen=True)
class Walked:
    """The outcome: the window's new state to store, and why the walk ended early, if it did."""

    state: dict[str, Any]
    complete: bool
    exhausted: bool  # the rate limit ran out: the caller stops pulling other streams too
    capped: bool  # max_pages were read without reaching the mark


def walk_newest_first(
    window: Mark,
    fetch: Callable[[str | None, int], Page | None],
    emit: Callable[[Any, int, int], None],
    *,
    max_pages: int,
    resume_key: str | None = None,
) -> Walked:
    """Walk pages newest first until the window's mark; ``fetch(token, page_no)`` reads one page
    (``None``: unreadable, already quarantined), ``emit(item, page_no, index)`` hands one over.

    ``resume_key`` names the token in the window's ``pending`` state (``"cursor"``, ``"after"``):
    a walk that stopped early starts from it next time. Without one, the platform is asked by
    time (``window.since``/``window.until``) and every walk starts at its newest page.
    """
    token: str | None = (window.pending or {}).get(resume_key) if resume_key else None
    complete = exhausted = capped = False
    for page_no in range(1, max_pages + 1):
        page = fetch(token, page_no)
        if page is None:
            break  # the token stays: the next pull asks for this page again
        reached = False
        for index, entry in enumerate(page.entries):
            if entry.at is not None and window.reached_since(entry.at):
                reached = True
                continue
            if window.admit(entry.key, entry.at):
                emit(entry.item, page_no, index)
        token = page.token
        complete = reached or window.first or page.empty or not token
        exhausted = page.exhausted
        if complete or exhausted:
            break
    else:
        capped = True
    resume = {resume_key: token} if resume_key and token else None
    state = window.finish(complete=complete, resume=resume, more=bool(token))
    return Walked(state=state, complete=complete, exhausted=exhausted, capped=capped)
