"""The state: seen articles, alerts, the outbox and source state, kept across restarts.

Lives here: ``sqlite`` (the ``Store``: one SQLite file in WAL mode, the transaction
that marks articles seen and writes alerts and outbox rows together), ``outbox``
(its outbox queries) and ``schema`` (numbered migrations). A second backend is a
sibling module with the same methods; delivery reaches the store only through the
``OutboxQueue`` Protocol it declares, so it never imports this package.

May import: ``decide``, ``match`` (the snippet), ``config``, ``models``, ``faults``.
Not ``sources``, ``delivery`` or ``daemon``.
"""

from __future__ import annotations

from watchlist.models import OutboxRow
from watchlist.store.sqlite import RecordResult, Store


def open_store(state: str) -> Store:
    """The store for config's ``state:`` value: today an SQLite file path (or ``:memory:``).

    The one place that picks a backend: a ``postgresql://`` state gets its sibling
    module here, and every caller keeps using the same methods.
    """
    return Store(state)


__all__ = ["OutboxRow", "RecordResult", "Store", "open_store"]
