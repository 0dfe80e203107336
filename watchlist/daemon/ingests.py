"""The daemon's http sources: one ingest server per ``type: http`` source, swapped safely.

``IngestPool.apply(config)`` puts the http sources of a config in force. A source
whose ``listen`` is unchanged keeps its socket and takes the new token, caps and
name at once (``IngestServer.update``). A new address is bound *before* the old
server stops; when the bind fails (the port is taken), the old server keeps
listening, and the failure comes back as a problem: the daemon logs it, records
it on the source (``status`` shows it) and in the reload's warnings. Several
http sources listen side by side, each on its own address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from watchlist.models import Article, Config, SourceConfig
from watchlist.sources.ingest import IngestServer
from watchlist.store import Store

log = logging.getLogger("watchlist.daemon")

Submit = Callable[[str, list[Article]], list[str]]


class IngestPool:
    """The running ingest servers, by source name."""

    def __init__(self, submit: Submit) -> None:
        self._submit = submit  # (source name, articles) -> accepted ids
        self._servers: dict[str, IngestServer] = {}

    @property
    def servers(self) -> dict[str, IngestServer]:
        """The servers listening now, by source name."""
        return dict(self._servers)

    def _new(self, cfg: SourceConfig) -> IngestServer:
        holder: list[IngestServer] = []
        server = IngestServer(cfg, lambda arts: self._submit(holder[0].name, arts))
        holder.append(server)
        return server

    def apply(self, config: Config) -> list[tuple[str, str]]:
        """Put ``config``'s http sources in force; (source, problem) for each that failed."""
        wanted = [s for s in config.sources if s.type == "http" and s.enabled]
        free = {srv.cfg.listen: srv for srv in self._servers.values()}  # not yet reused
        keep: dict[str, IngestServer] = {}
        problems: list[tuple[str, str]] = []
        for cfg in wanted:
            reused = free.pop(cfg.listen, None)
            if reused is not None:
                reused.update(cfg)
                keep[cfg.name] = reused
                continue
            server = self._new(cfg)
            try:
                server.start()
            except (OSError, RuntimeError) as exc:
                server.stop()
                old = self._servers.get(cfg.name)
                if old is not None and free.get(old.cfg.listen) is old:
                    del free[old.cfg.listen]
                    keep[cfg.name] = old
                    problems.append((cfg.name, f"{exc}; still listening on {old.cfg.listen}"))
                else:
                    problems.append((cfg.name, f"{exc}; it takes no posts until this is fixed"))
                continue
            keep[cfg.name] = server
            log.info("ingest %s listening on %s", cfg.name, server.url)
        for server in free.values():  # addresses no source wants any more
            server.stop()
        self._servers = keep
        return problems

    def apply_and_mark(self, config: Config, store: Store, now: datetime) -> list[str]:
        """``apply``, then record each problem on its source; the problems, in words."""
        problems = self.apply(config)
        for name, problem in problems:
            mark_unhealthy(store, name, problem, now)
        return [problem for _, problem in problems]

    def stop(self) -> None:
        """Stop every server."""
        for server in self._servers.values():
            server.stop()
        self._servers = {}


def mark_unhealthy(store: Store, name: str, problem: str, now: datetime) -> None:
    """Record ``problem`` as source ``name``'s last error, so ``status`` shows it."""
    state = store.load_source_state(name)
    failed = replace(state, last_error=problem, last_error_at=now, failures=state.failures + 1)
    store.save_source_state(name, failed)
