"""The same story from several sources: noted in also_in, never alerted twice; guids kept apart."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from test_faults_driver import article

from watchlist.config.loader import load_config
from watchlist.daemon.pipeline import Pipeline, Runtime
from watchlist.sources import Source, make_source
from watchlist.store.schema import SCHEMA, SCHEMA_VERSION
from watchlist.store.sqlite import Store

CONFIG = """\
state: ./state.db
rules: rules.yaml
defaults:
  notify: [hook]
sources:
{sources}
channels:
  hook: json://127.0.0.1:9/never
"""
RULES = "- name: star\n  keywords: [STAR Market]\n"
NAMES = ("feed-a", "feed-b", "feed-c")


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Three real folder sources, a pipeline over a real state file, and a poll helper."""
    sources = "".join(
        f"  - name: {n}\n    type: folder\n    path: {tmp_path / n}\n    every: 30s\n"
        for n in NAMES
    )
    (tmp_path / "config.yaml").write_text(CONFIG.format(sources=sources), "utf-8")
    (tmp_path / "rules.yaml").write_text(RULES, "utf-8")
    cfg = load_config(tmp_path / "config.yaml", env={})
    store = Store(cfg.state)
    pipeline = Pipeline(store, Runtime.build(cfg))
    client = httpx.Client()
    srcs: dict[str, Source] = {}
    for s in cfg.sources:
        (tmp_path / s.name).mkdir()
        srcs[s.name] = make_source(s, client)

    def poll(name: str, filename: str, data: bytes) -> int:
        """Drop one settled file into source ``name``, poll it, process; the new-article count."""
        path = tmp_path / name / filename
        path.write_bytes(data)
        stamp = time.time() - 10
        os.utime(path, (stamp, stamp))
        res = srcs[name].poll(store.load_source_state(name), datetime.now(UTC))
        assert res.state.last_error == "", res.state.last_error
        done = pipeline.process(res.articles, datetime.now(UTC))
        if res.on_commit:
            res.on_commit()
        return done.new

    yield store, poll
    client.close()
    store.close()


def story(url: str, title: str = "China backs STAR Market IPOs of AI startups", **kw: str) -> bytes:
    """One JSON article without an id of its own unless given."""
    return json.dumps({"title": title, "url": url, **kw}).encode()


def feed(guid: str, title: str, link: str) -> bytes:
    """An RSS document with one item whose guid is not a URL."""
    return (
        '<rss version="2.0"><channel><title>t</title><item>'
        f'<title>{title}</title><guid isPermaLink="false">{guid}</guid><link>{link}</link>'
        "</item></channel></rss>"
    ).encode()


def test_copy_from_other_sources_noted_once(setup) -> None:  # type: ignore[no-untyped-def]
    """A URL-id copy from other sources lands in also_in; one alert, one outbox row, ever."""
    store, poll = setup
    assert poll("feed-a", "1.json", story("https://news.example.com/star?utm_source=x")) == 1
    assert poll("feed-b", "1.json", story("https://news.example.com/star?utm_medium=y")) == 1
    assert poll("feed-b", "2.json", story("https://news.example.com/star")) == 0  # seen in b
    assert poll("feed-c", "1.json", story("https://news.example.com/star#top")) == 1
    alerts = store.recent_alerts(10)
    assert [(a["source"], a["also_in"]) for a in alerts] == [("feed-a", ["feed-b", "feed-c"])]
    assert len(store.outbox_rows()) == 1


def test_copy_that_no_longer_matches_still_noted(setup) -> None:  # type: ignore[no-untyped-def]
    """A copy under the same URL whose text does not match the rule is still noted on the alert."""
    store, poll = setup
    poll("feed-a", "1.json", story("https://news.example.com/star"))
    poll("feed-b", "1.json", story("https://news.example.com/star", title="Markets today"))
    assert [a["also_in"] for a in store.recent_alerts(10)] == [["feed-b"]]
    assert len(store.outbox_rows()) == 1


def test_same_guid_in_two_feeds_is_two_articles(setup) -> None:  # type: ignore[no-untyped-def]
    """Feed B's guid "1" is not lost because feed A has an unrelated item with guid "1"."""
    store, poll = setup
    assert poll("feed-a", "a.xml", feed("1", "Weather today", "https://a.example/w")) == 1
    assert poll("feed-b", "b.xml", feed("1", "STAR Market IPO wave", "https://b.example/s")) == 1
    alerts = store.recent_alerts(10)
    assert [(a["source"], a["title"], a["also_in"]) for a in alerts] == [
        ("feed-b", "STAR Market IPO wave", [])
    ]
    assert poll("feed-b", "b2.xml", feed("1", "STAR Market IPO wave", "https://b.example/s")) == 0


def test_same_guid_same_story_alerts_once(setup) -> None:  # type: ignore[no-untyped-def]
    """Two feeds whose unrelated guids collide but carry the same story still alert once."""
    store, poll = setup
    poll("feed-a", "a.xml", feed("1", "STAR Market IPO wave", "https://x.example/s"))
    poll("feed-b", "b.xml", feed("1", "STAR Market IPO wave", "https://x.example/s"))
    assert [a["also_in"] for a in store.recent_alerts(10)] == [["feed-b"]]
    assert len(store.outbox_rows()) == 1


def test_version_1_state_file_keeps_what_it_saw(tmp_path: Path) -> None:
    """A state file from before (seen keyed on id alone) is migrated; its rows stay seen."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for sql in SCHEMA[0][1]:
        db.execute(sql)
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.execute("INSERT INTO seen VALUES ('1', 'feed-a', '2024-03-01T12:00:00+00:00')")
    db.commit()
    db.close()
    store = Store(path)
    try:
        a1 = replace(article(1, source="feed-a"), id="1")
        b1 = replace(article(1, source="feed-b"), id="1")
        assert store.filter_unseen([a1, b1]) == [b1]
        assert store.query("SELECT max(version) FROM schema_version")[0][0] == SCHEMA_VERSION
    finally:
        store.close()
