"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1): recognised and read as articles.

Pure: a parsed JSON document in, SPEC article mappings out (``make_article`` reads them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "https://jsonfeed.org/version/"


def is_json_feed(doc: Any) -> bool:
    """A JSON Feed: an object whose ``version`` is a jsonfeed.org URL, with ``items``."""
    return (
        isinstance(doc, Mapping)
        and str(doc.get("version", "")).startswith(PREFIX)
        and isinstance(doc.get("items", []), list)
    )


def feed_items(doc: Mapping[str, Any]) -> list[Any]:
    """Each item as an article mapping: id, url, title, summary, body, published; an item
    that is not an object is passed on as it is (the caller reports it)."""
    out: list[Any] = []
    for item in doc.get("items", []):
        if not isinstance(item, Mapping):
            out.append(item)
            continue
        out.append(
            {
                "id": item.get("id"),
                "url": item.get("url") or item.get("external_url"),
                "title": item.get("title"),
                "summary": item.get("summary"),
                "body": item.get("content_html") or item.get("content_text"),
                "published": item.get("date_published") or item.get("date_modified"),
            }
        )
    return out
