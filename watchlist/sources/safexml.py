"""Hostile XML kept harmless before and while feedparser reads it (billion laughs, XXE).

Two layers. ``strip_internal_subset`` finds the DOCTYPE's internal subset, where
entities are declared, scanning the prolog as XML does (comments and PIs
skipped whole, so ``<!-- <a> -->`` cannot pass for the first element), and
refuses nested, external or parameter entities or drops a harmless subset. What
gets past the scan (an encoding it cannot read) meets ``create_parser``'s
reader, defusedxml's expat reader, which raises ``EntitiesForbidden`` at the
first entity declaration instead of expanding anything. External DTDs and
entities are never fetched (feedparser turns external entities off).
"""

from __future__ import annotations

import re
from typing import Any

import feedparser.api
from defusedxml.expatreader import DefusedExpatParser

__all__ = ["HostileXML", "create_parser", "strip_internal_subset", "use_safe_reader"]


def create_parser(*args: Any, **kwargs: Any) -> Any:
    """The SAX reader ``xml.sax.make_parser`` builds when it is given this module's name."""
    # External references stay allowed (RSS 0.91 feeds name the Netscape DTD);
    # with external entities off nothing is fetched.
    return DefusedExpatParser(*args, forbid_entities=True, forbid_external=False, **kwargs)


def use_safe_reader() -> None:
    """Make feedparser's strict parser this module's reader (idempotent)."""
    feedparser.api.PREFERRED_XML_PARSERS = [__name__]


def _skip_markup(data: bytes, i: int) -> int | None:
    """The index past a comment or processing instruction starting at ``i`` (None if none is)."""
    for opener, closer in ((b"<!--", b"-->"), (b"<?", b"?>")):
        if data.startswith(opener, i):
            j = data.find(closer, i + len(opener))
            return len(data) if j < 0 else j + len(closer)
    return None


def _doctype_span(data: bytes) -> tuple[int, int, bool] | None:
    """Where the prolog's DOCTYPE starts and ends, and whether it has an internal subset.

    The prolog is scanned as XML reads it: whitespace, the XML declaration,
    comments and processing instructions are skipped whole (a ``<a>`` inside a
    comment is not the first element). Inside the DOCTYPE, quoted strings,
    comments and PIs are skipped too, so no ``>`` or ``]`` in them ends it early.
    """
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while i < len(data):
        if data[i] in b" \t\r\n":
            i += 1
            continue
        after = _skip_markup(data, i)
        if after is not None:
            i = after
            continue
        if data[i : i + 9].upper() != b"<!DOCTYPE":
            return None
        start, i, depth, subset = i, i + 9, 0, False
        while i < len(data):
            c = data[i]
            after = _skip_markup(data, i) if depth else None
            if after is not None:
                i = after
                continue
            if c in b"\"'":
                j = data.find(bytes([c]), i + 1)
                i = len(data) if j < 0 else j + 1
                continue
            if c == 0x5B:  # [
                depth, subset = depth + 1, True
            elif c == 0x5D:  # ]
                depth = max(0, depth - 1)
            elif c == 0x3E and depth == 0:  # >
                return start, i + 1, subset
            i += 1
        return start, len(data), subset
    return None


class HostileXML(ValueError):
    """A DOCTYPE declaring entities that nest, refer outside, or are parameter entities."""


_MARKUP_RE = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.S)
_ENTITY_RE = re.compile(rb"<!ENTITY", re.I)
_DECL_RE = re.compile(rb"<!ENTITY\s+(%\s+)?[^\s\"'>]+\s+(\"[^\"]*\"|'[^']*'|SYSTEM|PUBLIC)", re.I)
_REF_RE = re.compile(rb"[&%](?!#)")


def _hostile(subset: bytes) -> str:
    """What makes an internal subset's entity declarations hostile ("" when none does)."""
    text = _MARKUP_RE.sub(b"", subset)
    decls = _DECL_RE.findall(text)
    if len(decls) != len(_ENTITY_RE.findall(text)):
        return "an entity declaration it cannot read"
    for param, value in decls:
        if param:
            return "a parameter entity"
        if value.upper() in (b"SYSTEM", b"PUBLIC"):
            return "an external entity (XXE)"
        if _REF_RE.search(value):
            return "entities that expand other entities (billion laughs)"
    return ""


def strip_internal_subset(data: bytes) -> bytes:
    """Remove a DOCTYPE with an internal subset; ``HostileXML`` if its entities are hostile.

    A feed has no use for an internal subset: harmless ones (``<!ENTITY c "&#169;">``)
    are dropped, nested, external and parameter entities refused. Whatever gets
    past this scan (an encoding it cannot read) meets defusedxml's reader.
    """
    span = _doctype_span(data)
    if span is None or not span[2]:
        return data
    why = _hostile(data[span[0] : span[1]])
    if why:
        raise HostileXML(f"its DOCTYPE declares {why}")
    return data[: span[0]] + data[span[1] :]
