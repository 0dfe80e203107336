"""Story dedup: whether a new match of a rule is a story the rule already alerted for.

A match folds into an earlier alert of the same rule when they share a story-wide
id (a URL-like id or a text hash), the same canonical URL, or the same *story key*
within ``STORY_WINDOW``. Every check is one indexed lookup, so a batch of N
matches costs O(N) lookups whatever the rule already holds (the old near-duplicate
scan compared each new title with every alert of the rule in the window).

The story key is the title reduced to its words: NFKC, case folded, punctuation
dropped, possessive ``'s`` removed and a plural ``s`` cut from words longer than
three letters ("ACME story about widgets!" and "Acme story about widget" share
one). Two items with different URLs from the same source are never merged by
title: a feed that carries two stories under near-equal titles ("Anthropic
confirms ..." and "Anthropic denies ...") means two stories. Each merge is kept
in ``merges`` (alert, article, how) and logged, so ``status`` can show it.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watchlist.models import Article
from watchlist.store.outbox import ts

log = logging.getLogger("watchlist.store")

STORY_WINDOW = timedelta(hours=48)
MIN_KEY = 12  # shorter keys ("Markets", "Update") are too common to name one story
_POSSESSIVE_RE = re.compile(r"['\u2019]s\b")
_SHARED_ID_RE = re.compile(r"^(https?://|urn:|tag:|sha256:)", re.I)


def shared_id(article_id: str) -> bool:
    """Whether an id names the same story in every source (a URL, urn:/tag: URI, text hash).

    Other ids (a feed's guid "1", "item-7") only mean something within their source.
    """
    return bool(_SHARED_ID_RE.match(article_id))


def story_key(title: str) -> str:
    """The title as its words, case folded, without punctuation, possessives or plural s."""
    text = _POSSESSIVE_RE.sub("", unicodedata.normalize("NFKC", title).casefold())
    words = []
    for w in re.findall(r"\w+", text):
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        words.append(w)
    return " ".join(words)


@dataclass(frozen=True, slots=True)
class Found:
    """The earlier alert a match folds into, and why."""

    alert_id: int
    source: str
    also_in: str  # JSON list
    how: str  # "same id" | "same url" | "same title"


def find_story(db: sqlite3.Connection, rule: str, art: Article, now: datetime) -> Found | None:
    """The alert of ``rule`` that ``art`` is a copy of, by id, URL or story key; None if new."""
    if shared_id(art.id):
        row = db.execute(
            "SELECT id, source, also_in FROM alerts WHERE rule = ? AND article_id = ? LIMIT 1",
            (rule, art.id),
        ).fetchone()
        if row is not None:
            return Found(row["id"], row["source"], row["also_in"], "same id")
    if art.url:
        row = db.execute(
            "SELECT id, source, also_in FROM alerts WHERE rule = ? AND url = ? LIMIT 1",
            (rule, art.url),
        ).fetchone()
        if row is not None:
            return Found(row["id"], row["source"], row["also_in"], "same url")
    key = story_key(art.title)
    if len(key) < MIN_KEY:
        return None
    when = art.published or now
    # same source and both with a URL: two URLs are two stories, however alike the titles
    sql = (
        "SELECT id, source, also_in FROM alerts WHERE rule = ? AND story_key = ?"
        " AND story_at BETWEEN ? AND ?"
    )
    params: list[Any] = [rule, key, ts(when - STORY_WINDOW), ts(when + STORY_WINDOW)]
    if art.url:
        sql += " AND (source <> ? OR url = '')"
        params.append(art.source)
    # "+id": order without steering SQLite to the (rule, id) index, which would walk every
    # alert of the rule instead of the few of this story (the (rule, story_key) index)
    row = db.execute(sql + " ORDER BY +id LIMIT 1", params).fetchone()
    if row is None:
        return None
    return Found(row["id"], row["source"], row["also_in"], "same title")


def record_merge(
    db: sqlite3.Connection, rule: str, art: Article, found: Found, now: datetime
) -> None:
    """Note ``art`` on the alert it folds into (also_in, ``merges``) and log it."""
    name = art.source or art.id
    also: list[str] = json.loads(found.also_in)
    if name != found.source and name not in also:
        also.append(name)
        db.execute("UPDATE alerts SET also_in = ? WHERE id = ?", (json.dumps(also), found.alert_id))
    db.execute(
        "INSERT INTO merges (alert_id, rule, source, article_id, title, url, how, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (found.alert_id, rule, art.source, art.id, art.title[:500], art.url, found.how, ts(now)),
    )
    log.info(
        "rule %s: article %s from %s (%s) merged into alert #%d (%s)",
        rule,
        art.id,
        art.source or "?",
        art.title[:120],
        found.alert_id,
        found.how,
    )


def backfill_keys(db: sqlite3.Connection) -> int:
    """Give alerts written before schema 5 their story key; how many were filled."""
    rows = db.execute("SELECT id, title FROM alerts WHERE story_key IS NULL").fetchall()
    for r in rows:
        db.execute("UPDATE alerts SET story_key = ? WHERE id = ?", (story_key(r["title"]), r["id"]))
    return len(rows)


def merges_query(limit: int) -> tuple[str, tuple[Any, ...]]:
    """SQL and parameters for the newest merges (for ``status``)."""
    return (
        "SELECT id, alert_id, rule, source, article_id, title, url, how, at FROM merges"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    )
