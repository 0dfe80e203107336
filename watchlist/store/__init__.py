"""The state: seen articles, alerts, the outbox and source state, kept across restarts.

Lives here: ``sqlite`` (the ``Store``: the transaction that marks articles seen and
writes alerts and outbox rows together), ``outbox`` (its outbox queries), ``cluster``
(heartbeats, source leases), ``schema`` (numbered migrations), ``migrate`` (copy a
state into another). Where the SQL runs is the backend's: ``backend`` (the interface,
SQLite) and ``postgres`` (psycopg pool), with ``dialect`` rewriting the portable SQL
for PostgreSQL. Delivery reaches the store only through the ``OutboxQueue`` Protocol
it declares, so it never imports this package.

May import: ``decide``, ``match`` (the snippet), ``config``, ``models``, ``faults``.
Not ``sources``, ``delivery`` or ``daemon``.
"""

from __future__ import annotations

from watchlist.models import OutboxRow
from watchlist.store.backend import display_state, is_postgres
from watchlist.store.sqlite import RecordResult, Store


def open_store(state: str) -> Store:
    """The store for config's ``state:`` value: an SQLite file path (or ``:memory:``), or a
    ``postgresql://`` URL (the same Store on the PostgreSQL backend, ``store.postgres``).
    """
    return Store(state)


__all__ = ["OutboxRow", "RecordResult", "Store", "display_state", "is_postgres", "open_store"]
