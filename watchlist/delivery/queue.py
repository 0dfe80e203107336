"""What delivery needs of the state: the outbox queue, as a Protocol any store backend meets.

Delivery never imports a store; the daemon hands the worker a store object, and
type checking proves it has these methods (``watchlist.store.sqlite.Store`` does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from watchlist.models import AlertView, OutboxRow


class OutboxQueue(Protocol):
    """The outbox operations of the state, as the delivery worker uses them."""

    def outbox_rows(
        self,
        status: str | Sequence[str] | None = None,
        *,
        due_by: datetime | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[OutboxRow]:
        """Outbox rows, oldest first: by status (one or several), due by a time, or by id."""
        ...

    def update_rows(self, ids: Sequence[int], **values: Any) -> None:
        """Set columns of outbox rows ``ids`` in one transaction."""
        ...

    def update_many(self, changes: Sequence[tuple[Sequence[int], Mapping[str, Any]]]) -> None:
        """Several ``update_rows`` (ids, column values) in one transaction."""
        ...

    def mark_sent_many(
        self, sent: Sequence[tuple[Sequence[int], Sequence[int]]], now: datetime, channel: str
    ) -> None:
        """Messages that went out on ``channel`` (row ids, URL indexes each), one transaction."""
        ...

    def settle(
        self,
        sent: Sequence[tuple[Sequence[int], Sequence[int]]],
        changes: Sequence[tuple[Sequence[int], Mapping[str, Any]]],
        channel: str,
        claim_ids: Sequence[int],
        now: datetime,
        claimer: str,
    ) -> list[int]:
        """``mark_sent_many``, ``update_many`` and ``claim`` in one transaction; ids claimed."""
        ...

    def claim(self, ids: Sequence[int], now: datetime, claimer: str) -> list[int]:
        """Mark pending rows as sending for ``claimer``; the ids actually claimed."""
        ...

    def requeue(self, claims: Sequence[tuple[int, str]], now: datetime, error: str) -> int:
        """Rows (id, claimer) still 'sending' for that claimer become pending and due now."""
        ...

    def claimers_alive(self, now: datetime) -> set[str] | None:
        """Claimers with a live heartbeat (several daemons); None where there are none."""
        ...

    def channel_lock(self, channel: str) -> AbstractContextManager[bool]:
        """Try to be the one process delivering ``channel`` for the ``with`` block."""
        ...

    def mark_sent(
        self, ids: Sequence[int], now: datetime, channel: str, delivered: Sequence[int]
    ) -> None:
        """Rows ``ids`` went out on ``channel`` (URL indexes ``delivered`` took them)."""
        ...

    def sends_since(self, channel: str, since: datetime) -> list[datetime]:
        """When ``channel`` sent messages after ``since`` (for its rate limit)."""
        ...

    def alert_views(self, alert_ids: Sequence[int]) -> dict[int, AlertView]:
        """The template view of each alert."""
        ...

    def counts(self) -> dict[str, int]:
        """Outbox rows per state (pending, held, sending, sent, failed, dropped)."""
        ...
