"""Hot reload: watch config and rule files, re-read them, swap only what validates.

``Reloader(load, apply, rules=N)`` runs ``load()`` (parse, validate, build the
matcher: all the slow work, off the hot path), and only when it succeeds hands
the result to ``apply`` (a reference swap; it may return warnings: changes it
could not apply). It records ``last`` (time, ok, errors, warnings, the rules in
force: ``N`` from the first load until a reload works), never raises, and
serialises concurrent reloads. ``hold_restart_settings`` keeps what a reload
cannot change live (``state:``, ``server.listen``) and says so.

``ConfigWatcher(paths_fn, on_change)`` watches files and folders with
watchfiles in a background thread, each folder alone and never recursively
(the config file's folder, the rule folders), and calls ``on_change`` after
edits settle; it re-reads ``paths_fn()`` after each change, so rule files added
by a reload are watched too. ``install_sighup`` runs a callback on SIGHUP in a
short-lived thread, outside the signal handler.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Generic, TypeVar

import watchfiles

from watchlist.config.errors import ConfigErrors
from watchlist.daemon.logs import mask
from watchlist.daemon.reload_status import ReloadStatus
from watchlist.match.examples import run_examples
from watchlist.models import Config, Rule

log = logging.getLogger("watchlist.reload")
T = TypeVar("T")
_RULE_SUFFIXES = (".yaml", ".yml")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def error_messages(exc: BaseException) -> tuple[str, ...]:
    """One masked line per error: ``ConfigErrors.errors`` each, else the exception itself."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list | tuple) and errors:
        return tuple(mask(str(e)) for e in errors)
    text = str(exc) or type(exc).__name__
    return (mask(text),)


class Reloader(Generic[T]):
    """Validate-then-swap: ``reload()`` applies a new value only when ``load()`` succeeds."""

    def __init__(
        self,
        load: Callable[[], T],
        apply: Callable[[T], Sequence[str] | None],
        *,
        count: Callable[[T], int] | None = None,
        rules: int = 0,
        on_result: Callable[[ReloadStatus], None] | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._load = load
        self._apply = apply
        self._count = count
        self._on_result = on_result
        self._clock = clock
        self._lock = threading.Lock()
        self._last: ReloadStatus | None = None
        self._rules = rules  # in force now: what a failed reload reports as kept

    @property
    def last(self) -> ReloadStatus | None:
        """The outcome of the latest attempt (None before the first)."""
        return self._last

    def reload(self) -> ReloadStatus:
        """Load, and apply on success; record and return the outcome. Never raises."""
        with self._lock:
            try:
                value = self._load()
            except Exception as exc:
                status = ReloadStatus(self._clock(), False, error_messages(exc), self._rules)
                for err in status.errors:  # one line each: path:line:column: message
                    log.error("reload failed, the rules in force stay in force: %s", err)
            else:
                try:
                    warnings = tuple(mask(w) for w in self._apply(value) or ())
                except Exception as exc:
                    status = ReloadStatus(self._clock(), False, error_messages(exc), self._rules)
                    log.exception("reload could not be applied; the old rules stay in force")
                else:
                    if self._count is not None:
                        self._rules = self._count(value)
                    status = ReloadStatus(self._clock(), True, (), self._rules, warnings)
                    log.debug("reloaded", extra={"rules": self._rules})  # the daemon says it
            self._last = status
            if self._on_result is not None:
                try:
                    self._on_result(status)
                except Exception:
                    log.exception("recording the reload status failed")
            return status


def require_examples(rules: Sequence[Rule]) -> None:
    """Raise ``ConfigErrors`` for every example that goes the wrong way, so a reload treats a
    rule whose examples fail like a rule with an error: reported, the rules in force kept."""
    failures = run_examples(rules)
    if failures:
        raise ConfigErrors([f.error() for f in failures])


def hold_restart_settings(old: Config, new: Config) -> tuple[Config, list[str]]:
    """``new`` with the settings that need a restart (``state:``, ``server.listen``) kept as in
    ``old``, and one warning for each that changed."""
    warnings = []
    if new.state != old.state:
        warnings.append(
            f"{new.path}: state: changed to {new.state}; this needs a restart "
            f"(until then the daemon keeps using {old.state})"
        )
        new = replace(new, state=old.state)
    if new.server != old.server:
        warnings.append(
            f"{new.path}: server.listen: changed to {new.server.listen or 'off'}; this needs a "
            f"restart (until then /healthz and /metrics stay on {old.server.listen or 'off'})"
        )
        new = replace(new, server=old.server)
    return new, warnings


def install_sighup(callback: Callable[[], object]) -> None:
    """Run ``callback`` in a new thread on each SIGHUP (call from the main thread)."""

    def _handler(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=callback, name="watchlist-sighup", daemon=True).start()

    signal.signal(signal.SIGHUP, _handler)


def _signature(files: set[Path], dirs: set[Path]) -> dict[Path, tuple[int, int, int]]:
    """(mtime_ns, size, inode) of every watched file and every rule file in a watched folder."""
    found = set(files)
    for d in dirs:
        with contextlib.suppress(OSError):
            found.update(
                p for p in d.iterdir() if p.name.endswith(_RULE_SUFFIXES) and p.name[0] not in ".#"
            )
    sig: dict[Path, tuple[int, int, int]] = {}
    for p in found:
        try:
            st = p.stat()
        except OSError:
            continue
        sig[p] = (st.st_mtime_ns, st.st_size, st.st_ino)
    return sig


def _filter(files: set[Path], dirs: set[Path]) -> Callable[[watchfiles.Change, str], bool]:
    """Changes that matter: a watched file, or a rule file (*.yaml, *.yml) in a watched folder."""

    def relevant(_change: watchfiles.Change, path: str) -> bool:
        p = Path(path)
        if p in files:
            return True
        name = p.name
        return (
            p.parent in dirs and name.endswith(_RULE_SUFFIXES) and not name.startswith((".", "#"))
        )

    return relevant


class ConfigWatcher:
    """Calls ``on_change()`` from a background thread when a watched file changes."""

    def __init__(
        self,
        paths_fn: Callable[[], Sequence[Path]],
        on_change: Callable[[], None],
        *,
        debounce_ms: int = 200,
        force_polling: bool = False,
    ) -> None:
        self._paths_fn = paths_fn
        self._on_change = on_change
        self._debounce_ms = debounce_ms
        self._force_polling = force_polling  # stat() every poll_s instead of inotify
        self.poll_s = 0.25
        self._stop = threading.Event()
        self._started = threading.Event()  # set once the first watch is being set up
        self._thread: threading.Thread | None = None
        self.changes = 0  # how many times on_change was called

    def start(self) -> ConfigWatcher:
        """Start watching in a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="watchlist-watch", daemon=True)
            self._thread.start()
            self._started.wait(2.0)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching and wait for the thread to end."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _paths(self) -> frozenset[Path]:
        try:
            return frozenset(Path(p).resolve() for p in self._paths_fn())
        except Exception:
            log.exception("could not list the files to watch")
            return frozenset()

    def _changed(self) -> None:
        self.changes += 1
        try:
            self._on_change()
        except Exception:
            log.exception("reload after a file change failed")

    def _poll(self, paths: frozenset[Path], files: set[Path], dirs: set[Path]) -> None:
        """The polling fallback (network file systems, no inotify): compare stat() signatures."""
        last = _signature(files, dirs)
        self._started.set()
        while not self._stop.wait(self.poll_s):
            now = _signature(files, dirs)
            if now != last:
                settle = self._debounce_ms / 1000
                while not self._stop.wait(settle):  # until the edits settle
                    later = _signature(files, dirs)
                    if later == now:
                        break
                    now = later
                if self._stop.is_set():
                    return
                last = now
                self._changed()
            if self._paths() != paths:
                return

    def _run(self) -> None:
        while not self._stop.is_set():
            paths = self._paths()
            files = {p for p in paths if not p.is_dir()}
            dirs = {p for p in paths if p.is_dir()}
            # Watch folders, not files: editors replace files by renaming over them.
            roots = sorted(
                {str(d) for d in dirs} | {str(f.parent) for f in files if f.parent.is_dir()}
            )
            if not roots:
                self._started.set()
                self._stop.wait(1.0)
                continue

            if self._force_polling:
                self._poll(paths, files, dirs)
                continue
            relevant = _filter(files, dirs)
            # A stat() signature backs the events up: an edit made before the watch was
            # in place, or an event lost to an overflowing queue, is still noticed.
            last = _signature(files, dirs)
            self._started.set()
            try:
                for batch in watchfiles.watch(
                    *roots,
                    watch_filter=relevant,
                    debounce=self._debounce_ms,
                    step=50,
                    stop_event=self._stop,
                    rust_timeout=500,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                    recursive=False,  # config.yaml may sit in a home folder: never walk it
                ):
                    if self._stop.is_set():
                        return
                    now = _signature(files, dirs)
                    if batch or now != last:
                        log.debug("config files changed: %s", sorted(p for _, p in batch))
                        last = now
                        self._changed()
                    if self._paths() != paths:
                        break  # the set of files changed: watch the new set
            except Exception:
                log.exception("watching %s failed; retrying", roots)
                self._stop.wait(1.0)
