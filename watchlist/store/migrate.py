"""Copy an SQLite state into another store (PostgreSQL): every table, in one transaction.

``copy_state(src, dst)`` copies every table of the SQLite state ``src`` (seen,
alerts, outbox, source state, sends, rule state, and whatever tables later
migrations added: archive, mutes, ...) into ``dst``, whose schema this watchlist
has just created or migrated to the same version. Tables are copied parents
first (by their foreign keys), row ids kept, and on PostgreSQL each identity
sequence is moved past the highest id copied, so new rows never collide. The
target must be empty: a copy never merges two histories. Nothing is written
unless everything is.
"""

from __future__ import annotations

from collections.abc import Callable

from watchlist.store.sqlite import Store

BATCH = 1000
SKIP = ("schema_version", "daemons", "source_leases")  # versions are dst's own; the cluster is live


class MigrateError(RuntimeError):
    """The copy cannot be made; the message says why and what to do."""


def _tables(src: Store) -> list[str]:
    """The tables of SQLite ``src``, each after the tables it references."""
    names = [
        r[0]
        for r in src.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
        if r[0] not in SKIP
    ]
    deps = {n: {r["table"] for r in src.query(f'PRAGMA foreign_key_list("{n}")')} for n in names}
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in ordered or name in path:
            return
        for parent in sorted(deps.get(name, ())):
            if parent in deps:
                visit(parent, (*path, name))
        ordered.append(name)

    for n in names:
        visit(n)
    return ordered


def copy_state(
    src: Store, dst: Store, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every table of SQLite ``src`` into empty ``dst``; rows copied per table."""
    if src.backend.name != "sqlite":
        raise MigrateError(f"{src.path}: the state to copy from must be an SQLite file")
    have = src.query("SELECT max(version) FROM schema_version")[0][0]
    want = dst.query("SELECT max(version) FROM schema_version")[0][0]
    if have != want:
        raise MigrateError(
            f"{src.path}: schema version {have}, the target has {want}; "
            "open both with the same watchlist (run it once on the SQLite state first)"
        )
    tables = _tables(src)
    for name in tables:
        try:
            n = dst.query(f'SELECT count(*) FROM "{name}"')[0][0]
        except Exception as exc:
            raise MigrateError(
                f"{dst.path}: has no table {name!r} ({type(exc).__name__}); "
                "the target must come from the same watchlist version"
            ) from None
        if n:
            raise MigrateError(
                f"{dst.path}: table {name!r} already holds {n} rows; copy into an empty "
                "database (create a new one, or drop and recreate it)"
            )
    copied: dict[str, int] = {}
    with dst.tx() as db:
        for name in tables:
            info = src.query(f'PRAGMA table_info("{name}")')
            cols = [r["name"] for r in info]
            int_id = any(
                r["name"] == "id" and r["pk"] and r["type"].upper() == "INTEGER" for r in info
            )
            quoted = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            sql = f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})'
            rows = [tuple(r) for r in src.query(f'SELECT {quoted} FROM "{name}"')]
            for i in range(0, len(rows), BATCH):
                db.executemany(sql, rows[i : i + BATCH])
            copied[name] = len(rows)
            if dst.backend.name == "postgresql" and int_id and rows:
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                    f' (SELECT max(id) FROM "{name}"))'
                )
            if progress is not None:
                progress(name, len(rows))
    return copied


__all__ = ["MigrateError", "copy_state"]
