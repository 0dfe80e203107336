"""The middle of the pipeline: new articles -> match -> decide and record, in one place.

``Runtime`` is what a reload swaps as one value (config and the matcher compiled
from its rules); ``process`` is what every source's poll and every ingest post
goes through: drop what was already seen, match the rest, and hand articles and
matches to the store, which marks them seen and writes the outbox rows in one
transaction. ``on_match`` (optional) is told how long matching each article took.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watchlist.faults import crash_point
from watchlist.match import Matcher, build_matcher
from watchlist.models import Article, Config, Match
from watchlist.store.sqlite import Store


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
        self, store: Store, runtime: Runtime, *, on_match: Callable[[float], None] | None = None
    ) -> None:
        self.store = store
        self._runtime = runtime
        self._on_match = on_match  # seconds spent matching one article
        self._lock = threading.Lock()

    @property
    def runtime(self) -> Runtime:
        """The runtime in force."""
        return self._runtime

    def swap(self, runtime: Runtime) -> None:
        """Put a new runtime in force; batches already running finish on the old one."""
        self._runtime = runtime

    def process(self, articles: Sequence[Article], now: datetime) -> Processed:
        """Match the articles never seen before and record them with their matches."""
        runtime = self._runtime
        with self._lock:
            new = self.store.filter_unseen(articles)  # also drops repeats within the batch
            matches: list[Match] = []
            for a in new:
                start = time.perf_counter()
                matches.extend(runtime.matcher.match(a))
                if self._on_match is not None:
                    self._on_match(time.perf_counter() - start)
            crash_point("after-fetch")
            if new:
                self.store.record(new, matches, runtime.config, now)
        return Processed(read=len(articles), new=len(new), matches=tuple(matches))
