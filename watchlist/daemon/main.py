"""The long-running daemon: schedules polls and deliveries, handles signals and reloads.

One APScheduler 3 interval job per source (polling it through
``watchlist.daemon.intake``) and one for the outbox; with a PostgreSQL state the
sources are polled through the cluster's source leases instead
(``watchlist.daemon.cluster``, which runs its own loop). Every job catches its own errors
(a broken feed never stops the daemon) and is bounded by its source's fetch
deadline; ``/healthz`` turns unhealthy when the outbox job stops finishing runs.
SIGTERM and Ctrl-C stop cleanly (pending alerts stay pending in the store);
SIGHUP and edits to config or rule files reload: validate first, then swap
atomically, keeping the rules in force on error.
A reload applies rules, sources, channels, templates, delivery settings,
timezone and logging live; a changed ``state:`` or ``server.listen`` needs a
restart: the old value stays, and the reload logs and records a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from starlette.routing import BaseRoute

from watchlist import __version__
from watchlist.config.errors import ConfigErrors
from watchlist.config.loader import load_config
from watchlist.daemon import banner, logs, systemd
from watchlist.daemon.cluster import Cluster
from watchlist.daemon.ingests import IngestPool
from watchlist.daemon.intake import Intake
from watchlist.daemon.lock import AlreadyRunning, StateLock
from watchlist.daemon.matchpool import MatchPool, match_workers
from watchlist.daemon.metrics import Metrics
from watchlist.daemon.pipeline import Pipeline, Runtime
from watchlist.daemon.prune import PRUNE_EVERY, prune_archive
from watchlist.daemon.reload import ConfigWatcher, Reloader, hold_restart_settings, require_examples
from watchlist.daemon.reload_status import ReloadStatus, write_reload_status
from watchlist.daemon.server import StatusServer, outbox_health
from watchlist.delivery import CONFIG_CHECKS
from watchlist.delivery.sendpool import SendPool, send_processes
from watchlist.delivery.worker import deliver_due, run_budget
from watchlist.models import Article, Config, SourceConfig, StateError
from watchlist.sources import make_client
from watchlist.store import Store, is_postgres, open_store

log = logging.getLogger("watchlist.daemon")

OUTBOX_EVERY = timedelta(seconds=2)
WORKERS = 8  # polls running at once: the scheduler's pool, and --once's
MIN_EVERY = 0.1  # seconds: the shortest poll interval honoured
STOP_GRACE = 5.0  # seconds to let running jobs finish on SIGTERM


def utcnow() -> datetime:
    """The current time, aware UTC (the one place the daemon reads the clock)."""
    return datetime.now(UTC)


class Daemon:
    """Owns the store, the sources, the scheduler and the reload machinery."""

    def __init__(
        self,
        config_path: Path,
        *,
        clock: Callable[[], datetime] = utcnow,
        log_level: str | None = None,
    ) -> None:
        self.config_path = config_path
        self.log_level = log_level
        self.clock = clock
        self.stop_event = threading.Event()
        self.reload_event = threading.Event()
        self.metrics = Metrics()
        self.delivery_failed = False
        self._delivering = threading.Lock()  # held while the outbox job runs
        self._more = threading.Event()  # new outbox rows since the running job began
        self._intake: Intake | None = None
        self._ingests = IngestPool(self.submit)
        self._scheduler: BackgroundScheduler | None = None
        self._client: httpx.Client | None = None
        self._store: Store | None = None
        self._cluster: Cluster | None = None  # with a PostgreSQL state: heartbeats, leases
        self._lock: StateLock | None = None
        self._pipeline: Pipeline | None = None
        self._reloader: Reloader[Runtime] | None = None
        self._sendpool: SendPool | None = None  # run_forever's sending processes, if any
        self._started = time.monotonic()
        self._outbox_done: float | None = None  # monotonic time the outbox job last finished
        stuck = os.environ.get("WATCHLIST_OUTBOX_STUCK_SECONDS", "")
        self.outbox_stuck_after = float(stuck) if stuck else None  # None: from the config

    # ------------------------------------------------------------------ set-up

    def _load(self) -> Runtime:
        config = load_config(self.config_path, checks=CONFIG_CHECKS)
        require_examples(config.rules)  # a failing example is an error, as in a rule file
        return Runtime.build(config)

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline (only once started)."""
        assert self._pipeline is not None
        return self._pipeline

    @property
    def store(self) -> Store:
        """The store (only once started)."""
        assert self._store is not None
        return self._store

    def _open(self, runtime: Runtime) -> None:
        config = runtime.config
        self._store = open_store(config.state)
        workers = match_workers()
        self._pipeline = Pipeline(
            self._store,
            runtime,
            on_match=self.metrics.observe_match,
            pool=MatchPool(workers) if workers > 1 else None,
        )
        self._client = make_client()
        self._intake = Intake(
            self._pipeline,
            self.metrics,
            self._client,
            clock=self.clock,
            on_matches=self._wake_outbox,
            stopping=self.stop_event.is_set,
        )
        self._reloader = Reloader(
            self._load, self._apply, count=lambda r: len(r.config.rules), rules=len(config.rules)
        )
        if is_postgres(config.state):
            self._cluster = Cluster(self._store, self._intake, clock=self.clock, workers=WORKERS)

    @property
    def intake(self) -> Intake:
        """Polling and ingest (only once started)."""
        assert self._intake is not None
        return self._intake

    # ------------------------------------------------------------------ work

    def submit(self, source: str, articles: list[Article]) -> list[str]:
        """What an HTTP ingest source calls: process and commit, then answer."""
        return self.intake.submit(source, articles)

    def deliver(self) -> None:
        """Send what is due in the outbox (bounded; returns promptly once stopping).

        Matches recorded while a run is busy wake it again as soon as it ends, so a
        steady stream of posts is delivered as it comes, not every OUTBOX_EVERY.
        """
        with self._delivering:
            while not self.stop_event.is_set():
                self._more.clear()
                self._deliver()
                self._outbox_done = time.monotonic()  # a finished run, for /healthz
                if not self._more.is_set():
                    break

    def _deliver(self) -> None:
        try:
            config = self.pipeline.runtime.config
            pool = self._sendpool
            stats = deliver_due(
                self.store,
                config,
                self.clock(),
                budget=run_budget(config),
                stop=self.stop_event,
                sender=pool.send if pool is not None else None,
            )
            if stats.failed or stats.retrying:
                self.delivery_failed = True
            for channel, n in stats.sent_by_channel.items():
                self.metrics.alerts_sent(channel, n)
            for channel, n in stats.failed_by_channel.items():
                self.metrics.alerts_failed(channel, n)
            if self.pipeline.runtime.config.server.listen:
                counts = self.store.counts()
                self.metrics.set_outbox(counts["pending"] + counts["held"], counts["failed"])
        except (StateError, sqlite3.DatabaseError) as exc:  # a full disk: one line, no traceback
            log.error("delivering the outbox: the state file: %s; alerts stay pending", exc)
        except Exception:
            log.exception("delivering the outbox failed; pending alerts stay pending")

    def prune(self) -> None:
        """Keep the archive to ``archive:`` (small batches; never blocks intake for long)."""
        try:
            config = self.pipeline.runtime.config
            prune_archive(self.store, config.archive, self.clock(), self.stop_event)
        except Exception:
            log.exception("pruning the archive failed; it is tried again later")

    def _wake_outbox(self) -> None:
        self._more.set()
        if self._delivering.locked():
            return  # the run in progress goes round again
        sched = self._scheduler
        if sched is not None and sched.running:
            with contextlib.suppress(Exception):  # the job may be gone while stopping
                sched.modify_job("outbox", next_run_time=datetime.now(UTC))

    # ------------------------------------------------------------------ reload

    def _apply(self, runtime: Runtime) -> list[str]:
        """Put a reloaded config in force; the warnings name what needs a restart instead."""
        old = self.pipeline.runtime.config
        new, warnings = hold_restart_settings(old, runtime.config)
        runtime = replace(runtime, config=new)
        self.pipeline.swap(runtime)  # rules, timezone, channels, templates, delivery
        logs.add_secrets(new.secrets)
        if new.logging != old.logging:
            logs.setup_logging(self.log_level or new.logging.level, new.logging.format)
        if new.sources != old.sources:
            self.intake.build(new)
            self._schedule_sources(new)
            warnings = [*warnings, *self._restart_ingest(new)]
        for warning in warnings:
            log.warning("%s", warning)
        log.info("configuration reloaded: %d rules in force", len(new.rules))
        return warnings

    def reload(self) -> bool:
        """Re-read config and rules; keep the ones in force if anything is wrong."""
        assert self._reloader is not None
        systemd.reloading()
        status = self._reloader.reload()  # logs each error itself
        write_reload_status(self.pipeline.runtime.config.state, status)
        self.metrics.reloaded(status.ok)
        systemd.ready()
        return status.ok

    def _watched_paths(self) -> list[Path]:
        config = self.pipeline.runtime.config
        paths = [Path(config.path), *(Path(p) for p in config.rule_files)]
        rules_dir = Path(config.path).parent / config.rules_path
        if rules_dir.is_dir():
            paths.append(rules_dir)
        return paths

    # ------------------------------------------------------------------ scheduling

    def _schedule_sources(self, config: Config) -> None:
        sched = self._scheduler
        if sched is None:
            return
        for job in sched.get_jobs():
            if job.id.startswith("source:"):
                job.remove()
        if self._cluster is not None:  # polls come from the cluster's source leases
            self._cluster.configure(config)
            return
        for s in config.sources:
            if s.enabled and s.type != "http":
                self._add_source_job(sched, s)

    def _add_source_job(self, sched: BackgroundScheduler, s: SourceConfig) -> None:
        every = max(s.every.total_seconds(), MIN_EVERY)
        sched.add_job(
            self.intake.poll,
            "interval",
            args=[s.name],
            id=f"source:{s.name}",
            seconds=every,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(every) + 1,
        )

    def _restart_ingest(self, config: Config) -> list[str]:
        """Put the http sources in force; each one that cannot listen, marked on the source."""
        return self._ingests.apply_and_mark(config, self.store, self.clock())

    # ------------------------------------------------------------------ running

    def run_once(self) -> int:
        """Poll every source once (``WORKERS`` at a time), deliver what is due; the exit code."""
        runtime = self._start()
        if runtime is None:
            return 1
        try:
            config = runtime.config
            banner.log_start(log, config, __version__)
            before = self.store.counts()
            if self._cluster is not None:  # a heartbeat for its outbox claims; poll_all polls
                self._cluster.start(runtime.config, poll=False)
            polled = self.intake.poll_all(WORKERS)
            self.deliver()
            self.prune()
            sources = sum(1 for s in config.sources if s.enabled and s.type != "http")
            log.info("%s", banner.once_line(before, self.store.counts(), sources))
            if polled and not any(polled):
                log.error("every source failed to poll; see the errors above")
            return 1 if self.delivery_failed or (polled and not any(polled)) else 0
        finally:
            if self._cluster is not None:
                self._cluster.stop(STOP_GRACE)
            self._close()

    def run_forever(self) -> int:
        """Run until SIGTERM or Ctrl-C."""
        runtime = self._start()
        if runtime is None:
            return 1
        config = runtime.config
        self._install_signals()
        processes = send_processes()
        if processes:  # --once sends from this process
            self._sendpool = SendPool(processes)
            self._sendpool.start()
        sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=WORKERS)}, timezone=UTC
        )
        self._scheduler = sched
        sched.add_job(
            self.deliver,
            "interval",
            id="outbox",
            seconds=OUTBOX_EVERY.total_seconds(),
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        every = PRUNE_EVERY.total_seconds()
        sched.add_job(self.prune, "interval", id="archive-prune", seconds=every, coalesce=True)
        if self._cluster is not None:
            self._cluster.start(config)
        self._schedule_sources(config)
        sched.add_listener(self._job_done, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        sched.start()
        for problem in self._restart_ingest(config):
            log.error("%s", problem)
        watcher = ConfigWatcher(self._watched_paths, self.reload_event.set)
        watcher.start()
        server = None
        if config.server.listen:
            try:
                server = StatusServer(
                    config.server.listen, self.metrics, self._health, self._web_routes(config)
                ).start()
            except OSError as exc:
                log.error("%s: server.listen: %s; /healthz and /metrics are off", config.path, exc)
                server = None
        write_reload_status(
            config.state, ReloadStatus(datetime.now(UTC), True, (), len(config.rules))
        )
        watchdog = systemd.watchdog_interval()
        if watchdog:
            sched.add_job(systemd.watchdog, "interval", id="watchdog", seconds=watchdog / 2)
        systemd.ready()
        banner.log_start(log, config, __version__)
        try:
            while not self.stop_event.wait(0.2):
                if self.reload_event.is_set():
                    self.reload_event.clear()
                    self.reload()
        finally:
            systemd.stopping()
            log.info("stopping")
            watcher.stop()
            if server is not None:
                server.stop()
            self._ingests.stop()
            self._stop_scheduler(sched)
            banner.log_stop(log, self.store)
            if self._cluster is not None:
                self._cluster.stop(STOP_GRACE)
            self._close()
        return 0

    def _web_routes(self, config: Config) -> list[BaseRoute]:
        """The web page on the status server (watchlist.daemon.web), live on this daemon."""
        from watchlist.daemon.web import WebContext, web_routes

        def next_polls() -> dict[str, datetime | None]:
            sched = self._scheduler
            jobs = sched.get_jobs() if sched is not None else []
            return {j.id[7:]: j.next_run_time for j in jobs if j.id.startswith("source:")}

        ctx = WebContext(
            store=self.store,
            config=lambda: self.pipeline.runtime.config,
            token=config.server.token,
            now=self.clock,
            next_polls=next_polls,
            wake_outbox=self._wake_outbox,
        )
        return web_routes(ctx)

    def _stop_scheduler(self, sched: BackgroundScheduler) -> None:
        sched.shutdown(wait=False)
        deadline = time.monotonic() + STOP_GRACE
        executor = sched._lookup_executor("default")
        while time.monotonic() < deadline and getattr(executor, "_instances", None):
            if not any(executor._instances.values()):
                break
            time.sleep(0.05)

    def _job_done(self, event: JobExecutionEvent) -> None:
        if event.job_id == "outbox":
            self._outbox_done = time.monotonic()

    def _health(self) -> dict[str, Any]:
        """Healthy while the scheduler runs and the outbox job keeps finishing its runs."""
        sched = self._scheduler
        report: dict[str, Any] = {"ok": bool(sched and sched.running), "version": __version__}
        if not report["ok"]:
            report["why"] = "the scheduler is not running"
            return report
        done = self._outbox_done
        idle = time.monotonic() - (self._started if done is None else done)
        limit = self.outbox_stuck_after
        if limit is None:  # a run may wait on a few slow sends before it finishes
            limit = max(60.0, 4 * self.pipeline.runtime.config.delivery.timeout)
        return {**report, **outbox_health(idle, limit, OUTBOX_EVERY.total_seconds())}

    def _start(self) -> Runtime | None:
        try:
            runtime = self._load()
        except ConfigErrors as exc:
            for err in exc.errors:
                log.error("%s", err)
            return None
        config = runtime.config
        self.metrics.reloaded(True)  # loaded at start: the first "reload"
        logs.setup_logging(self.log_level or config.logging.level, config.logging.format)
        logs.add_secrets(config.secrets)
        if not is_postgres(config.state):  # many daemons may share a PostgreSQL state
            self._lock = StateLock(config.state)
            try:
                self._lock.acquire()
            except AlreadyRunning as exc:
                log.error("%s", exc)
                return None
        try:
            self._open(runtime)
        except (AlreadyRunning, StateError, ConnectionError) as exc:  # damaged state; no database
            log.error("%s", exc)
            if self._lock is not None:
                self._lock.release()
            return None
        self.intake.build(config)
        return runtime

    def _close(self) -> None:
        if self._delivering.acquire(timeout=STOP_GRACE):  # let a running outbox job finish
            self._delivering.release()
        if self._sendpool is not None:
            self._sendpool.close()
        if self._client is not None:
            self._client.close()
        if self._pipeline is not None:
            self._pipeline.close()
        if self._store is not None:
            self._store.close()
        if self._lock is not None:
            self._lock.release()

    def _install_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.stop_event.set()

        def hup(signum: int, frame: FrameType | None) -> None:
            self.reload_event.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, hup)


def main(config_path: Path, *, once: bool, log_level: str | None = None) -> int:
    """Run the daemon (``watchlist run``); ``log_level`` overrides the config's."""
    daemon = Daemon(config_path, log_level=log_level)
    code = daemon.run_once() if once else daemon.run_forever()
    if os.environ.get("WATCHLIST_DEBUG_THREADS"):
        log.debug("threads at exit: %s", threading.enumerate())
    return code
