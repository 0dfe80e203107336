"""Per-source health: pure transitions of ``SourceState`` on success and failure, with backoff.

A failure bumps ``failures`` and sets ``next_poll`` with exponential backoff
(twice the interval per consecutive failure, at most six hours), or exactly
when the server's ``Retry-After`` says (at most a day). A success resets both.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from watchlist.models import SourceState

__all__ = ["MAX_BACKOFF", "backoff", "due", "failed", "retry_after_delay", "succeeded"]

MAX_BACKOFF = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(days=1)
MIN_BACKOFF = timedelta(seconds=30)


def due(state: SourceState, now: datetime) -> bool:
    """Whether a poll may run now (not inside a backoff window)."""
    return state.next_poll is None or now >= state.next_poll


def backoff(failures: int, every: timedelta) -> timedelta:
    """The wait after ``failures`` consecutive failures: every x 2**failures, capped."""
    base = max(every, MIN_BACKOFF)
    cap = max(MAX_BACKOFF, every)
    delay: timedelta = base * (2 ** min(max(failures, 1), 16))
    return min(delay, cap)


def retry_after_delay(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (delay-seconds or an HTTP date) as a delay from ``now``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        delay = timedelta(seconds=int(text))
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        delay = when - now
    return min(max(delay, timedelta(0)), MAX_RETRY_AFTER)


def succeeded(
    state: SourceState,
    now: datetime,
    *,
    articles: int,
    etag: str | None = None,
    last_modified: str | None = None,
) -> SourceState:
    """The state after a good poll that read ``articles`` articles."""
    return replace(
        state,
        etag=state.etag if etag is None else etag,
        last_modified=state.last_modified if last_modified is None else last_modified,
        last_poll=now,
        last_success=now,
        failures=0,
        next_poll=None,
        articles=state.articles + articles,
    )


def failed(
    state: SourceState,
    now: datetime,
    error: str,
    *,
    every: timedelta,
    retry_after: str | None = None,
) -> SourceState:
    """The state after a failed poll: error recorded, backoff (or Retry-After) applied."""
    failures = state.failures + 1
    delay = retry_after_delay(retry_after, now)
    if delay is None:
        delay = backoff(failures, every)
    return replace(
        state,
        last_poll=now,
        last_error=error,
        last_error_at=now,
        failures=failures,
        next_poll=now + delay,
    )
