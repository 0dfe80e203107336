"""Turn the bytes of one document into articles: JSON, JSONL, RSS/Atom/RDF or plain text.

``parse_bytes`` sniffs the format, parses it (feeds with feedparser, on bytes
only: it never fetches anything) and hands every item to
``watchlist.sources.articles.make_article``. Garbage raises ``SourceError`` naming the input.
"""

from __future__ import annotations

import json
import re
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser
from defusedxml import DefusedXmlException

from watchlist.models import Article
from watchlist.sources.articles import make_article
from watchlist.sources.errors import SourceError
from watchlist.sources.jsonfeed import feed_items, is_json_feed
from watchlist.sources.safexml import HostileXML, strip_internal_subset, use_safe_reader

__all__ = [
    "SourceError",
    "parse_bytes",
    "parse_feed",
    "parse_feed_only",
    "parse_json",
    "parse_text",
]

_HTML_RE = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S
)


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > len(sample) // 20


def _decode(data: bytes) -> str:
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(codec, errors="replace").lstrip("\ufeff")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- JSON


def _article_from(obj: Any, *, name: str, where: str, source: str) -> Article | None:
    """The article, or None when it has nothing to match (no title, summary, body, url)."""
    if not isinstance(obj, Mapping):
        raise SourceError(
            f"{name}:{where}: expected an article object with title/body/url, "
            f"got {type(obj).__name__}"
        )
    art = make_article(obj, source)
    return art if (art.title or art.summary or art.body or art.url) else None


def json_line(line: str, *, name: str, lineno: int, source: str) -> Article | None:
    """One JSON Lines article (None when it has nothing to match); errors name the line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise SourceError(
            f"{name}:{lineno}:{err.colno}: not valid JSON Lines: {err.msg} "
            "(each line must be one JSON article)"
        ) from None
    return _article_from(obj, name=name, where=f"{lineno}:1", source=source)


def _keep(found: list[tuple[str, Article | None]], name: str) -> list[Article]:
    """The articles with content; an error only if every one of them was empty."""
    arts = [a for _, a in found if a is not None]
    if found and not arts:
        raise SourceError(
            f"{name}:{found[0][0]}: the article has no title, summary, body or url; "
            "give it at least one of them"
        )
    return arts


def parse_json(text: str, *, name: str, source: str) -> list[Article]:
    """Articles from a JSON object, a JSON list of objects, or JSON Lines."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as whole_err:
        lines = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]
        if len(lines) < 2:
            raise SourceError(
                f"{name}:{whole_err.lineno}:{whole_err.colno}: not valid JSON: {whole_err.msg}"
            ) from None
        found = [
            (f"{n}:1", json_line(line, name=name, lineno=n, source=source)) for n, line in lines
        ]
        return _keep(found, name)
    if is_json_feed(doc):
        doc = feed_items(doc)
    elif isinstance(doc, Mapping) and isinstance(doc.get("articles"), list):
        doc = doc["articles"]
    items = doc if isinstance(doc, list) else [doc]
    wheres = [f"1:1: item {i}" for i in range(len(items))] if isinstance(doc, list) else ["1:1"]
    return _keep(
        [
            (w, _article_from(o, name=name, where=w, source=source))
            for w, o in zip(wheres, items, strict=True)
        ],
        name,
    )


# --------------------------------------------------------------------------- feeds


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                y, mo, d, h, mi, sec = (int(v) for v in value[:6])
                return datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _entry_body(entry: Mapping[str, Any]) -> str:
    contents = entry.get("content") or []
    values = [c.get("value", "") for c in contents if isinstance(c, Mapping)]
    html = [
        c.get("value", "")
        for c in contents
        if isinstance(c, Mapping) and "html" in str(c.get("type", ""))
    ]
    pick = html or values
    return max(pick, key=len) if pick else ""


_EOF_ERRORS = ("no element found", "unclosed token", "unclosed cdata section", "partial character")


def _is_truncated(exc: BaseException | None) -> bool:
    """Whether the XML parser stopped because the document ended too early."""
    if not isinstance(exc, xml.sax.SAXParseException):
        return False
    return any(msg in str(exc).lower() for msg in _EOF_ERRORS)


def parse_feed(
    data: bytes, *, name: str, source: str, content_type: str | None = None
) -> list[Article]:
    """Articles from RSS, Atom or RDF bytes; never fetches anything named in the document.

    ``content_type`` (the HTTP header, if any) gives feedparser the charset of a
    feed that declares none itself.
    """
    headers = {"content-type": content_type} if content_type else None
    use_safe_reader()
    try:
        parsed = feedparser.parse(
            strip_internal_subset(data), sanitize_html=True, response_headers=headers
        )
    except HostileXML as err:
        raise SourceError(f"{name}: {err}; refused, as feeds have no use for it") from None
    except DefusedXmlException as err:
        raise SourceError(
            f"{name}: the feed declares XML entities ({type(err).__name__}); "
            "refused, as feeds have no use for them"
        ) from None
    exc = parsed.get("bozo_exception")
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    if not version and not entries and _HTML_RE.match(data):
        raise SourceError(
            f"{name}: got an HTML page, not a feed; point the source at the RSS or Atom URL"
        )
    if _is_truncated(exc):
        raise SourceError(f"{name}: the feed ends early (truncated XML)")
    if not version and not entries:
        reason = f": {exc}" if exc else ""
        raise SourceError(f"{name}: not an RSS, Atom or RDF feed{reason}")
    out: list[Article] = []
    for entry in entries:
        raw = {
            "id": entry.get("id") or "",
            "title": entry.get("title") or "",
            "summary": entry.get("summary") or "",
            "body": _entry_body(entry),
            "url": entry.get("link") or "",
            "published": _entry_time(entry),
        }
        art = make_article(raw, source)
        if art.title or art.summary or art.body or art.url:
            out.append(art)
    return out


# --------------------------------------------------------------------------- text


def parse_text(text: str, *, name: str, source: str) -> list[Article]:
    """One article from plain text: the first non-empty line is the title, the rest the body."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise SourceError(f"{name}: empty; expected JSON, JSONL, RSS/Atom or text")
    title, body = lines[0].strip(), "\n".join(lines[1:]).strip()
    return [make_article({"title": title, "body": body}, source)]


# --------------------------------------------------------------------------- sniffing


def _prepare(data: bytes, name: str, content_type: str | None) -> tuple[bytes, bytes, str | None]:
    """The body (UTF-16/32 re-encoded as UTF-8), its start without blanks, and the content type.

    An empty document raises ``SourceError``. A re-encoded body drops the content
    type, whose charset named the original bytes.
    """
    body = data
    stripped = body.lstrip(b" \t\r\n\xef\xbb\xbf")
    if not stripped.strip():
        raise SourceError(f"{name}: empty; expected JSON, JSONL, RSS/Atom or text")
    if codec := _wide_codec(body):
        text = body.decode(codec, errors="replace").lstrip("\ufeff")
        text = _XML_ENCODING.sub(r"\1\2utf-8\2", text, count=1)  # it is UTF-8 now
        return text.encode("utf-8"), text.lstrip().encode("utf-8"), None
    return body, stripped, content_type


_XML_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def _wide_codec(data: bytes) -> str | None:
    """UTF-16 or UTF-32 by its byte order mark, or without one by where the zero bytes of
    the first character stand (as XML 1.0 appendix F sniffs); None for anything else."""
    head = data[:4]
    for bom, codec in (
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\xfe\xff", "utf-16-be"),
        (b"\xff\xfe", "utf-16-le"),
    ):
        if head.startswith(bom):
            return codec
    if len(head) < 4:
        return None
    zeros = (head[0] == 0, head[1] == 0, head[2] == 0, head[3] == 0)
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get(zeros)


def parse_bytes(
    data: bytes, *, name: str, source: str, content_type: str | None = None
) -> list[Article]:
    """Articles from one document, whatever its format; ``SourceError`` for garbage.

    ``name`` (a path or URL) appears in error messages; ``source`` goes into each article.
    """
    body, stripped, content_type = _prepare(data, name, content_type)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    first = stripped[:1]
    if first in (b"{", b"[") or ctype.endswith("json") or ctype == "application/x-ndjson":
        return parse_json(_decode(body), name=name, source=source)
    if first == b"<":
        return parse_feed(body, name=name, source=source, content_type=content_type)
    if _looks_binary(body):
        raise SourceError(
            f"{name}: binary data, not an article; expected JSON, JSONL, RSS/Atom or text"
        )
    return parse_text(_decode(body), name=name, source=source)


def _is_json_feed_text(body: bytes) -> bool:
    try:
        return is_json_feed(json.loads(_decode(body)))
    except (ValueError, RecursionError):
        return False


def parse_feed_only(
    data: bytes, *, name: str, source: str, content_type: str | None = None
) -> list[Article]:
    """Articles from a document that must be an RSS, Atom or RDF feed or a JSON Feed (an
    ``rss`` source).

    A maintenance page in plain text or a JSON error body is a ``SourceError``,
    never an article.
    """
    body, stripped, content_type = _prepare(data, name, content_type)
    if stripped[:1] == b"<":
        return parse_feed(body, name=name, source=source, content_type=content_type)
    if stripped[:1] == b"{" and _is_json_feed_text(body):
        return parse_json(_decode(body), name=name, source=source)
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if _looks_binary(body):
        kind = "binary data"
    elif stripped[:1] in (b"{", b"["):
        kind = "JSON"
    else:
        kind = "plain text"
    got = ctype or kind
    start = " ".join(_decode(stripped[:200]).split())[:60] if kind != "binary data" else ""
    shown = f": {start!r}" if start else ""
    raise SourceError(
        f"{name}: not an RSS or Atom feed (got {got}{shown}); "
        "check the source's url points at the feed (RSS, Atom or JSON Feed)"
    )
