"""The PostgreSQL backend: a psycopg 3 connection pool that runs the Store's SQLite-style SQL.

Connections are autocommit; ``tx()`` wraps one in a transaction (READ COMMITTED,
PostgreSQL's default: unique constraints, row locks and advisory locks decide what
must be single, see ``store.backend``). Every statement goes through
``store.dialect.to_postgres``; rows answer by index and by column name, like
``sqlite3.Row``; a Python ``bool`` is sent as 0/1 for the INTEGER columns the
portable schema uses. The pool checks a connection before lending it, so a
restarted server or a dropped connection costs one retry, not a dead daemon.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg_pool import ConnectionPool

from watchlist.store.backend import display_state, lock_key
from watchlist.store.dialect import to_postgres

POOL_MAX = int(os.environ.get("WATCHLIST_PG_POOL", "12"))
CONNECT_TIMEOUT = 10.0  # seconds to wait for the first connection
POOL_WAIT = 10.0  # seconds a caller waits for a pooled connection (then PoolTimeout)
IDLE_IN_TX = 60  # seconds a session may sit idle inside a transaction before the server ends it
LOCK_WAIT = 120  # seconds a statement may wait for a lock (the record lock, a row)


class Row:
    """One result row: by index, by column name, ``keys()``, iteration (as ``sqlite3.Row``)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]) -> None:
        self._index = index
        self._values = tuple(values)

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row):
            return self._values == other._values
        return self._values == other

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=True))!r})"


def _row_factory(cursor: Any) -> Any:
    names = [c.name for c in cursor.description or ()]
    index = {n: i for i, n in reversed(list(enumerate(names)))}  # first of a repeated name wins
    return lambda values: Row(index, values)


class _BoolAsInt(Dumper):
    """``True``/``False`` as the integers 1/0, as SQLite stores them."""

    format = Format.TEXT
    oid = 20  # int8

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class PgConnection:
    """A pooled psycopg connection that takes SQLite-style statements."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, params: Sequence[Any] | None = ()) -> psycopg.Cursor[Any]:
        """Run one statement; ``?`` placeholders as in SQLite."""
        if params:
            return self.raw.execute(to_postgres(sql), tuple(params))
        return self.raw.execute(cast(Any, to_postgres(sql, False)))

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> psycopg.Cursor[Any]:
        """Run one statement for every parameter tuple."""
        cur = self.raw.cursor()
        cur.executemany(to_postgres(sql), [tuple(p) for p in seq])
        return cur


class PostgresBackend:
    """A PostgreSQL database named by a ``postgresql://`` URL; see the module docstring."""

    name = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, dsn: str) -> None:
        self.display = display_state(dsn)
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=POOL_MAX,
            kwargs={"autocommit": True, "connect_timeout": int(CONNECT_TIMEOUT)},
            configure=self._configure,
            check=ConnectionPool.check_connection,
            timeout=POOL_WAIT,
            name="watchlist",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except Exception as exc:
            self._pool.close()
            raise ConnectionError(
                f"{self.display}: cannot connect to PostgreSQL ({type(exc).__name__}); "
                "check the host, port, database, user and password in state:"
            ) from None

    @staticmethod
    def _configure(conn: psycopg.Connection[Any]) -> None:
        conn.row_factory = _row_factory
        conn.adapters.register_dumper(bool, _BoolAsInt)
        # a daemon that hangs (stopped, not killed) inside a transaction would hold the
        # record lock and stall the cluster: the server ends such a session, and a lock
        # waited for too long fails the batch, which the source or poster then retries
        conn.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TX}s'")
        conn.execute(f"SET lock_timeout = '{LOCK_WAIT}s'")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction on a pooled connection; committed at the end, rolled back on error."""
        with self._pool.connection() as conn, conn.transaction():
            yield cast(sqlite3.Connection, PgConnection(conn))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read query (autocommit)."""
        with self._pool.connection() as conn:
            cur = PgConnection(conn).execute(sql, params)
            return cast(list[sqlite3.Row], cur.fetchall() if cur.description else [])

    def lock(self, db: sqlite3.Connection, key: str) -> None:
        """``pg_advisory_xact_lock``: wait for ``key``, hold it until the transaction ends."""
        db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(key),))

    @contextmanager
    def session_lock(self, key: str) -> Iterator[bool]:
        """``pg_try_advisory_lock`` on a connection kept for the block; never waits."""
        with self._pool.connection() as conn:
            k = lock_key(key)
            got = bool(conn.execute("SELECT pg_try_advisory_lock(%s)", (k,)).fetchone()[0])  # type: ignore[index]
            try:
                yield got
            finally:
                if got:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (k,))

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()


__all__ = ["PgConnection", "PostgresBackend", "Row"]
