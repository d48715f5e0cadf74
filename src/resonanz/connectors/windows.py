"""A cursor for time-ordered, newest-first APIs that page into the past (Bluesky search and
notifications, the Hacker News Algolia API): no gaps and no duplicates across pulls and restarts.

Such an API answers "everything since T, newest first, one page at a time". A pull starts at the
newest item and pages back to where the last complete pull ended (the *high-water mark*). Three
things can go wrong, and the state kept in the source's cursor handles each:

* **A pull stops early** (``max_pages``, a rate limit, a broken page): the part between the
  high-water mark and the oldest item reached is still unread. The window stores it as
  ``pending`` (``until`` = oldest time reached, or the platform's page token) together with the
  newest time seen; the next pull first reads the rest of that gap, and only a pull that
  reaches the high-water mark moves it up.
* **Late arrivals**: platforms index some items a little after their timestamp. Each pull
  reaches back ``overlap_s`` before the high-water mark.
* **The first pull** takes the newest page(s) only; if there was more, the oldest time it
  reached becomes the ``floor``, below which nothing is read later (the overlap would otherwise fetch the history
  that the first pull left out, bit by bit).
* **Overlap and ties** bring back items already stored: ``seen`` keeps the ids of the items whose
  time lies inside the overlap (bounded), and they are skipped, so a re-read is not a duplicate.

Times are Unix seconds (floats); the connector turns them into the platform's own form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_SEEN = 5000


@dataclass
class Window:
    hwm: float | None = None
    seen: dict[str, float] = field(default_factory=dict)
    pending: dict[str, Any] | None = None
    floor: float | None = None
    overlap_s: float = 0.0
    newest: float | None = None  # of this pass
    oldest: float | None = None  # of this pass

    @classmethod
    def load(cls, state: Any, *, overlap_s: float) -> Window:
        """The window from its stored JSON form; anything unreadable starts afresh."""
        if not isinstance(state, dict):
            return cls(overlap_s=overlap_s)
        hwm, floor = state.get("hwm"), state.get("floor")
        seen = state.get("seen") if isinstance(state.get("seen"), dict) else {}
        pending = state.get("pending") if isinstance(state.get("pending"), dict) else None
        return cls(
            hwm=float(hwm) if isinstance(hwm, int | float) else None,
            seen={str(k): float(v) for k, v in (seen or {}).items() if isinstance(v, int | float)},
            pending=pending,
            floor=float(floor) if isinstance(floor, int | float) else None,
            overlap_s=overlap_s,
        )

    @property
    def first(self) -> bool:
        """Never pulled: the first pull takes the newest page(s) only, not the whole history."""
        return self.hwm is None and self.pending is None

    @property
    def since(self) -> float | None:
        """Read back to here (inclusive)."""
        if self.hwm is None:
            return None
        since = self.hwm - self.overlap_s
        return since if self.floor is None else max(since, self.floor)

    @property
    def until(self) -> float | None:
        """Read nothing newer than this (inclusive): the oldest time an unfinished pull reached."""
        value = (self.pending or {}).get("until")
        return float(value) if isinstance(value, int | float) else None

    def offer(self, key: str, at: float) -> bool:
        """True when the item is new to this window (emit it), False for a re-read."""
        self.newest = at if self.newest is None else max(self.newest, at)
        self.oldest = at if self.oldest is None else min(self.oldest, at)
        if key in self.seen:
            return False
        self.seen[key] = at
        return True

    def admit(self, key: str, at: float | None) -> bool:
        """True when an item is to be handed over: new to the window, or without a key or a time
        to compare (the :class:`~resonanz.connectors.page_walk.Mark` contract)."""
        return at is None or not key or self.offer(key, at)

    def reached_since(self, at: float) -> bool:
        """True once paging has gone past the point to read back to."""
        since = self.since
        return since is not None and at < since

    def finish(self, *, complete: bool, resume: dict[str, Any] | None = None, more: bool = False) -> dict[str, Any]:
        """The state to store. ``complete``: the pass reached the high-water mark (or the end);
        else ``resume`` says how to go on (default: ``until`` = the oldest time reached).
        ``more``: the platform had older items this pass did not read (matters for the first pass)."""
        known = [t for t in (self.hwm, self.newest, (self.pending or {}).get("newest")) if isinstance(t, int | float)]
        newest = max(known) if known else None
        if self.first and more and self.oldest is not None:
            self.floor = self.oldest
        if complete:
            self.hwm, self.pending = newest, None
        elif self.hwm is None and self.oldest is None and self.until is None:
            self.pending = None  # a first pull that got nothing stays a first pull
        else:
            until = self.oldest if self.oldest is not None else self.until
            self.pending = {"newest": newest, **({"until": until} if until is not None else {}), **(resume or {})}
        floor = self.since
        kept = {k: t for k, t in self.seen.items() if floor is None or t >= floor}
        if len(kept) > MAX_SEEN:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1], reverse=True)[:MAX_SEEN])
        self.seen = kept
        return {"hwm": self.hwm, "floor": self.floor, "seen": self.seen, "pending": self.pending}
