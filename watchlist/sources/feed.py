"""The ``rss`` source: poll one RSS/Atom/RDF feed by URL (httpx) or local path, never raising.

Only a feed is accepted: a plain-text maintenance page or a JSON error body is an
error, not an article. Conditional GET with the ETag / Last-Modified kept in ``SourceState``; errors
are recorded in the returned state with backoff, and logged.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from watchlist.models import PollResult, SourceConfig, SourceState
from watchlist.sources import health
from watchlist.sources.errors import SourceError
from watchlist.sources.fetch import fetch, read_file, safe_url
from watchlist.sources.parse import parse_feed_only

__all__ = ["FeedSource", "is_local"]

log = logging.getLogger("watchlist.sources")


def is_local(url: str) -> bool:
    """Whether an rss ``url`` names a local file rather than an http(s) URL."""
    scheme = urlsplit(url).scheme.lower()
    return scheme not in ("http", "https")


def _local_path(url: str) -> Path:
    if url.lower().startswith("file://"):
        return Path(urlsplit(url).path)
    return Path(url)


class FeedSource:
    """An RSS/Atom feed at ``cfg.url``: an http(s) URL or an absolute local path."""

    def __init__(self, cfg: SourceConfig, client: httpx.Client) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self._client = client

    def _poll_local(self, state: SourceState, now: datetime) -> PollResult:
        path = _local_path(self.cfg.url)
        try:
            st = path.stat()
        except OSError:
            raise SourceError(f"{path}: no such file; check the source's url") from None
        stamp = f"file:{st.st_mtime_ns}:{st.st_size}"
        if stamp == state.etag:
            return PollResult((), health.succeeded(state, now, articles=0))
        data = read_file(path, max_bytes=self.cfg.max_bytes)
        arts = parse_feed_only(data, name=str(path), source=self.name)
        return PollResult(tuple(arts), health.succeeded(state, now, articles=len(arts), etag=stamp))

    def _poll_http(self, state: SourceState, now: datetime) -> PollResult:
        got = fetch(
            self._client,
            self.cfg.url,
            etag=state.etag,
            last_modified=state.last_modified,
            timeout=self.cfg.timeout,
            max_bytes=self.cfg.max_bytes,
            headers=self.cfg.headers,
        )
        if got.status == 304:
            return PollResult((), health.succeeded(state, now, articles=0))
        arts = parse_feed_only(
            got.body, name=safe_url(self.cfg.url), source=self.name, content_type=got.content_type
        )
        new = health.succeeded(
            state, now, articles=len(arts), etag=got.etag, last_modified=got.last_modified
        )
        return PollResult(tuple(arts), new)

    def poll(self, state: SourceState, now: datetime) -> PollResult:
        """Read the feed once; errors come back in the state, never as exceptions."""
        if not health.due(state, now):
            return PollResult((), state)
        try:
            if is_local(self.cfg.url):
                return self._poll_local(state, now)
            return self._poll_http(state, now)
        except SourceError as err:
            log.warning("source %s: %s", self.name, err)
            new = health.failed(
                state, now, str(err), every=self.cfg.every, retry_after=err.retry_after
            )
        except Exception as err:  # a bug or an unforeseen library error: keep the daemon up
            log.exception("source %s: unexpected error", self.name)
            new = health.failed(
                state, now, f"unexpected error: {type(err).__name__}", every=self.cfg.every
            )
        return PollResult((), new)
