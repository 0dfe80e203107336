"""The archive on real SQLite files: written with ``seen``, read newest first, pruned in batches."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import watchlist.store.archive as archive_mod
import watchlist.store.sqlite as sqlite_mod
from watchlist.config.errors import ConfigErrors
from watchlist.config.loader import load_config
from watchlist.daemon.prune import prune_archive
from watchlist.models import Article, Config
from watchlist.store.schema import SCHEMA
from watchlist.store.sqlite import Store

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
ON = Config(path="config.yaml")  # archive: 30d, the default
OFF = Config(path="config.yaml", archive=None)


def art(n: int, source: str = "feed") -> Article:
    """Article ``n`` with every field set."""
    return Article(
        id=f"a{n}",
        title=f"Title {n}",
        summary=f"Summary {n}",
        body=f"Body {n}\nsecond line",
        url=f"https://example.com/{n}",
        published=T0 - timedelta(days=1, minutes=n),
        source=source,
    )


def fill(store: Store, count: int, config: Config = ON) -> None:
    """Record articles 0..count-1, article n seen at T0 + n minutes."""
    for n in range(count):
        store.record([art(n)], [], config, T0 + timedelta(minutes=n))


def test_record_archives_every_new_article_with_its_text(tmp_path: Path) -> None:
    """Title, summary, body, url, source and published come back as recorded."""
    store = Store(tmp_path / "s.db")
    store.record([art(1), art(2, "other")], [], ON, T0)
    store.record([art(1)], [], ON, T0 + timedelta(hours=1))  # seen before: not again
    got = sorted(store.archived_articles(T0 - timedelta(days=1)), key=lambda a: a.id)
    assert got == [art(1), art(2, "other")]
    assert store.archive_count() == 2


def test_archive_off_keeps_no_text(tmp_path: Path) -> None:
    """With archive: off the articles are still marked seen, but no text is kept."""
    store = Store(tmp_path / "s.db")
    assert store.record([art(1)], [], OFF, T0).seen == 1
    assert store.archive_count() == 0
    assert store.filter_unseen([art(1)]) == []


def test_archive_row_is_written_in_the_transaction_that_marks_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while archiving rolls back the seen marks too: neither or both."""
    store = Store(tmp_path / "s.db")
    real = sqlite_mod.archive_article
    calls: list[str] = []

    def failing(db: sqlite3.Connection, a: Article, now: datetime) -> None:
        calls.append(a.id)
        if len(calls) == 2:
            raise OSError("disk full")
        real(db, a, now)

    monkeypatch.setattr(sqlite_mod, "archive_article", failing)
    with pytest.raises(OSError):
        store.record([art(1), art(2)], [], ON, T0)
    assert store.archive_count() == 0
    assert len(store.filter_unseen([art(1), art(2)])) == 2
    monkeypatch.setattr(sqlite_mod, "archive_article", real)
    store.record([art(1), art(2)], [], ON, T0)
    assert store.archive_count() == 2


def test_archived_articles_newest_first_in_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Newest seen first across page boundaries; ``since`` inclusive, ``until`` exclusive."""
    monkeypatch.setattr(archive_mod, "PAGE", 3)
    store = Store(tmp_path / "s.db")
    fill(store, 10)
    store.record([art(10), art(11)], [], ON, T0 + timedelta(minutes=9))  # a tie on seen_at
    ids = [a.id for a in store.archived_articles(T0 + timedelta(minutes=2))]
    assert ids == ["a11", "a10", "a9", "a8", "a7", "a6", "a5", "a4", "a3", "a2"]
    window = store.archived_articles(T0 + timedelta(minutes=2), T0 + timedelta(minutes=5))
    assert [a.id for a in window] == ["a4", "a3", "a2"]
    assert store.archive_count(T0 + timedelta(minutes=8)) == 4


def test_prune_deletes_the_oldest_in_batches(tmp_path: Path) -> None:
    """prune_archive removes at most ``limit`` rows a call, oldest first."""
    store = Store(tmp_path / "s.db")
    fill(store, 10)
    cut = T0 + timedelta(minutes=7)
    assert [store.prune_archive(cut, 3) for _ in range(4)] == [3, 3, 1, 0]
    assert [a.id for a in store.archived_articles(T0)] == ["a9", "a8", "a7"]


def test_daemon_prune_keeps_the_archive_window(tmp_path: Path) -> None:
    """The daemon's pruning keeps ``archive:`` worth of articles, and none when off."""
    store = Store(tmp_path / "s.db")
    fill(store, 25)
    now = T0 + timedelta(minutes=24)
    assert prune_archive(store, timedelta(minutes=10), now, batch=4) == 14
    assert store.archive_count() == 11
    assert prune_archive(store, None, now + timedelta(seconds=1), batch=4) == 11
    assert store.archive_count() == 0


def test_migration_3_adds_the_archive_to_a_version_2_file(tmp_path: Path) -> None:
    """A state file of version 2 keeps what it saw and gains an empty archive."""
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, statements in SCHEMA:
        if version <= 2:
            for sql in statements:
                db.execute(sql)
            db.execute("INSERT INTO schema_version VALUES (?)", (version,))
    db.execute("INSERT INTO seen VALUES ('feed', 'a1', '2026-11-20T08:00:00+00:00')")
    db.commit()
    db.close()
    store = Store(path)
    assert store.filter_unseen([art(1), art(2)]) == [art(2)]
    assert store.archive_count() == 0
    store.record([art(2)], [], ON, T0)
    assert [a.id for a in store.archived_articles(T0)] == ["a2"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [("", timedelta(days=30)), ("archive: 12h\n", timedelta(hours=12)), ("archive: off\n", None)],
)
def test_archive_key(tmp_path: Path, line: str, expected: timedelta | None) -> None:
    """archive: defaults to 30d; a duration or off."""
    (tmp_path / "r.yaml").write_text("- {name: r, keywords: [x]}\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text(f"rules: r.yaml\n{line}", encoding="utf-8")
    assert load_config(tmp_path / "config.yaml").archive == expected


@pytest.mark.parametrize("value", ["30", "forever", "3"])
def test_a_wrong_archive_value_is_an_error_at_its_place(tmp_path: Path, value: str) -> None:
    """A bare number or a word is refused at line:column, naming what to write."""
    (tmp_path / "r.yaml").write_text("- {name: r, keywords: [x]}\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text(f"rules: r.yaml\narchive: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigErrors) as info:
        load_config(tmp_path / "config.yaml")
    (error,) = info.value.errors
    assert (error.line, error.column) == (2, 10)
    assert error.message.startswith("archive: ") and ("off" in error.message)


def test_run_once_prunes_what_is_older_than_archive(tmp_path: Path) -> None:
    """`run --once` archives what it reads, and a later run prunes what aged past archive:."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "r.yaml").write_text("- {name: r, keywords: [copper]}\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text(
        "state: s.db\nrules: r.yaml\narchive: 2s\n"
        "sources: [{name: inbox, type: folder, path: inbox}]\n",
        encoding="utf-8",
    )

    def drop(name: str, title: str) -> None:
        path = inbox / name
        path.write_text(json.dumps({"id": name, "title": title}), encoding="utf-8")
        os.utime(path, (time.time() - 60, time.time() - 60))

    def run_once() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "watchlist", "run", "--once", "-c", "config.yaml"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        store = Store(tmp_path / "s.db")
        try:
            return [a.id for a in store.archived_articles(T0 - timedelta(days=3650))]
        finally:
            store.close()

    drop("a.json", "Copper rises")
    assert run_once() == ["a.json"]
    time.sleep(2.5)
    drop("b.json", "Tin falls")
    assert run_once() == ["b.json"]
