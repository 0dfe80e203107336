"""The store on the Reuters corpus: each article recorded once; a second source's copies fold."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from conftest import corpus
from test_faults_driver import T0, config

from watchlist.models import Article, Hit, Match
from watchlist.store.sqlite import Store

CORPUS = corpus("reuters21578.jsonl")


def _date(text: str) -> datetime | None:
    """Reuters' ``26-FEB-1987 15:01:01.79`` as UTC; None for the few damaged ones."""
    try:
        day = datetime.strptime(text.split(".")[0].strip(), "%d-%b-%Y %H:%M:%S")
    except ValueError:
        return None
    return day.replace(tzinfo=UTC)


def load(source: str) -> list[Article]:
    """Every Reuters article as an Article from ``source`` (ids made unique per source)."""
    out = []
    with CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            published = _date(raw.get("published") or "")
            out.append(
                Article(
                    id=f"{source}:{raw['id']}",
                    title=raw.get("title") or "",
                    body=raw.get("body") or "",
                    url="",  # no URLs: the title decides whether it is the same story
                    published=published,
                    source=source,
                )
            )
    return out


def oil_matches(articles: list[Article]) -> list[Match]:
    """A match of rule 'acme' for every article with OIL in its title."""
    out = []
    for a in articles:
        at = a.title.find("OIL")
        if at >= 0:
            hit = Hit("keywords", "oil", "oil", "OIL", "title", at, at + 3, 100.0)
            out.append(Match(rule="acme", article_id=a.id, hits=(hit,)))
    return out


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.exists(), reason=f"Reuters corpus not found at {CORPUS}")
def test_reuters_recorded_once_and_second_source_folds(state: str) -> None:
    """21,578 articles record in batches; the same titles from another source add no alert."""
    store = Store(state)
    cfg = config({"hook": ("json://127.0.0.1/x",)})
    first = load("wire")
    started = time.perf_counter()
    alerts = 0
    for i in range(0, len(first), 200):
        batch = store.filter_unseen(first[i : i + 200])
        alerts += store.record(batch, oil_matches(batch), cfg, T0).alerts
    took = time.perf_counter() - started
    n_matches = len(oil_matches(first))
    print(f"\nrecorded {len(first)} articles, {n_matches} matches, {alerts} alerts in {took:.2f}s")
    assert store.counts()["seen"] == len(first)
    assert 0 < alerts <= len(oil_matches(first))
    copies = load("copy")
    dupes = new = 0
    for i in range(0, len(copies), 200):
        batch = store.filter_unseen(copies[i : i + 200])
        res = store.record(batch, oil_matches(batch), cfg, T0)
        dupes, new = dupes + res.duplicates, new + res.alerts
    assert new == 0
    assert dupes == len(oil_matches(copies))
    assert all(a["also_in"] == ["copy"] for a in store.recent_alerts(20))
    store.close()
