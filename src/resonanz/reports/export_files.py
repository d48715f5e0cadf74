"""Writing export rows to files: CSV (RFC 4180) and Parquet (a row group per batch).

Both take an iterable of row batches and never hold more than one batch, so an export of any size
runs in flat memory (:mod:`resonanz.reports.export` produces the batches).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True)
class Column:
    name: str
    #: arrow type name: int64, float64, bool, string, timestamp, date
    kind: str


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(stream: IO[str], columns: Sequence[Column], batches: Iterable[list[tuple[Any, ...]]]) -> int:
    """CSV (RFC 4180, UTF-8, header row, ``\\r\\n`` line ends); empty cell = no value."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([c.name for c in columns])
    rows = 0
    for batch in batches:
        writer.writerows([[_csv_value(v) for v in row] for row in batch])
        rows += len(batch)
    return rows


def _arrow_schema(columns: Sequence[Column]) -> Any:
    import pyarrow as pa

    types = {
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
    }
    return pa.schema([pa.field(c.name, types[c.kind]) for c in columns])


def write_parquet(path: Path, columns: Sequence[Column], batches: Iterable[list[tuple[Any, ...]]]) -> int:
    """Parquet with one row group per batch (zstd), so neither side holds the whole file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(columns)
    rows = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in batches:
            if not batch:
                continue
            arrays = [pa.array([row[i] for row in batch], type=schema.field(i).type) for i in range(len(columns))]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            rows += len(batch)
    return rows
