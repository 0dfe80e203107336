"""The last reload's outcome, persisted as a small JSON file next to the state.

The daemon writes ``<state>.reload.json`` after every reload attempt (and at
start); ``watchlist status`` reads it. Writes are atomic (temp file + rename),
and error and warning messages are stored already masked. A reload that worked
may still carry warnings: changes it read but could not apply live (``state:``,
``server.listen``), which need a restart.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from watchlist.daemon.logs import mask
from watchlist.store import is_postgres

log = logging.getLogger("watchlist.reload")


@dataclass(frozen=True, slots=True)
class ReloadStatus:
    """When config and rules were last (re)loaded, whether it worked, and the errors if not."""

    at: datetime  # aware UTC
    ok: bool
    errors: tuple[str, ...] = ()  # each "path:line:column: message", masked
    rules: int = 0  # rules in force after the attempt
    warnings: tuple[str, ...] = ()  # changes read but not applied (they need a restart), masked

    def __bool__(self) -> bool:
        """Truthy when the reload worked, so ``if reloader.reload():`` reads naturally."""
        return self.ok


def reload_status_path(state_path: str | Path) -> Path:
    """``<state>.reload.json`` beside the state file."""
    p = Path(state_path)
    return p.with_name(p.name + ".reload.json")


def write_reload_status(state_path: str | Path, status: ReloadStatus) -> None:
    """Persist ``status`` atomically next to the state file (not for a PostgreSQL state)."""
    if is_postgres(state_path):
        return
    target = reload_status_path(state_path)
    data = {
        "at": status.at.isoformat(),
        "ok": status.ok,
        "errors": [mask(e) for e in status.errors],
        "rules": status.rules,
        "warnings": [mask(w) for w in status.warnings],
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    except OSError as exc:  # a full disk or a read-only folder: say so, keep running
        log.error("%s: cannot record the reload status: %s", target, exc.strerror or exc)
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        log.error("%s: cannot record the reload status: %s", target, exc.strerror or exc)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_reload_status(state_path: str | Path) -> ReloadStatus | None:
    """The persisted status, or None when there is none or it cannot be read."""
    try:
        data = json.loads(reload_status_path(state_path).read_text(encoding="utf-8"))
        return ReloadStatus(
            at=datetime.fromisoformat(data["at"]),
            ok=bool(data["ok"]),
            errors=tuple(str(e) for e in data.get("errors", ())),
            rules=int(data.get("rules", 0)),
            warnings=tuple(str(w) for w in data.get("warnings", ())),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
