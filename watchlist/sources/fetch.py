"""Fetch one URL safely with a shared httpx.Client: deadline, size cap, redirects, conditional GET.

The whole fetch (connect, redirects, headers, every body chunk) must finish
before ``timeout`` seconds on a monotonic clock; the decompressed body may not
exceed ``max_bytes`` (we decompress ourselves, bounded, so a gzip bomb stops at
the cap). Failures raise ``SourceError`` with a message for users; a URL's
password never appears in it.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from watchlist import __version__
from watchlist.sources.deadline import deadline
from watchlist.sources.errors import SourceError

__all__ = ["USER_AGENT", "Fetched", "fetch", "read_file", "safe_url"]

USER_AGENT = f"watchlist/{__version__} (+https://github.com/watchlist/watchlist)"
MAX_REDIRECTS = 5

_STATUS_HINTS = {
    401: "access denied (HTTP 401); the feed needs credentials",
    403: "access denied (HTTP 403); the server refuses this client",
    404: "not found (HTTP 404); check the source's url",
    410: "gone (HTTP 410); the feed was removed, update or disable the source",
    429: "rate limited (HTTP 429); polling less often will help",
}


@dataclass(frozen=True, slots=True)
class Fetched:
    """A finished fetch: 200 with the body, or 304 Not Modified with none."""

    status: int
    body: bytes
    url: str  # after redirects
    etag: str = ""
    last_modified: str = ""
    content_type: str | None = None


def safe_url(url: str) -> str:
    """The URL with any password (and query string) hidden, fit for logs and errors."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        if parts.username:
            netloc = "***@" + netloc
        query = "…" if parts.query else ""
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<invalid url>"


class _Body:
    """Collects a (maybe compressed) body, refusing to grow past the cap."""

    def __init__(self, encoding: str, cap: int, where: str) -> None:
        enc = encoding.strip().lower()
        if enc in ("", "identity"):
            self._z: zlib._Decompress | None = None
        elif enc in ("gzip", "x-gzip", "deflate"):
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
        else:
            raise SourceError(f"{where}: unsupported Content-Encoding {encoding!r}")
        self.cap, self.where = cap, where
        self.parts: list[bytes] = []
        self.size = 0

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise SourceError(
                f"{self.where}: the document is larger than max_bytes ({self.cap} bytes); "
                "raise the source's max_bytes if it really is that big"
            )
        self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        if self._z is None:
            self._add(chunk)
            return
        try:
            data = chunk
            while data:
                self._add(self._z.decompress(data, self.cap - self.size + 1))
                data = self._z.unconsumed_tail
        except zlib.error as err:
            raise SourceError(f"{self.where}: corrupt compressed body ({err})") from None

    def finish(self) -> bytes:
        if self._z is not None:
            self._add(self._z.flush())
        return b"".join(self.parts)


def _remaining(at: float, timeout: float, where: str) -> float:
    left = at - time.monotonic()
    if left <= 0:
        raise SourceError(f"{where}: no complete answer within the timeout ({timeout:g} s)")
    return left


def _status_error(resp: httpx.Response, where: str) -> SourceError:
    code = resp.status_code
    hint = _STATUS_HINTS.get(code)
    if hint is None:
        kind = "server error" if code >= 500 else "unexpected answer"
        hint = f"{kind} (HTTP {code} {resp.reason_phrase})"
    return SourceError(f"{where}: {hint}", retry_after=resp.headers.get("retry-after"))


def fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 30.0,
    max_bytes: int = 10 * 1024 * 1024,
    max_redirects: int = MAX_REDIRECTS,
    headers: Sequence[tuple[str, str]] = (),
) -> Fetched:
    """GET ``url`` (conditionally when ``etag``/``last_modified`` are given) within the limits.

    ``headers`` (a source's own: auth tokens, cookies) go to the feed's host only: a
    redirect to another host does not carry them.

    The deadline covers every socket operation when ``client`` came from
    ``watchlist.sources.make_client``; with another client, each read is still
    bounded by the time left and the body is checked chunk by chunk.
    """
    with deadline(timeout):
        return _fetch(
            client, url, etag=etag, last_modified=last_modified, timeout=timeout,
            max_bytes=max_bytes, max_redirects=max_redirects, extra=headers,
        )  # fmt: skip


def _fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 30.0,
    max_bytes: int = 10 * 1024 * 1024,
    max_redirects: int = MAX_REDIRECTS,
    extra: Sequence[tuple[str, str]] = (),
) -> Fetched:
    deadline_at = time.monotonic() + timeout
    origin = urlsplit(url).netloc.lower()
    where = safe_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    seen: set[str] = set()
    current = url
    try:
        for _hop in range(max_redirects + 1):
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                raise SourceError(f"{where}: only http and https URLs can be fetched")
            seen.add(current)
            left = _remaining(deadline_at, timeout, where)
            own = dict(extra) if urlsplit(current).netloc.lower() == origin else {}
            with client.stream(
                "GET", current, headers={**headers, **own}, timeout=httpx.Timeout(left),
                follow_redirects=False,
            ) as resp:  # fmt: skip
                if resp.status_code == 304:
                    return Fetched(304, b"", current, etag, last_modified)
                if resp.has_redirect_location:
                    target = urljoin(current, resp.headers["location"])
                    if target in seen:
                        raise SourceError(f"{where}: redirect loop (back to {safe_url(target)})")
                    current = target
                    continue
                if resp.status_code != 200:
                    raise _status_error(resp, where)
                body = _Body(resp.headers.get("content-encoding", ""), max_bytes, where)
                for chunk in resp.iter_raw():  # each network read, so the deadline is checked often
                    _remaining(deadline_at, timeout, where)
                    body.feed(chunk)
                _remaining(deadline_at, timeout, where)
                return Fetched(
                    200,
                    body.finish(),
                    current,
                    resp.headers.get("etag", ""),
                    resp.headers.get("last-modified", ""),
                    resp.headers.get("content-type"),
                )
        raise SourceError(f"{where}: too many redirects (more than {max_redirects})")
    except httpx.TimeoutException:
        raise SourceError(
            f"{where}: no complete answer within the timeout ({timeout:g} s)"
        ) from None
    except httpx.ConnectError as err:
        raise SourceError(f"{where}: could not connect ({err})") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
        raise SourceError(f"{where}: not a fetchable URL ({err})") from None
    except httpx.RemoteProtocolError as err:
        raise SourceError(
            f"{where}: the server broke off or did not speak valid HTTP ({err}); will retry"
        ) from None
    except httpx.HTTPError as err:
        raise SourceError(f"{where}: {type(err).__name__}: {err}") from None


def read_file(path: Path, *, max_bytes: int) -> bytes:
    """A local file's bytes, refusing files larger than ``max_bytes``."""
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a folder, not a file") from None
    except OSError as err:
        raise SourceError(f"{path}: cannot read ({err.strerror})") from None
    if len(data) > max_bytes:
        raise SourceError(
            f"{path}: the file is larger than max_bytes ({max_bytes} bytes); "
            "raise the source's max_bytes if it really is that big"
        )
    return data
