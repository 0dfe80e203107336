"""Normalise one raw article mapping into an ``Article``: plain text, canonical URL, UTC time, id.

Pure functions, no I/O. Sources (feeds, folders, HTTP ingest, ``watchlist scan``)
all build their articles through :func:`make_article`, so every stage downstream
sees the same shape: HTML turned into plain text, tracking parameters dropped
from the URL, the publication time in UTC, and an id that is stable across runs.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from watchlist.models import Article

__all__ = ["canonical_url", "html_to_text", "make_article", "parse_published", "text_id"]

# --------------------------------------------------------------------------- HTML to text

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div",
        "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"})
_DROP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title", "iframe"})
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})
_TAG_RE = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^>]*>|<!--|<!\[CDATA\[")
# SPEC rule 1: plain text is never HTML. Only real elements make a field HTML: a known
# element name in lower case, or in any case when its closing tag is there too, so the
# Reuters-style ``<AAPL>``, ``<B>`` and ``<Montedison SpA>`` stay text.
_HTML_ELEMENTS = frozenset(
    """a abbr address article aside audio b big blockquote body br caption center cite code
    col dd del details dfn div dl dt em embed figcaption figure font footer form h1 h2 h3 h4
    h5 h6 head header hr html i iframe img input ins kbd label li link main mark meta nav
    noscript object ol p picture pre q s samp script section small source span strike strong
    style sub summary sup table tbody td template tfoot th thead time title tr tt u ul var
    video wbr""".split()  # noqa: SIM905
)
_SPACES_RE = re.compile(r"[ \t\f\v\u00a0\u200b]+")
_BLANKS_RE = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML fragment, blocks on their own lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._drop = 0

    def _break(self, tag: str) -> None:
        """End the current line (a paragraph for p, headings and the like)."""
        want = 2 if tag in _PARAGRAPH_TAGS else 1
        tail = "".join(self.parts[-4:]).rstrip(" \t")
        have = len(tail) - len(tail.rstrip("\n"))
        if have < want:
            self.parts.append("\n" * (want - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_TAGS:
            if tag not in _VOID_TAGS:
                self._drop += 1
            return
        if tag in _BLOCK_TAGS:
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_TAGS:
            self._drop = max(0, self._drop - 1)
            return
        if tag in _BLOCK_TAGS:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if not self._drop:
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def _tidy(text: str) -> str:
    """Collapse runs of spaces, trim each line, keep at most one blank line in a row."""
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANKS_RE.sub("\n\n", "\n".join(lines)).strip()


def is_html(text: str) -> bool:
    """True when ``text`` holds a real HTML element or comment (see ``_HTML_ELEMENTS``)."""
    names: set[str] = set()
    for m in _TAG_RE.finditer(text):
        if m.group(2) is None:
            return True  # a comment or CDATA section
        name = m.group(2)
        if name.lower() not in _HTML_ELEMENTS:
            continue
        if name.islower():
            return True
        names.add(name.lower())
    low = text.lower()
    return any(f"</{n}>" in low for n in names)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: entities decoded, scripts/styles dropped, blocks as lines.

    Text with no tags keeps its own line breaks (only entities are decoded).
    """
    if not markup:
        return ""
    markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    if not is_html(markup):
        return _tidy(html.unescape(markup))
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # html.parser is lenient; this is only a last resort
        return _tidy(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
    return _tidy("".join(parser.parts))


def _one_line(text: str) -> str:
    return " ".join(html_to_text(text).split())


# --------------------------------------------------------------------------- URLs

_TRACKING_EXACT = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "_ga", "_gl", "_hsenc", "_hsmi",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "cmpid", "ncid", "sr_share",
        "spm", "s_cid",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "itm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in _TRACKING_EXACT or k.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """The URL with scheme/host lower-cased, default port, fragment and tracking params dropped.

    The remaining query parameters are sorted. Anything that is not an absolute
    http(s) URL comes back stripped of surrounding whitespace and fragment only.
    """
    url = (url or "").strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return urlunsplit(parts._replace(fragment=""))
        host = parts.hostname.lower().rstrip(".")
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = parts.port
    except ValueError:
        return url.split("#", 1)[0]
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


# --------------------------------------------------------------------------- time


# Older wire formats, read as UTC (e.g. Reuters' "26-FEB-1987 15:01:01.79").
_EXTRA_FORMATS = ("%d-%b-%Y %H:%M:%S.%f", "%d-%b-%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d")


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_published(value: Any) -> datetime | None:
    """A publication time in UTC from ISO 8601, RFC 2822, epoch seconds or a datetime.

    Naive times are taken as UTC; anything unparseable gives None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, time.struct_time):
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (ValueError, OverflowError, OSError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text[-1:] in "zZ" else text
    try:
        return _as_utc(datetime.fromisoformat(iso))
    except ValueError:
        pass
    try:
        return _as_utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        pass
    head = " ".join(text.split()[:2])  # such stamps may carry trailing desk codes
    for candidate in dict.fromkeys((text, head)):
        for fmt in _EXTRA_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
    return None


# --------------------------------------------------------------------------- articles


def _text(value: Any) -> str:
    """A field's value as a string: lists joined, mappings' ``value``, others str()."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _text(value.get("value", ""))
    if isinstance(value, list | tuple):
        return "\n\n".join(t for t in (_text(v) for v in value) if t)
    return str(value)


def text_id(title: str, body: str) -> str:
    """A stable id from normalised title and body: ``sha256:`` and 32 hex digits."""
    norm = " ".join(title.casefold().split()) + "\n" + " ".join(body.casefold().split())
    return "sha256:" + hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


def make_article(raw: Mapping[str, Any], source: str) -> Article:
    """An ``Article`` from SPEC's JSON article mapping.

    Keys: ``title``, ``summary``, ``body`` (or ``content`` / ``text``), ``url``
    (or ``link``), ``published`` (ISO 8601; also ``date`` / ``updated``),
    optional ``id`` and ``source``. ``source`` (the argument, the name of the
    source it came from) wins over the mapping's ``source`` unless it is empty.
    The id is the given id, else the canonical URL, else a hash of title+body.
    """
    title = _one_line(_text(raw.get("title")))
    summary = html_to_text(_text(raw.get("summary") or raw.get("description")))
    body_raw = next((raw.get(k) for k in ("body", "content", "text") if raw.get(k)), "")
    body = html_to_text(_text(body_raw))
    if summary and summary == body:
        summary = ""
    url = canonical_url(_text(raw.get("url") or raw.get("link")))
    published_raw = next(
        (raw.get(k) for k in ("published", "date", "updated") if raw.get(k) is not None), None
    )
    given = raw.get("id")
    given_id = str(given).strip() if given is not None and not isinstance(given, bool) else ""
    article_id = given_id or url or text_id(title, body or summary)
    return Article(
        id=article_id,
        title=title,
        summary=summary,
        body=body,
        url=url,
        published=parse_published(published_raw),
        source=source or _one_line(_text(raw.get("source"))),
    )
