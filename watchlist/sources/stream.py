"""Reading ``watchlist scan`` inputs as a stream: JSON Lines of any size, one line at a time.

``stream_input(item, client)`` yields the articles of one input (a file, a folder,
an http(s) URL or ``-``). A file or standard input whose first line is a whole JSON
object is JSON Lines: it is read line by line, so its size does not matter (each
line is capped at ``MAX_LINE`` bytes). Anything else (a feed, a JSON list, text) is
read whole, up to ``MAX_DOCUMENT`` bytes, as before. ``on_bytes(n)`` is told each
``n`` bytes read, for a progress bar; ``input_size`` gives the total where known.
A bad line raises ``SourceError`` naming ``path:line:column``, after the articles
before it were yielded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import httpx

from watchlist.models import Article
from watchlist.sources.errors import SourceError
from watchlist.sources.fetch import fetch, safe_url
from watchlist.sources.folder import SUFFIXES
from watchlist.sources.parse import json_line, parse_bytes

MAX_DOCUMENT = 10 * 1024 * 1024  # a document that is not JSON Lines is read whole, up to this
MAX_LINE = 10 * 1024 * 1024  # one JSON Lines article
_MB = 1024 * 1024

OnBytes = Callable[[int], None]


def _nothing(_n: int) -> None:
    return None


def input_size(item: str) -> int | None:
    """The bytes ``item`` holds (a file, or a folder's input files), None for URLs and ``-``."""
    if item == "-" or item.lower().startswith(("http://", "https://")):
        return None
    path = Path(item)
    try:
        if path.is_dir():
            return sum(
                c.stat().st_size
                for c in path.iterdir()
                if c.is_file() and c.suffix.lower() in SUFFIXES
            )
        return path.stat().st_size
    except OSError:
        return None


def _as_object(line: bytes) -> Mapping[str, object] | None:
    """The JSON object on ``line``, or None when the line is not one whole object."""
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, Mapping) or isinstance(obj.get("articles"), list):
        return None  # {"articles": [...]} on one line is a whole document
    return obj


def _readline(fh: BinaryIO, name: str, lineno: int) -> bytes:
    line = fh.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE and not line.endswith(b"\n"):
        raise SourceError(
            f"{name}:{lineno}:1: a JSON Lines article longer than {MAX_LINE // _MB} MB; "
            "each line must be one article"
        )
    return line


def _lines(
    fh: BinaryIO, first: bytes, name: str, source: str, on_bytes: OnBytes
) -> Iterator[Article]:
    """JSON Lines from ``fh``, whose first non-blank line ``first`` was already read."""
    lineno, line, kept, empty = 1, first, 0, ""
    while line:
        on_bytes(len(line))
        text = line.decode("utf-8", errors="replace").lstrip("\ufeff")
        if text.strip():
            art = json_line(text, name=name, lineno=lineno, source=source)
            if art is None:
                empty = empty or f"{lineno}:1"
            else:
                kept += 1
                yield art
        lineno += 1
        line = _readline(fh, name, lineno)
    if not kept and empty:
        raise SourceError(
            f"{name}:{empty}: the article has no title, summary, body or url; "
            "give it at least one of them"
        )


def _stream(fh: BinaryIO, name: str, source: str, on_bytes: OnBytes) -> Iterator[Article]:
    """JSON Lines line by line; any other document read whole (capped) and parsed."""
    skipped = b""
    lineno = 1
    first = _readline(fh, name, lineno)
    while first and not first.strip():  # leading blank lines
        skipped += first
        lineno += 1
        first = _readline(fh, name, lineno)
    if _as_object(first) is not None:
        on_bytes(len(skipped))
        yield from _lines(fh, first, name, source, on_bytes)
        return
    head = skipped + first
    rest = fh.read(MAX_DOCUMENT + 1 - len(head)) if len(head) <= MAX_DOCUMENT else b""
    data = head + rest
    if len(data) > MAX_DOCUMENT:
        raise SourceError(
            f"{name}: more than {MAX_DOCUMENT // _MB} MB and not JSON Lines; scan reads other "
            "documents whole up to that size, and JSON Lines (one article object per line) "
            "at any size: convert it to JSON Lines or split it"
        )
    on_bytes(len(data))
    yield from parse_bytes(data, name=name, source=source)


def stream_input(
    item: str, client: httpx.Client, *, timeout: float = 30, on_bytes: OnBytes | None = None
) -> Iterator[Article]:
    """The articles of one ``scan`` input, read lazily; ``SourceError`` if it cannot be read."""
    told = on_bytes or _nothing
    if item == "-":
        yield from _stream(sys.stdin.buffer, "<stdin>", "stdin", told)
        return
    if item.lower().startswith(("http://", "https://")):
        got = fetch(client, item, timeout=timeout, max_bytes=MAX_DOCUMENT)
        told(len(got.body))
        name = safe_url(item)
        yield from parse_bytes(got.body, name=name, source=name, content_type=got.content_type)
        return
    path = Path(item)
    if path.is_dir():
        for child in sorted(path.iterdir()):
            if child.is_file() and child.suffix.lower() in SUFFIXES:
                yield from stream_input(str(child), client, timeout=timeout, on_bytes=told)
        return
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as err:
        raise SourceError(f"{path}: cannot read ({err.strerror})") from None
    with fh:
        yield from _stream(fh, item, item, told)
