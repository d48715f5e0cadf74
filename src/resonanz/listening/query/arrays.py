"""Small numpy building blocks of the batch matcher (:mod:`.batch`, :mod:`.batch_near`): CSR
tables, concatenated ranges, sorted sets of int codes, a batch's atom presence."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def csr(rows: int, items: Sequence[tuple[int, Sequence[int]]]) -> tuple[IntArray, IntArray]:
    """``(pointers, values)``: row ``r``'s values are ``values[pointers[r]:pointers[r + 1]]``."""
    counts = np.zeros(rows + 1, dtype=np.int64)
    for row, values in items:
        counts[row + 1] += len(values)
    pointers = np.cumsum(counts)
    flat = np.zeros(int(pointers[-1]), dtype=np.int64)
    fill = pointers[:-1].copy()
    for row, values in items:
        flat[fill[row] : fill[row] + len(values)] = values
        fill[row] += len(values)
    return pointers, flat


def distinct(values: IntArray) -> IntArray:
    """Sorted distinct values (numpy's ``unique`` hashes first: twice the time on these arrays)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def ranges(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """``(owner, index)`` for the concatenated ranges ``starts[i] .. starts[i] + counts[i]``:
    ``owner`` says which range, ``index`` runs through it."""
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(starts), dtype=np.int64), counts)
    # position within the range: a running count that restarts at each range
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, starts[owner] + offsets


def expand(pointers: IntArray, rows: IntArray) -> tuple[IntArray, IntArray]:
    """For each row in ``rows`` (repeats allowed), the positions of its values: ``(owner, index)``
    where ``owner`` is the position in ``rows`` and ``index`` a position in the CSR values."""
    return ranges(pointers[rows], pointers[rows + 1] - pointers[rows])


class Presence:
    """Which of the looked-up atoms each mention of a batch holds (a pair's second key, a formula's
    literal, a tested leaf's second need): a ``(mentions, columns)`` boolean matrix, so each
    question is one gather. A binary search over the batch's sorted codes cost ~45 ns a question,
    and the benchmark's queries ask ~50 per mention."""

    def __init__(self, count: int, columns: int) -> None:
        self.matrix = np.zeros((count, max(columns, 1)), dtype=bool)

    def add(self, docs: IntArray, columns: IntArray) -> None:
        """Mark ``(docs[i], columns[i])``; a column < 0 (an atom nobody looks up) is skipped."""
        keep = columns >= 0
        self.matrix[docs[keep], columns[keep]] = True

    def holds(self, docs: IntArray, columns: IntArray) -> BoolArray:
        holds: BoolArray = self.matrix[docs, columns]
        return holds
