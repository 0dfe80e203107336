"""Taking articles in: poll a source or accept a posted batch, match, commit, keep its health.

``Intake`` holds the built sources (every enabled one but ``http``, whose posts
come through ``submit``). ``poll(name)`` fetches one source unless it is backing
off, runs what it read through the pipeline and saves the source's state after
the commit; ``poll_all(workers)`` polls every source that many at a time (the
fetches overlap; the pipeline and the store serialise the SQLite writes).
``submit`` is the http source's path, and each accepted batch is its health.
A poll logs its errors and never raises: a broken feed never stops the daemon.
A batch goes through the pipeline ``CHUNK`` articles at a time, each chunk its own
transaction, so a post of thousands never holds the store for long (the outbox
runs between chunks and is woken after each) and a stop cuts it short between
chunks (``Stopping``): what was committed stays, the rest is read again.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import httpx

from watchlist.daemon.ingests import mark_unhealthy
from watchlist.daemon.metrics import Metrics
from watchlist.daemon.pipeline import Pipeline
from watchlist.models import Article, Config, StateError, Stopping
from watchlist.sources import Source, health, make_source

log = logging.getLogger("watchlist.daemon")

CHUNK = 500  # articles per transaction


class Intake:
    """Polls the sources and takes posted batches into one pipeline."""

    def __init__(
        self,
        pipeline: Pipeline,
        metrics: Metrics,
        client: httpx.Client,
        *,
        clock: Callable[[], datetime],
        on_matches: Callable[[], None] = lambda: None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self._client = client
        self._clock = clock
        self._on_matches = on_matches  # wakes the outbox
        self._stopping = stopping  # True once the daemon is stopping
        self._sources: dict[str, Source] = {}
        self._submit_lock = threading.Lock()

    def build(self, config: Config) -> None:
        """(Re)build the polled sources of ``config``."""
        self._sources = {
            s.name: make_source(s, self._client)
            for s in config.sources
            if s.enabled and s.type != "http"
        }

    def poll(self, name: str) -> bool:
        """Poll one source, match what is new, commit it, then call ``on_matches`` if any.

        False when the poll failed (the source's own error, or the state not written).
        """
        source = self._sources.get(name)
        if source is None:
            return True
        store = self.pipeline.store
        try:
            now = self._clock()
            state = store.load_source_state(name)
            if state.next_poll is not None and now < state.next_poll:
                log.debug("source %s backing off until %s", name, state.next_poll.isoformat())
                return True
            with self.metrics.time_poll(name):
                result = source.poll(state, now)
            if result.state.failures and result.state.last_error:
                self.metrics.poll_error(name)
            done = self._process(result.articles, name)
            store.save_source_state(name, result.state)
            if result.on_commit is not None:
                result.on_commit()
            if done:
                self._on_matches()
            return not (result.state.failures and result.state.last_error)
        except Stopping as stop:
            log.info("source %s: %s (read again at the next start)", name, stop)
        except (StateError, sqlite3.DatabaseError) as exc:  # full disk, read-only, damaged
            problem = (
                f"cannot write the state file {getattr(store, 'path', '?')}: {exc}; what it "
                "read is read again at the next poll"
            )
            log.error("source %s: %s", name, problem)
            with contextlib.suppress(Exception):  # a small write may still fit: show it
                mark_unhealthy(store, name, problem, self._clock())
        except Exception:
            log.exception("polling source %s failed; it will be polled again", name)
        return False

    def poll_all(self, workers: int) -> list[bool]:
        """Poll every source once, ``workers`` at a time; whether each poll went well."""
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="watchlist-poll") as pool:
            return list(pool.map(self.poll, list(self._sources)))  # poll() logs its errors

    def submit(self, name: str, articles: list[Article]) -> list[str]:
        """Process and commit a posted batch for source ``name``; record it as its health."""
        self._process(articles, name)
        store = self.pipeline.store
        with self._submit_lock:  # posts may come at once: one read-modify-write at a time
            state = store.load_source_state(name)
            state = health.succeeded(state, self._clock(), articles=len(articles))
            store.save_source_state(name, state)  # what `status` shows for it
        self._on_matches()
        return [a.id for a in articles]

    def _process(self, articles: Sequence[Article], source: str) -> int:
        self.metrics.articles_read(source, len(articles))
        new = matched = 0
        if self._stopping():  # the store may be closing: touch it no more
            raise Stopping(0, len(articles))
        for start in range(0, len(articles), CHUNK):
            if start and self._stopping():
                raise Stopping(start, len(articles))
            chunk = articles[start : start + CHUNK]
            processed = self.pipeline.process(chunk, self._clock())  # observes match time
            for m in processed.matches:
                self.metrics.matched(m.rule)
            new, matched = new + processed.new, matched + len(processed.matches)
            if processed.matches and start + CHUNK < len(articles):
                self._on_matches()  # let the outbox send while the rest is recorded
        if new:
            log.info("source %s: %d new of %d, %d matches", source, new, len(articles), matched)
        return matched
