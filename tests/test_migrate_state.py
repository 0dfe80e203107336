"""`watchlist migrate-state`: an SQLite state copied into PostgreSQL, whole, once."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from test_faults_driver import T0, article, config, match, rule

from watchlist.cli import main
from watchlist.models import SourceState
from watchlist.store.sqlite import Store


def _filled(path: Path) -> Store:
    """An SQLite state with alerts, outbox rows of every kind, sends and source state."""
    s = Store(path)
    cfg = config({"a": ("json://x",)}, rules=(rule(notify=("a", "nope")),))
    arts = [article(i, title=f"Headline {i} " + "y" * i) for i in range(5)]
    s.record(arts, [match(a) for a in arts], cfg, T0)
    ids = [r.id for r in s.outbox_rows("pending")]
    s.claim(ids[:2], T0, "1@h")
    s.mark_sent(ids[:1], T0, "a", [0])
    s.save_source_state("wire", SourceState(etag='"e1"', last_poll=T0, failures=1, articles=5))
    return s


def test_copy_keeps_everything_and_new_ids_follow(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every table arrives as it was; new rows get ids after the copied ones."""
    src = _filled(tmp_path / "state.db")
    before = (
        src.counts(),
        src.outbox_rows(),
        src.recent_alerts(10),
        src.sends_since("a", T0 - timedelta(1)),
    )
    src.close()
    code = main(["migrate-state", "--from", str(tmp_path / "state.db"), "--to", pg_url])
    assert code == 0, capsys.readouterr().err
    assert "outbox: 10 rows" in capsys.readouterr().out
    dst = Store(pg_url)
    try:
        after = (
            dst.counts(),
            dst.outbox_rows(),
            dst.recent_alerts(10),
            dst.sends_since("a", T0 - timedelta(1)),
        )
        assert after == before
        assert dst.load_source_state("wire").etag == '"e1"'
        assert dst.filter_unseen([article(1), article(9)]) == [article(9)]
        a = article(9, title="A new headline entirely")
        dst.record([a], [match(a)], config({"a": ("json://x",)}), T0)
        assert dst.recent_alerts(1)[0]["id"] == 6
    finally:
        dst.close()


def test_target_with_data_is_refused(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second copy into the same database is refused and changes nothing."""
    _filled(tmp_path / "state.db").close()
    argv = ["migrate-state", "--from", str(tmp_path / "state.db"), "--to", pg_url]
    assert main(argv) == 0
    assert main(argv) == 1
    assert "already holds" in capsys.readouterr().err
    dst = Store(pg_url)
    try:
        assert dst.counts()["alerts"] == 5
    finally:
        dst.close()


def test_extra_tables_are_copied_too(tmp_path: Path, pg_url: str) -> None:
    """A table a later migration adds (here made by hand on both sides) is copied as well."""
    _filled(tmp_path / "state.db").close()
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("CREATE TABLE extra_notes (id INTEGER PRIMARY KEY, rule TEXT NOT NULL)")
    db.execute("INSERT INTO extra_notes (rule) VALUES ('acme')")
    db.commit()
    db.close()
    dst = Store(pg_url)
    with dst.tx() as tx:
        tx.execute("CREATE TABLE extra_notes (id INTEGER PRIMARY KEY, rule TEXT NOT NULL)")
    dst.close()
    assert main(["migrate-state", "--from", str(tmp_path / "state.db"), "--to", pg_url]) == 0
    dst = Store(pg_url)
    try:
        assert [tuple(r) for r in dst.query("SELECT id, rule FROM extra_notes")] == [(1, "acme")]
    finally:
        dst.close()


def test_to_must_be_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--to naming anything but a postgresql:// URL is a usage error."""
    assert main(["migrate-state", "--from", str(tmp_path / "x.db"), "--to", "other.db"]) == 2
    assert "postgresql://" in capsys.readouterr().err
