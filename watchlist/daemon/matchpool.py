"""Matching on every core: worker processes, each with the matcher built from the rules in force.

``MatchPool(workers)`` keeps one ``Matchers`` at a time: a process pool whose every
worker compiled ``build_matcher(rules)`` itself at start (rules are frozen
dataclasses and pickle; the compiled matcher never leaves the worker). A batch is
cut into chunks, matched in the workers, and the results come back in article
order with the seconds each article took. ``load(rules)`` starts a new set of
workers for new rules and retires the old set once the batches on it finish, so a
reload swaps every worker's matcher at once and no batch mixes two rule sets.
Until a new set is ``ready`` the pipeline matches in-process, so starting one
never holds a batch up.

Workers are started with ``spawn`` (a fresh interpreter: forking a process that
runs threads is unsafe) as children of the daemon, and each watches its parent:
when the daemon is gone (even SIGKILLed) the worker exits within a second, so no
process outlives it. A worker that dies breaks only its own set: ``match``
raises, the pipeline matches that batch in-process, and the next large batch
starts a fresh set.

``match_workers()`` is how many to run: ``WATCHLIST_MATCH_WORKERS`` if set, else
the cores this process may run on. One worker means no pool: the daemon matches
in its own process, as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from watchlist.match import Matcher, build_matcher
from watchlist.models import Article, Match, Rule
from watchlist.procs import follow_parent

log = logging.getLogger("watchlist.daemon")

WORKERS_ENV = "WATCHLIST_MATCH_WORKERS"
CHUNK = 10  # articles per task: small enough to share a batch of 100 between the workers

Result = list[tuple[list[Match], float]]  # per article: its matches, seconds it took

_matcher: Matcher | None = None  # in a worker: the one compiled at its start


def match_workers() -> int:
    """Matching processes to run: ``WATCHLIST_MATCH_WORKERS``, else the usable cores."""
    given = os.environ.get(WORKERS_ENV, "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _start_worker(rules: Sequence[Rule], owner: int) -> None:
    global _matcher
    follow_parent(owner)
    _matcher = build_matcher(rules)


def _ready() -> int:
    return os.getpid()


def _match_chunk(articles: Sequence[Article]) -> Result:
    assert _matcher is not None, "worker started without a matcher"
    out: Result = []
    for a in articles:
        start = time.perf_counter()
        found = _matcher.match(a)
        out.append((found, time.perf_counter() - start))
    return out


class Matchers:
    """One set of worker processes, all holding the matcher of one rule set."""

    def __init__(self, rules: Sequence[Rule], workers: int) -> None:
        self.workers = workers
        self._warm: list[Future[int]] = []
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(tuple(rules), os.getpid()),
        )

    def warm(self) -> None:
        """Start every worker now (each compiles its matcher), without waiting for them."""
        self._warm = [self._pool.submit(_ready) for _ in range(self.workers)]

    def ready(self) -> bool:
        """True once every worker has started and compiled its matcher."""
        return all(f.done() for f in self._warm)

    def match(self, articles: Sequence[Article]) -> Result:
        """Per article, in order: its matches and the seconds matching it took."""
        futures: list[Future[Result]] = [
            self._pool.submit(_match_chunk, tuple(articles[i : i + CHUNK]))
            for i in range(0, len(articles), CHUNK)
        ]
        out: Result = []
        for f in futures:
            out.extend(f.result())
        return out

    def close(self, *, wait: bool = False) -> None:
        """Retire the workers once their queued chunks are done (``wait``: block until then)."""
        self._pool.shutdown(wait=wait)


class MatchPool:
    """The worker set in force; ``load`` swaps in one for new rules."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._current: Matchers | None = None

    def load(self, rules: Sequence[Rule]) -> Matchers:
        """Start workers for ``rules``; the old ones finish their batches, then exit."""
        fresh = Matchers(rules, self.workers)
        fresh.warm()
        with self._lock:
            old, self._current = self._current, fresh
        if old is not None:
            old.close()
        return fresh

    def close(self) -> None:
        """Stop every worker (waits for the chunks already queued)."""
        with self._lock:
            old, self._current = self._current, None
        if old is not None:
            old.close(wait=True)
