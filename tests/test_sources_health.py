"""Tests for watchlist.sources.health: pure state transitions, backoff and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from watchlist.models import SourceState
from watchlist.sources import health

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "every", "delay"),
    [
        (1, timedelta(minutes=15), timedelta(minutes=30)),
        (2, timedelta(minutes=15), timedelta(hours=1)),
        (4, timedelta(minutes=15), timedelta(hours=4)),
        (5, timedelta(minutes=15), timedelta(hours=6)),
        (1000, timedelta(minutes=15), timedelta(hours=6)),
        (1, timedelta(seconds=5), timedelta(minutes=1)),
        (3, timedelta(days=1), timedelta(days=1)),
    ],
)
def test_backoff(failures: int, every: timedelta, delay: timedelta) -> None:
    """Backoff doubles per failure from the interval (at least 30 s), capped at 6 h."""
    assert health.backoff(failures, every) == delay


@pytest.mark.parametrize(
    ("header", "delay"),
    [
        ("0", timedelta(0)),
        ("90", timedelta(seconds=90)),
        (" 90 ", timedelta(seconds=90)),
        ("Fri, 01 Mar 2024 12:30:00 GMT", timedelta(minutes=30)),
        ("Fri, 01 Mar 2024 11:00:00 GMT", timedelta(0)),
        ("Sat, 01 Mar 2025 12:00:00 GMT", timedelta(days=1)),
        ("-5", None),
        ("later", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, delay: timedelta | None) -> None:
    """Retry-After in seconds or as an HTTP date becomes a bounded delay; junk is ignored."""
    assert health.retry_after_delay(header, NOW) == delay


def test_failed_then_succeeded() -> None:
    """A failure records the error and backs off; a success resets and counts articles."""
    st = SourceState(etag="e1", articles=3)
    bad = health.failed(st, NOW, "boom", every=timedelta(minutes=15))
    assert (bad.last_error, bad.last_error_at, bad.failures) == ("boom", NOW, 1)
    assert bad.next_poll == NOW + timedelta(minutes=30) and bad.etag == "e1"
    assert not health.due(bad, NOW + timedelta(minutes=29))
    assert health.due(bad, NOW + timedelta(minutes=30))
    later = NOW + timedelta(hours=1)
    good = health.succeeded(bad, later, articles=4, etag="e2")
    assert (good.failures, good.next_poll, good.last_success, good.articles) == (0, None, later, 7)
    assert (good.etag, good.last_modified, good.last_error) == ("e2", "", "boom")
