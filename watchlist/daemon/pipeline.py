"""The middle of the pipeline: new articles -> match -> decide and record, in one place.

``Runtime`` is what a reload swaps as one value (config and the matcher compiled
from its rules); ``process`` is what every source's poll and every ingest post
goes through: drop what was already seen, match the rest, and hand articles and
matches to the store, which marks them seen and writes the outbox rows in one
transaction. ``on_match`` (optional) is told how long matching each article took.
With a ``MatchPool`` (``watchlist.daemon.matchpool``) a batch of at least
``POOL_MIN`` new articles is matched on the worker processes, started for the
runtime in force on first use and again on every swap; the record step stays one
transaction per batch, and batches posted at once overlap their matching.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watchlist.daemon.matchpool import Matchers, MatchPool
from watchlist.faults import crash_point
from watchlist.match import Matcher, build_matcher
from watchlist.models import Article, Config, Match
from watchlist.store.sqlite import Store

log = logging.getLogger("watchlist.daemon")

POOL_MIN = 20  # new articles in one batch worth sending to the matching workers


@dataclass(frozen=True)
class Runtime:
    """The config in force and the matcher compiled from its rules."""

    config: Config
    matcher: Matcher

    @classmethod
    def build(cls, config: Config) -> Runtime:
        """Compile the matcher for ``config``'s rules (do this off the hot path)."""
        return cls(config=config, matcher=build_matcher(config.rules))


@dataclass(frozen=True)
class Processed:
    """What one batch gave: how many articles were new, and the matches among them."""

    read: int
    new: int
    matches: tuple[Match, ...]


class Pipeline:
    """Runs batches of articles through match and record against one store."""

    def __init__(
        self,
        store: Store,
        runtime: Runtime,
        *,
        on_match: Callable[[float], None] | None = None,
        pool: MatchPool | None = None,
    ) -> None:
        self.store = store
        self._runtime = runtime
        self._on_match = on_match  # seconds spent matching one article
        self._lock = threading.Lock()
        self._pool = pool
        self._matchers: tuple[Runtime, Matchers] | None = None  # the workers for a runtime
        self._swap_lock = threading.Lock()

    @property
    def runtime(self) -> Runtime:
        """The runtime in force."""
        return self._runtime

    def swap(self, runtime: Runtime) -> None:
        """Put a new runtime in force; batches already running finish on the old one."""
        with self._swap_lock:
            if self._pool is not None and self._matchers is not None:
                self._matchers = (runtime, self._pool.load(runtime.config.rules))
            self._runtime = runtime

    def close(self) -> None:
        """Stop the matching workers, if any."""
        if self._pool is not None:
            self._pool.close()

    def process(self, articles: Sequence[Article], now: datetime) -> Processed:
        """Match the articles never seen before and record them with their matches."""
        runtime = self._runtime
        new = self.store.filter_unseen(articles)  # also drops repeats within the batch
        matches = self._match(runtime, new)
        crash_point("after-fetch")
        with self._lock:  # a batch racing this one for an article: record keeps the first
            if new:
                self.store.record(new, matches, runtime.config, now)
        return Processed(read=len(articles), new=len(new), matches=tuple(matches))

    def _match(self, runtime: Runtime, new: Sequence[Article]) -> list[Match]:
        matches: list[Match] = []
        workers = self._workers(runtime) if len(new) >= POOL_MIN else None
        if workers is not None and workers.ready():  # until then: in-process, no waiting
            try:
                results = workers.match(new)
            except Exception as exc:  # a dead worker, or the set retired meanwhile
                self._retire(workers, exc)
            else:
                for found, seconds in results:
                    matches.extend(found)
                    if self._on_match is not None:
                        self._on_match(seconds)
                return matches
        for a in new:
            start = time.perf_counter()
            matches.extend(runtime.matcher.match(a))
            if self._on_match is not None:
                self._on_match(time.perf_counter() - start)
        return matches

    def _workers(self, runtime: Runtime) -> Matchers | None:
        """The workers holding ``runtime``'s rules (started now if needed), or None."""
        if self._pool is None:
            return None
        with self._swap_lock:
            if runtime is not self._runtime:
                return None  # swapped while this batch ran: match it in-process
            if self._matchers is None:
                self._matchers = (runtime, self._pool.load(runtime.config.rules))
                log.info("matching on %d worker processes", self._pool.workers)
            return self._matchers[1]

    def _retire(self, workers: Matchers, exc: Exception) -> None:
        with self._swap_lock:
            current = self._matchers is not None and self._matchers[1] is workers
            if current:
                self._matchers = None  # the next large batch starts a fresh set
        if current:
            log.warning("matching workers failed (%s); matching in-process for now", exc)
            workers.close()
