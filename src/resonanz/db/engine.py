"""Engine and session factory for both supported databases.

SQLite runs in WAL mode with a busy timeout, so readers never block the single writer and a
second process waits instead of failing; foreign keys are switched on (SQLite's default is off).

Read-only transactions (:data:`READ_ONLY`) begin DEFERRED on SQLite, so any number of readers run
beside the one writer; a write statement inside one raises :class:`ReadOnlyTransactionError` on
both databases, so a code path that writes where it promised not to fails loudly in tests instead
of failing under load with "database is locked" (a deferred SQLite transaction that read first
cannot always upgrade to a write).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, manage transactions (the pysqlite default would silently
    # skip BEGIN before SELECTs and break SERIALIZABLE semantics of our claim queries).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


#: Execution option for a transaction that only reads: ``session.connection(execution_options=
#: {READ_ONLY: True})`` before its first statement. On SQLite it begins DEFERRED, so readers do not
#: queue for the write lock (in WAL mode they never block the writer or each other).
READ_ONLY = "resonanz_read_only"


class ReadOnlyTransactionError(RuntimeError):
    """A write statement ran in a transaction begun read-only (see :data:`READ_ONLY`)."""


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _guard_read_only(
    conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _executemany: bool
) -> None:
    if not conn.get_execution_options().get(READ_ONLY):
        return
    if (context is not None and (context.isinsert or context.isupdate or context.isdelete)) or statement.lstrip()[
        :7
    ].upper().startswith(_WRITE_VERBS):
        raise ReadOnlyTransactionError(f"a write in a read-only transaction: {statement[:80]}")


def _on_sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: two writers queue on busy_timeout instead of
    # one of them failing with "database is locked" when it upgrades a read lock mid-transaction.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url`` with the right settings for its dialect."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "before_cursor_execute", _guard_read_only)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def read_only_engine(engine: Engine) -> Engine:
    """``engine`` whose every transaction begins read-only (a session bound to it reads only);
    shares the engine's connection pool."""
    return engine.execution_options(**{READ_ONLY: True})


def allow_writes(session: Session, engine: Engine) -> None:
    """Let a session bound to :func:`read_only_engine` write from its next transaction on: ends
    the current (read-only) transaction and binds the session to ``engine``. For the rare request
    that must write although its method is safe (GET)."""
    if session.in_transaction():
        session.commit()
    session.bind = engine


def begin_read_only(session: Session) -> None:
    """Start ``session``'s next transaction as a read-only one (see READ_ONLY); a no-op when a
    transaction is already open (its writes may be pending). Only for work that does not write in
    the same transaction afterwards: on SQLite a deferred transaction that read first may fail to
    upgrade to a write. PostgreSQL ignores the option."""
    if not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
