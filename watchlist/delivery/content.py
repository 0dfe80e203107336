"""What an alert says beyond its snippet: hits by group, the local time, the alert as JSON.

Pure helpers for ``templates`` (the ``matched``, ``groups`` and ``published`` tokens)
and for structured channels (``alert_json``: what a ``json://`` channel carries next
to Apprise's title and message).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from watchlist.models import AlertView, Config

GROUP_ORDER: tuple[str, ...] = ("topics", "companies", "exchanges", "keywords")


def parse_published(published: str) -> datetime | None:
    """An alert's time (ISO 8601, or the store's ``2026-03-02 12:00 UTC``) as aware UTC."""
    try:
        when = datetime.fromisoformat(published.removesuffix(" UTC"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def local_time(published: str, tz: str) -> str:
    """An alert's time as ``2026-03-02 20:00 CST`` in zone ``tz``; other text as it is."""
    when = parse_published(published) if published else None
    if when is None:
        return published
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return published
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def hit_groups(hits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The hits by group, in rule order: ``[{"group", "matches": [{"entry", "text"}]}]``, each
    (entry, matched text) once."""
    by_group: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
    for h in hits:
        group = str(h.get("group", ""))
        entry = str(h.get("entry", ""))
        text = " ".join(str(h.get("text", "") or h.get("term", "")).split())
        key = (entry, text.casefold())
        by_group.setdefault(group, {}).setdefault(key, {"entry": entry, "text": text})
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    groups = sorted(by_group, key=lambda g: (order.get(g, len(order)), g))
    return [{"group": g, "matches": list(by_group[g].values())} for g in groups]


def matched_line(groups: Sequence[Mapping[str, Any]]) -> str:
    """``topics "nuclear fusion"; companies "Acme Corp" (Acme)`` - the entry is named where
    the matched text differs from it."""
    parts = []
    for g in groups:
        items = []
        for m in g["matches"]:
            text, entry = m["text"], m["entry"]
            same = text.casefold() == entry.casefold() or not entry
            items.append(f'"{text}"' if same else f'"{text}" ({entry})')
        parts.append(f"{g['group']} {', '.join(items)}" if g["group"] else ", ".join(items))
    return "; ".join(parts)


def alert_json(view: AlertView) -> dict[str, Any]:
    """The alert as a JSON-ready object: rule, article id, title, url, published, source, hits."""
    return {
        "rule": view.rule,
        "description": view.description,
        "article": view.article_id,
        "title": view.title,
        "url": view.url,
        "published": when.isoformat() if (when := parse_published(view.published)) else None,
        "source": view.source,
        "score": round(view.score, 1),
        "hits": [dict(h) for h in view.hits],
        "also_in": list(view.also_in),
    }


def payload_extras(views: Sequence[AlertView]) -> dict[str, Any]:
    """What a ``json://`` channel adds to Apprise's payload: ``alert`` (one) or ``alerts``."""
    if len(views) == 1:
        return {"alert": alert_json(views[0])}
    return {"alerts": [alert_json(v) for v in views]}


def with_descriptions(views: dict[int, AlertView], config: Config) -> dict[int, AlertView]:
    """``views`` with each rule's description from the config in force."""
    out: dict[int, AlertView] = {}
    for k, v in views.items():
        try:
            description = config.rule(v.rule).description
        except KeyError:  # a rule since removed
            description = ""
        out[k] = replace(v, description=description) if description else v
    return out
