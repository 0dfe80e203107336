"""Tests for the folder source with real files: read once, done/ and failed/, settling, errors."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from watchlist.models import SourceConfig, SourceState
from watchlist.sources import make_source

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>From XML</title><guid>x1</guid></item></channel></rss>"
)


def now() -> datetime:
    """The real current time (file mtimes are real too)."""
    return datetime.now(UTC)


def drop(folder: Path, name: str, data: bytes, age: float = 10.0) -> Path:
    """Write a file and make it ``age`` seconds old."""
    path = folder / name
    path.write_bytes(data)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def source(folder: Path, **kw: object):  # type: ignore[no-untyped-def]
    """A folder source on ``folder``."""
    cfg = SourceConfig(name="inbox", type="folder", path=str(folder), **kw)  # type: ignore[arg-type]
    return make_source(cfg, httpx.Client())


def test_each_kind_read_once_then_moved_to_done(tmp_path: Path) -> None:
    """json, jsonl, txt and xml files are read, and moved to done/ after the commit."""
    drop(tmp_path, "a.json", json.dumps({"id": "j1", "title": "From JSON"}).encode())
    drop(tmp_path, "b.jsonl", b'{"id": "l1", "title": "L1"}\n{"id": "l2", "title": "L2"}\n')
    drop(tmp_path, "c.txt", b"From text\nbody")
    drop(tmp_path, "d.xml", RSS)
    drop(tmp_path, "ignored.csv", b"a,b")
    drop(tmp_path, ".hidden.json", b"{}")
    src = source(tmp_path)
    res = src.poll(SourceState(), now())
    assert sorted(a.title for a in res.articles) == [
        "From JSON",
        "From XML",
        "From text",
        "L1",
        "L2",
    ]
    assert {a.source for a in res.articles} == {"inbox"}
    assert res.state.articles == 5 and res.state.failures == 0
    assert res.on_commit is not None
    res.on_commit()
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [
        "a.json", "b.jsonl", "c.txt", "d.xml"
    ]  # fmt: skip
    assert (tmp_path / "failed" / "ignored.csv").exists()  # a type it does not read
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        ".hidden.json",
    ]
    again = src.poll(res.state, now())
    assert again.articles == () and again.on_commit is None


def test_without_commit_files_stay(tmp_path: Path) -> None:
    """If the commit never happens the files stay and are read again."""
    drop(tmp_path, "a.json", b'{"title": "x"}')
    src = source(tmp_path)
    first = src.poll(SourceState(), now())
    second = src.poll(first.state, now())
    assert [a.id for a in first.articles] == [a.id for a in second.articles]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("bad.json", b'{"title": ', "bad.json:1:11: not valid JSON"),
        ("empty.txt", b"", "empty.txt: empty"),
        ("page.xml", b"<html><body>x</body></html>", "got an HTML page"),
        ("bin.txt", b"\x00\x01\x02\x03\x04\x05", "binary data"),
        ("big.txt", b"x" * 2000, "larger than max_bytes (1000 bytes)"),
    ],
)
def test_bad_file_goes_to_failed_with_reason(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    """An unusable file goes to failed/ with <name>.error.txt; good files still go through."""
    drop(tmp_path, name, data)
    drop(tmp_path, "good.json", b'{"title": "fine"}')
    src = source(tmp_path, max_bytes=1000)
    res = src.poll(SourceState(), now())
    assert [a.title for a in res.articles] == ["fine"]
    assert reason in res.state.last_error
    assert res.state.failures == 0 and res.state.next_poll is None
    assert res.on_commit is not None
    res.on_commit()
    assert (tmp_path / "failed" / name).exists()
    assert reason in (tmp_path / "failed" / f"{name}.error.txt").read_text()
    assert (tmp_path / "done" / "good.json").exists()


def test_fresh_file_waits_for_next_poll(tmp_path: Path) -> None:
    """A file modified within the last second is left for the next poll."""
    drop(tmp_path, "new.json", b'{"title": "still writing"}', age=0.0)
    src = source(tmp_path)
    assert src.poll(SourceState(), now()).articles == ()
    time.sleep(1.1)
    assert [a.title for a in src.poll(SourceState(), now()).articles] == ["still writing"]


def test_same_name_twice_kept_apart_in_done(tmp_path: Path) -> None:
    """A second file with a name already in done/ is kept, not overwritten."""
    src = source(tmp_path)
    for title in ("one", "two"):
        drop(tmp_path, "same.json", json.dumps({"title": title}).encode())
        res = src.poll(SourceState(), now())
        assert res.on_commit is not None
        res.on_commit()
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["same.1.json", "same.json"]


def test_missing_folder_is_recorded_error(tmp_path: Path) -> None:
    """A folder that does not exist is a recorded error with backoff, never an exception."""
    src = source(tmp_path / "nope")
    t = now()
    res = src.poll(SourceState(), t)
    assert "no such folder; create it" in res.state.last_error
    assert res.state.failures == 1 and res.state.next_poll is not None
    (tmp_path / "nope").mkdir()
    ok = src.poll(res.state, res.state.next_poll)
    assert ok.state.failures == 0
