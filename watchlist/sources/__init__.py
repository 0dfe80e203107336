"""Where articles come from: feeds, folders, HTTP ingest, and ``watchlist scan`` inputs.

``make_source(cfg, client)`` builds the pollable source for a ``rss`` or
``folder`` entry of config.yaml; ``read_inputs`` reads the files, URLs or ``-``
that ``watchlist scan`` and ``watchlist explain`` are given. The HTTP ingest
server lives in ``watchlist.sources.ingest``; ``articles`` normalises every raw article
(plain text, canonical URL, UTC time, id) whichever source produced it.

May import: ``config``, ``models`` and each other; never ``store``, ``delivery`` or
``daemon``. Only ``ingest`` (below the daemon) imports starlette and uvicorn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx

from watchlist.models import Article, PollResult, SourceConfig, SourceState
from watchlist.sources.deadline import deadline_transport
from watchlist.sources.errors import SourceError
from watchlist.sources.feed import FeedSource
from watchlist.sources.fetch import USER_AGENT, fetch, read_file, safe_url
from watchlist.sources.folder import SUFFIXES, FolderSource
from watchlist.sources.parse import parse_bytes

__all__ = [
    "USER_AGENT",
    "FeedSource",
    "FolderSource",
    "Source",
    "SourceError",
    "make_client",
    "make_source",
    "parse_bytes",
    "read_inputs",
]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class Source(Protocol):
    """A pollable source: ``poll`` never raises for bad input."""

    @property
    def name(self) -> str:
        """The source's name from config.yaml."""
        ...

    def poll(self, state: SourceState, now: datetime) -> PollResult:
        """Read once; errors come back in the new state."""
        ...


def make_client(*, max_connections: int = 32) -> httpx.Client:
    """A shared httpx.Client fit for polling many feeds from a thread pool.

    Use it (rather than a plain httpx.Client) so the per-fetch deadline also
    covers a server that drips its headers. The proxy variables (``HTTP_PROXY``,
    ``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, any case) are honoured, each proxied
    connection under the same deadline.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    mounts: dict[str, httpx.BaseTransport | None] = {
        pattern: None if url is None else deadline_transport(limits, proxy=url)
        for pattern, url in env_proxies().items()
    }
    return httpx.Client(
        headers={"User-Agent": USER_AGENT},
        transport=deadline_transport(limits),
        mounts=mounts,
        trust_env=False,  # the proxies are mounted above; no .netrc, no SSL_CERT_* surprises
    )


def env_proxies(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """httpx mount patterns from the proxy variables: ``{"https://": proxy URL}``, and
    ``{"all://host": None}`` for each ``NO_PROXY`` host (None: go direct)."""
    env = os.environ if environ is None else environ
    found = {k.lower(): v for k, v in env.items() if k.lower().endswith("_proxy") and v}
    out: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if url := found.get(f"{scheme}_proxy"):
            url = url if "://" in url else f"http://{url}"
            out[f"{scheme}://"] = url
    for host in (h.strip() for h in found.get("no_proxy", "").split(",")):
        if host == "*":
            return {}
        if host and "://" in host:
            out[host] = None
        elif host:  # as httpx reads it: a name also covers its subdomains
            exact = host == "localhost" or host.replace(".", "").isdigit() or ":" in host
            name = host.lstrip("*")
            out[
                f"all://[{host}]" if ":" in host else f"all://{host}" if exact else f"all://*{name}"
            ] = None
    return out if any(v for v in out.values()) else {}


def make_source(cfg: SourceConfig, client: httpx.Client) -> Source:
    """The source for an ``rss`` or ``folder`` config entry (``http`` is IngestServer's)."""
    if cfg.type == "rss":
        return FeedSource(cfg, client)
    if cfg.type == "folder":
        return FolderSource(cfg)
    raise ValueError(
        f"source {cfg.name!r}: type {cfg.type!r} is not pollable; "
        "use watchlist.sources.ingest.IngestServer for type http"
    )


def _read_one(item: str, client: httpx.Client, timeout: float) -> list[Article]:
    if item == "-":
        return parse_bytes(sys.stdin.buffer.read(), name="<stdin>", source="stdin")
    if item.lower().startswith(("http://", "https://")):
        got = fetch(client, item, timeout=timeout, max_bytes=DEFAULT_MAX_BYTES)
        return parse_bytes(
            got.body, name=safe_url(item), source=safe_url(item), content_type=got.content_type
        )
    path = Path(item)
    if path.is_dir():
        out: list[Article] = []
        for child in sorted(path.iterdir()):
            if child.is_file() and child.suffix.lower() in SUFFIXES:
                out.extend(_read_one(str(child), client, timeout))
        return out
    data = read_file(path, max_bytes=DEFAULT_MAX_BYTES)
    return parse_bytes(data, name=item, source=item)


def read_inputs(inputs: Sequence[str], *, timeout: float = 30) -> list[Article]:
    """Articles from files, folders, http(s) URLs or ``-`` (stdin); ``SourceError`` if one fails."""
    with make_client(max_connections=4) as client:
        out: list[Article] = []
        for item in inputs:
            out.extend(_read_one(item, client, timeout))
        return out
