"""Story dedup: one indexed lookup per match, never by title across two URLs of one source."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from test_faults_driver import T0, article, config, match

from watchlist.commands.status import render_status, snapshot_to_json
from watchlist.commands.statusview import collect_snapshot
from watchlist.store.schema import SCHEMA
from watchlist.store.sqlite import Store
from watchlist.store.stories import story_key


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store file."""
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


def _vm_steps(tmp_path: Path, n: int) -> int:
    """SQLite VM steps (in thousands) that recording ``n`` matching articles takes."""
    s = Store(tmp_path / f"ops-{n}.db")
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    arts = [article(i, title=f"Acme widget story number {i:05d} today") for i in range(n)]
    s._conn.set_progress_handler(tick, 1000)
    s.record(arts, [match(a) for a in arts], config({"a": ("json://x",)}), T0)
    s._conn.set_progress_handler(None, 0)
    s.close()
    return steps[0]


def test_recording_a_large_batch_stays_linear(tmp_path: Path) -> None:
    """4x the matches of one rule cost about 4x the SQLite work, not 16x (no scan per alert)."""
    small, large = _vm_steps(tmp_path, 1000), _vm_steps(tmp_path, 4000)
    assert large / small < 6, (small, large)


def test_story_key_folds_case_punctuation_plural_and_possessive() -> None:
    """Keys agree on case, punctuation, plural s and 's; they keep words and digits apart."""
    assert story_key("ACME's story about widgets!") == story_key("Acme story about widget")
    assert story_key("Acme story number 1") != story_key("Acme story number 2")
    assert story_key("Anthropic confirms deal") != story_key("Anthropic denies deal")
    assert story_key("Glass") == "glass"


def test_contradicting_story_from_same_source_is_its_own_alert(store: Store) -> None:
    """'confirms' then 'denies' from one source (different URLs) give two alerts, two rows."""
    cfg = config({"a": ("json://x",)})
    first = article(1, title="Anthropic confirms it will acquire Acme Robotics for $2bn")
    second = article(2, title="Anthropic denies it will acquire Acme Robotics for $2bn")
    store.record([first], [match(first)], cfg, T0)
    res = store.record([second], [match(second)], cfg, T0)
    assert (res.alerts, res.duplicates, res.outbox) == (1, 0, 1)
    assert len(store.outbox_rows()) == 2


def test_same_title_two_urls_one_source_are_two_stories(store: Store) -> None:
    """Even an identical title with a different URL from the same source is not merged."""
    cfg = config({"a": ("json://x",)})
    first = article(1, title="Markets wrap: Acme shares close higher")
    second = article(2, title="Markets wrap: Acme shares close higher")
    store.record([first, second], [match(first), match(second)], cfg, T0)
    assert len(store.recent_alerts(5)) == 2
    assert store.recent_merges() == []


def test_merge_is_recorded_logged_and_noted(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """A copy from another source folds into alert #N: in also_in, in merges, in the log."""
    cfg = config({"a": ("json://x",)})
    first = article(1)
    copy = article(9, source="other", url="https://elsewhere/x", title=first.title + "!")
    store.record([first], [match(first)], cfg, T0)
    alert_id = store.recent_alerts(1)[0]["id"]
    with caplog.at_level(logging.INFO, logger="watchlist.store"):
        res = store.record([copy], [match(copy)], cfg, T0)
    assert res.duplicates == 1
    assert store.recent_alerts(1)[0]["also_in"] == ["other"]
    [merged] = store.recent_merges()
    assert (merged["alert_id"], merged["source"], merged["how"]) == (
        alert_id,
        "other",
        "same title",
    )
    assert f"merged into alert #{alert_id} (same title)" in caplog.text


def test_same_url_merge_is_recorded(store: Store) -> None:
    """A second item with the alert's URL folds into it and the merge says so."""
    cfg = config({"a": ("json://x",)})
    first = article(1)
    again = replace(article(2, title="Something else entirely"), url=first.url)
    store.record([first, again], [match(first), match(again)], cfg, T0)
    assert [m["how"] for m in store.recent_merges()] == ["same url"]


def test_old_alerts_get_story_keys_on_open(tmp_path: Path) -> None:
    """An alert written before schema 5 gets its key when the store opens, and copies fold."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, statements in SCHEMA:
        if version <= 2:
            for sql in statements:
                db.execute(sql)
    db.execute("INSERT INTO schema_version VALUES (2)")
    db.execute(
        "INSERT INTO alerts (rule, article_id, url, title, title_key, summary, source, published,"
        " score, hits, snippet, created, story_at) VALUES ('acme', 'a1-wire', 'https://n/1',"
        " 'Acme story number 1 about widgets', '', '', 'wire', '', 100, '[]', '{}', ?, ?)",
        (T0.isoformat(), T0.isoformat()),
    )
    db.commit()
    db.close()
    s = Store(path)
    try:
        copy = article(9, source="other", url="https://elsewhere/x")
        copy = replace(copy, title="Acme story number 1 about widget")
        res = s.record([copy], [match(copy)], config({"a": ("json://x",)}), T0)
        assert res.duplicates == 1
    finally:
        s.close()


def test_status_shows_the_merge(tmp_path: Path) -> None:
    """`status` lists a folded copy as merged into alert #N, in the table and in --json."""
    path = tmp_path / "state.db"
    s = Store(path)
    cfg = replace(config({"a": ("json://x",)}), state=str(path))
    first = article(1)
    copy = article(9, source="other", url="https://elsewhere/x", title=first.title.upper())
    s.record([first], [match(first)], cfg, T0)
    s.record([copy], [match(copy)], cfg, T0)
    snap = collect_snapshot(cfg, s, T0)
    s.close()
    text = render_status(snap)
    assert "MERGED" in text and "#1 (same title)" in text, text
    [m] = snapshot_to_json(snap)["merges"]
    assert (m["alert_id"], m["source"], m["how"]) == (1, "other", "same title")
