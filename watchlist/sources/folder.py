"""The ``folder`` source: read each *.json, *.jsonl, *.txt, *.xml dropped in a folder once.

``poll`` reads the files that have settled (not modified in the last second),
and returns an ``on_commit`` hook that, once the store has committed the
articles, moves good files to ``done/`` and unparseable ones (and files of any
other type) to ``failed/`` with a ``<name>.error.txt`` beside each giving the
reason. Each is logged; the source's state counts them (``failed_files``). If the commit never
happens the files stay put and are read again next time (the store drops
repeats), so nothing is lost.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from watchlist.models import Article, PollResult, SourceConfig, SourceState
from watchlist.sources import health
from watchlist.sources.errors import SourceError
from watchlist.sources.fetch import read_file
from watchlist.sources.parse import parse_bytes

__all__ = ["SUFFIXES", "FolderSource"]

log = logging.getLogger("watchlist.sources")

SUFFIXES = frozenset({".json", ".jsonl", ".txt", ".xml"})
SETTLE_SECONDS = 1.0
MAX_FILES_PER_POLL = 500


def _unique(target_dir: Path, name: str) -> Path:
    """``target_dir/name``, or ``stem.N.suffix`` when that name is taken."""
    target = target_dir / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists():
        target = target_dir / f"{stem}.{n}{suffix}"
        n += 1
    return target


def _move(path: Path, sub: str, reason: str | None = None) -> None:
    target_dir = path.parent / sub
    try:
        target_dir.mkdir(exist_ok=True)
        target = _unique(target_dir, path.name)
        os.replace(path, target)
        if reason is not None:
            target.with_name(target.name + ".error.txt").write_text(reason + "\n", "utf-8")
    except FileNotFoundError:
        pass  # someone else already moved it
    except OSError as err:
        log.error("cannot move %s to %s/: %s", path, sub, err)


class FolderSource:
    """Files dropped into ``cfg.path`` (an absolute folder)."""

    def __init__(self, cfg: SourceConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.folder = Path(cfg.path)

    def _ready(self, now: datetime) -> tuple[list[Path], list[Path]]:
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except FileNotFoundError:
            raise SourceError(
                f"{self.folder}: no such folder; create it or fix the source's path"
            ) from None
        except NotADirectoryError:
            raise SourceError(f"{self.folder}: not a folder; fix the source's path") from None
        except OSError as err:
            raise SourceError(f"{self.folder}: cannot list the folder ({err.strerror})") from None
        ready: list[Path] = []
        other: list[Path] = []
        stamp = now.timestamp()
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith(".tmp"):
                continue
            try:
                if not entry.is_file():
                    continue
                age = stamp - entry.stat().st_mtime
            except OSError:
                continue
            if -5.0 < age < SETTLE_SECONDS:  # still being written: next poll
                continue
            known = Path(entry.name).suffix.lower() in SUFFIXES
            (ready if known else other).append(Path(entry.path))
            if len(ready) + len(other) >= MAX_FILES_PER_POLL:
                break
        return ready, other

    def poll(self, state: SourceState, now: datetime) -> PollResult:
        """Read every settled file; bad files are reported, never raised."""
        if not health.due(state, now):
            return PollResult((), state)
        try:
            return self._poll(state, now)
        except Exception as err:  # a bug or an odd filesystem: keep the daemon up
            log.exception("source %s: unexpected error", self.name)
            message = f"unexpected error: {type(err).__name__}"
            return PollResult((), health.failed(state, now, message, every=self.cfg.every))

    def _poll(self, state: SourceState, now: datetime) -> PollResult:
        try:
            files, other = self._ready(now)
        except SourceError as err:
            log.warning("source %s: %s", self.name, err)
            return PollResult((), health.failed(state, now, str(err), every=self.cfg.every))
        articles: list[Article] = []
        good: list[Path] = []
        kinds = ", ".join(f"*{s}" for s in sorted(SUFFIXES))
        bad: list[tuple[Path, str]] = [
            (p, f"{p}: unknown file type '{p.suffix or p.name}'; the folder source reads {kinds}")
            for p in other
        ]
        for path in files:
            try:
                data = read_file(path, max_bytes=self.cfg.max_bytes)
                found = parse_bytes(data, name=str(path), source=self.name)
            except SourceError as err:
                bad.append((path, str(err)))
                continue
            except Exception as err:  # never crash on one file
                log.exception("source %s: unexpected error reading %s", self.name, path)
                bad.append((path, f"{path}: unexpected error: {type(err).__name__}: {err}"))
                continue
            articles.extend(found)
            good.append(path)
        new = health.succeeded(state, now, articles=len(articles))
        bad = [(path, f"{reason}; moved to failed/") for path, reason in bad]
        for _path, reason in bad:
            log.warning("source %s: %s", self.name, reason)
        if bad:
            # The folder itself is fine: record the error without backing off.
            new = replace(
                new,
                last_error=bad[-1][1],
                last_error_at=now,
                failed_files=state.failed_files + len(bad),
            )
        on_commit = self._mover(good, bad) if (good or bad) else None
        return PollResult(tuple(articles), new, on_commit)

    @staticmethod
    def _mover(good: list[Path], bad: list[tuple[Path, str]]) -> Callable[[], None]:
        def on_commit() -> None:
            for path in good:
                _move(path, "done")
            for path, reason in bad:
                _move(path, "failed", reason)

        return on_commit
