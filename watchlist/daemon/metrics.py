"""Prometheus metrics for the daemon, in a registry of its own (not the global one).

The daemon calls the small methods here (``articles_read``, ``time_poll``,
``matched``, ``alerts_sent``...); ``render()`` gives the text exposition that
``GET /metrics`` serves. Label values are names from config.yaml (sources,
rules, channels), never URLs, so no secret can reach a label.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
MATCH_BUCKETS = (1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.5)


class Metrics:
    """Counters, histograms and gauges of one daemon, under the ``watchlist_`` prefix."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._articles = Counter(
            "watchlist_articles_read", "Articles read, per source", ["source"], registry=r
        )
        self._matches = Counter("watchlist_matches", "Rule matches, per rule", ["rule"], registry=r)
        self._sent = Counter(
            "watchlist_alerts_sent", "Alerts delivered, per channel", ["channel"], registry=r
        )
        self._failed = Counter(
            "watchlist_alerts_failed",
            "Failed delivery attempts, per channel",
            ["channel"],
            registry=r,
        )
        self._poll_errors = Counter(
            "watchlist_poll_errors", "Failed polls, per source", ["source"], registry=r
        )
        self._poll_seconds = Histogram(
            "watchlist_poll_seconds",
            "Time to poll a source (fetch and parse)",
            ["source"],
            buckets=POLL_BUCKETS,
            registry=r,
        )
        self._match_seconds = Histogram(
            "watchlist_match_seconds",
            "Time to match one article against every rule",
            buckets=MATCH_BUCKETS,
            registry=r,
        )
        self._pending = Gauge("watchlist_outbox_pending", "Outbox rows waiting", registry=r)
        self._outbox_failed = Gauge(
            "watchlist_outbox_failed", "Outbox rows failed for good, until a user acts", registry=r
        )
        self._reload_ok = Gauge(
            "watchlist_last_reload_success", "1 if the last reload worked, else 0", registry=r
        )
        self._reload_time = Gauge(
            "watchlist_last_reload_timestamp_seconds", "Unix time of the last reload", registry=r
        )
        self._reload_ok.set(1)

    # ---------------------------------------------------------------- sources

    def articles_read(self, source: str, n: int = 1) -> None:
        """``n`` articles were read from ``source`` (0 still creates the series)."""
        self._articles.labels(source=source).inc(max(n, 0))

    def poll_error(self, source: str) -> None:
        """A poll of ``source`` failed."""
        self._poll_errors.labels(source=source).inc()

    @contextmanager
    def time_poll(self, source: str) -> Iterator[None]:
        """Time the block as one poll of ``source`` (an exception inside also counts an error)."""
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.poll_error(source)
            raise
        finally:
            self._poll_seconds.labels(source=source).observe(time.perf_counter() - start)

    # ---------------------------------------------------------------- matching

    def matched(self, rule: str, n: int = 1) -> None:
        """``rule`` matched ``n`` articles."""
        self._matches.labels(rule=rule).inc(n)

    def observe_match(self, seconds: float, articles: int = 1) -> None:
        """Matching took ``seconds`` per article, for ``articles`` articles."""
        for _ in range(max(articles, 0)):
            self._match_seconds.observe(seconds)

    @contextmanager
    def time_match(self) -> Iterator[None]:
        """Time the block as matching one article."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self._match_seconds.observe(time.perf_counter() - start)

    # ---------------------------------------------------------------- delivery

    def alerts_sent(self, channel: str, n: int = 1) -> None:
        """``n`` alerts were delivered to ``channel``."""
        self._sent.labels(channel=channel).inc(n)

    def alerts_failed(self, channel: str, n: int = 1) -> None:
        """``n`` delivery attempts to ``channel`` failed."""
        self._failed.labels(channel=channel).inc(n)

    def set_outbox(self, pending: int, failed: int) -> None:
        """The outbox now holds ``pending`` rows waiting and ``failed`` rows failed for good."""
        self._pending.set(pending)
        self._outbox_failed.set(failed)

    # ---------------------------------------------------------------- reload

    def reloaded(self, ok: object, when: float | None = None) -> None:
        """A reload finished: ``ok`` (a bool or a truthy ReloadStatus) at unix time ``when``."""
        self._reload_ok.set(1 if ok else 0)
        self._reload_time.set(time.time() if when is None else when)

    # ---------------------------------------------------------------- exposition

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return bytes(generate_latest(self.registry))

    def value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """One sample's current value (for tests and ``status``), or None if absent."""
        got = self.registry.get_sample_value(name, labels or {})
        return None if got is None else float(got)
