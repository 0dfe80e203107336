"""Where the Store's SQL runs: one SQLite file, or a PostgreSQL database through a pool.

The Store's methods are written once; a backend gives them what differs:

- ``tx()``: one write transaction. SQLite: ``BEGIN IMMEDIATE`` on the one connection
  under a lock (writes are serialised). PostgreSQL: a pooled connection in a
  READ COMMITTED transaction, statements rewritten by ``store.dialect``.
- ``query(sql, params)``: the rows of one read.
- ``lock(db, key)``: inside a transaction, wait until no other transaction in the
  cluster holds ``key`` (PostgreSQL: ``pg_advisory_xact_lock``; SQLite: already one
  writer, nothing to do). For decisions that must be single across daemons.
- ``session_lock(key)``: try to hold ``key`` until the ``with`` ends, for work that
  spans several transactions and network calls (PostgreSQL: ``pg_try_advisory_lock``
  on a connection kept for it, dropped by the server if the process dies; SQLite:
  always granted).
- ``skip_locked``: the suffix that makes a ``SELECT`` lock its rows and pass over rows
  other transactions hold (``FOR UPDATE SKIP LOCKED``; empty on SQLite).

Every connection handed out looks like ``sqlite3.Connection`` to the Store: ``execute``
returns a cursor with ``fetchone``, ``fetchall``, ``rowcount`` and iteration, and rows
are read by index or by column name.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(state: str | Path) -> bool:
    """Whether config's ``state:`` names a PostgreSQL database rather than an SQLite file."""
    return str(state).startswith(POSTGRES_SCHEMES)


def display_state(state: str | Path) -> str:
    """``state`` as it may be shown: a PostgreSQL URL without its password."""
    text = str(state)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    query = "&".join(
        f"{k}=****" if k == "password" else f"{k}={v}" for k, v in parse_qsl(parts.query)
    )
    netloc = parts.netloc
    if parts.password is not None:
        netloc = f"{parts.username or ''}:****@{netloc.rpartition('@')[2]}"
    tail = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "") + tail


def lock_key(key: str) -> int:
    """A stable signed 64-bit number for an advisory lock named ``key``."""
    digest = hashlib.sha256(f"watchlist:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Backend(Protocol):
    """What the Store needs of a database; see the module docstring."""

    name: str  # "sqlite" or "postgresql"
    display: str  # where the state is, password masked
    skip_locked: str

    def tx(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction; committed at the end, rolled back on error."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read query."""
        ...

    def lock(self, db: sqlite3.Connection, key: str) -> None:
        """Hold ``key`` until the transaction ``db`` ends (single decisions cluster-wide)."""
        ...

    def session_lock(self, key: str) -> AbstractContextManager[bool]:
        """Try to hold ``key`` for the ``with`` block; True when held."""
        ...

    def close(self) -> None:
        """Release the connection(s)."""
        ...


def create_private(path: Path) -> None:
    """Create the state file (and its folder) readable by its owner only, whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class SqliteBackend:
    """One SQLite file in WAL mode, ``synchronous=FULL``: one connection, one lock."""

    name = "sqlite"
    skip_locked = ""

    def __init__(self, path: str | Path) -> None:
        self.display = str(path)
        if self.display != ":memory:":
            create_private(Path(self.display))
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            self.display, check_same_thread=False, isolation_level=None, timeout=10.0
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Rows of one read query."""
        with self._lock:
            return list(self._conn.execute(sql, params))

    def lock(self, db: sqlite3.Connection, key: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already made this the only writer."""

    @contextmanager
    def session_lock(self, key: str) -> Iterator[bool]:
        """Always held: one daemon per SQLite file (the daemon's state lock sees to it)."""
        yield True

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()


def make_backend(state: str | Path) -> Backend:
    """The backend for config's ``state:`` value."""
    if is_postgres(state):
        from watchlist.store.postgres import PostgresBackend

        return PostgresBackend(str(state))
    return SqliteBackend(state)


__all__ = [
    "Backend",
    "SqliteBackend",
    "display_state",
    "is_postgres",
    "lock_key",
    "make_backend",
]
