"""Read and parse an import file in a second process while the first one stores.

Reading, decoding, validating and preparing a record (:func:`prepare_batch`) is pure and costs
about as much as storing it, so :func:`resonanz.sources.imports.import_file` runs it in one worker
process for a large file: batch *n + 1* is parsed while batch *n* is written, and the writer gets
plain tuples (:class:`~resonanz.mentions.prepared.Prepared`, cheap to pickle) instead of pydantic
models. The same :func:`prepare_batch` runs in-process for small files, so both ways store the
same rows, quarantine the same lines with the same reasons, and count the same.

The pipe carries one message per batch; ``send`` blocks while the writer is busy, so at most a
couple of batches are in flight and memory stays flat. A worker that fails sends its exception;
one that dies without a word is noticed by :class:`ParseWorker` (no hang).
"""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

from resonanz.connectors.base import RawItem, Rejected
from resonanz.connectors.file.connector import FileConnector
from resonanz.connectors.file.reader import ImportReader
from resonanz.errors import ResonanzError
from resonanz.mentions.prepared import Prepared, prepare
from resonanz.sources.pipeline import parse_items

#: A batch is committed after this many records or this many payload bytes, whichever comes first.
BATCH_ITEMS = 5000
BATCH_BYTES = 4 * 1024 * 1024
PROGRESS_EVERY = 1000
#: Generation-0 threshold while bulk importing (the default is 700).
GC_THRESHOLD = 50_000


@dataclass
class PreparedBatch:
    """One batch of a file, ready to store: mentions, what to quarantine, and read progress."""

    items: list[Prepared] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    #: the reader's position after every PROGRESS_EVERY records of this batch, then at its end
    positions: list[int] = field(default_factory=list)
    #: bytes of raw payload in the batch
    size: int = 0

    def __getstate__(self) -> dict[str, Any]:
        # Plain tuples pickle several times faster than named tuples (no __getnewargs__ call each).
        return {**self.__dict__, "items": [tuple(p) for p in self.items]}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["items"] = list(map(Prepared._make, state["items"]))
        self.__dict__.update(state)


def prepare_batch(items: list[RawItem], rejected: list[Rejected], *, max_item_bytes: int) -> PreparedBatch:
    """Parse and prepare one batch; records that fail become :class:`Rejected` (with the raw
    bytes, ``line N`` and the reason) before the reader's own rejections, as pipeline stores them."""
    chunk = parse_items(FileConnector, items, max_item_bytes=max_item_bytes)
    out = PreparedBatch(items=[prepare(m) for m in chunk.mentions])
    out.rejected = [r.as_rejected() for r in chunk.rejections]
    out.rejected.extend(rejected)
    return out


def batches(reader: ImportReader, *, batch_items: int = BATCH_ITEMS, skip: int = 0) -> Iterator[PreparedBatch]:
    """The file as prepared batches, in file order; the first ``skip`` batches are cut out the
    same way but not parsed (the importer parsed them itself while this process started)."""
    items: list[RawItem] = []
    rejected: list[Rejected] = []
    positions: list[int] = []
    size = 0
    entries: Iterable[RawItem | Rejected] = reader.items()
    for seen, entry in enumerate(entries, start=1):
        if isinstance(entry, RawItem):
            items.append(entry)
        else:
            rejected.append(entry)
        size += len(entry.payload)
        if seen % PROGRESS_EVERY == 0:
            positions.append(reader.position())
        if len(items) + len(rejected) >= batch_items or size >= BATCH_BYTES:
            if skip:
                skip -= 1
                items, rejected, positions, size = [], [], [], 0
                continue
            batch = prepare_batch(items, rejected, max_item_bytes=reader.max_item_bytes)
            batch.positions = [*positions, reader.position()]
            batch.size = size
            yield batch
            items, rejected, positions, size = [], [], [], 0
    if (items or rejected) and not skip:
        batch = prepare_batch(items, rejected, max_item_bytes=reader.max_item_bytes)
        batch.positions = [*positions, reader.position()]
        batch.size = size
        yield batch


@dataclass(frozen=True)
class ReaderArgs:
    """What the worker needs to open the file exactly as the importer did."""

    path: Path
    fmt: str
    mapping: dict[str, str]
    max_item_bytes: int
    source_name: str
    batch_items: int = BATCH_ITEMS
    #: batches the importer parses itself (see :func:`prepared_batches`)
    skip: int = 0

    def open(self) -> ImportReader:
        return ImportReader(
            self.path,
            fmt=self.fmt,
            mapping=self.mapping,
            max_item_bytes=self.max_item_bytes,
            source_name=self.source_name,
        )


def _work(conn: Connection, args: ReaderArgs) -> None:
    """The worker process: send ("batch", PreparedBatch) per batch, then ("done", warnings)."""
    # Parsing allocates millions of short-lived containers and makes no cycles worth collecting
    # promptly: a collection every 700 allocations (the default) cost a fifth of the worker's time.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 100)
    try:
        with args.open() as reader:
            for batch in batches(reader, batch_items=args.batch_items, skip=args.skip):
                conn.send(("batch", batch))
            conn.send(("done", reader.warnings))
    except BrokenPipeError:  # the importer stopped listening (it failed or was interrupted)
        pass
    except BaseException as exc:  # everything goes back to the importer
        try:
            # Round trip here: an exception that does not unpickle must not fail in the importer.
            conn.send(("error", pickle.loads(pickle.dumps(exc))))  # noqa: S301 - our own bytes
        except Exception:
            conn.send(("error", ResonanzError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def main() -> None:
    """Entry of ``python -m resonanz.sources.import_worker FD``: the arguments come pickled on
    stdin, the batches go out on file descriptor FD."""
    args = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by ParseWorker, our parent
    _work(Connection(int(sys.argv[1]), readable=False), args)


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Collect garbage less often during a bulk import (restored afterwards): the store loop
    allocates many short-lived containers, and default collections cost about a tenth of it."""
    before = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


class ParseWorker:
    """The worker process, iterated for its batches. Use as a context manager: leaving it early
    (the store failed) stops the worker."""

    def __init__(self, args: ReaderArgs) -> None:
        # A plain child process rather than multiprocessing's spawn: spawn re-imports the
        # caller's __main__ module, which breaks (or reruns) scripts without a main guard.
        read_fd, write_fd = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(write_fd)], stdin=subprocess.PIPE, pass_fds=(write_fd,)
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._conn = Connection(read_fd, writable=False)
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(pickle.dumps(args))
            self._proc.stdin.close()
        except BaseException:
            self.close()
            raise
        self.warnings: list[str] = []

    def __iter__(self) -> Iterator[PreparedBatch]:
        while True:
            kind, value = self._receive()
            if kind == "batch":
                yield value
            elif kind == "done":
                self.warnings = list(value)
                return
            else:
                raise value

    def _receive(self) -> tuple[str, Any]:
        try:
            message: tuple[str, Any] = self._conn.recv()
        except EOFError:  # the worker died without a word (killed, out of memory)
            code = self._proc.wait()
            raise ResonanzError(f"the import's parse worker stopped without a result (exit code {code})") from None
        return message

    def close(self) -> None:
        self._conn.close()  # a worker still sending gets a broken pipe and ends
        if self._proc.poll() is None:
            try:
                self._proc.wait(1)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


def prepared_batches(
    reader: ImportReader, *, worker: bool, batch_items: int = BATCH_ITEMS
) -> tuple[Iterator[PreparedBatch], Callable[[], list[str]], Callable[[], None]]:
    """The file's batches, parsed in a worker process or here; with a function for the reader's
    warnings (known at the end) and one that stops the worker.

    With a worker, this process parses the first batch itself while the worker starts (starting
    Python and importing takes about half a second); the worker skips that batch."""
    local = batches(reader, batch_items=batch_items)
    if not worker:
        return local, lambda: reader.warnings, lambda: None
    proc = ParseWorker(
        ReaderArgs(
            path=reader.path,
            fmt=reader.format,
            mapping=reader.mapping,
            max_item_bytes=reader.max_item_bytes,
            source_name=reader.source_name,
            batch_items=batch_items,
            skip=1,
        )
    )

    def chained() -> Iterator[PreparedBatch]:
        first = next(local, None)
        if first is not None:
            yield first
        yield from proc

    return chained(), lambda: proc.warnings, proc.close


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy's: pickled batches must name
    # resonanz.sources.import_worker classes.
    from resonanz.sources import import_worker

    import_worker.main()
