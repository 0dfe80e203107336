"""Folder source failures a user can see and act on; UTF-16/32 feeds without a byte order mark."""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from watchlist.commands.status import render_status
from watchlist.commands.statusview import SourceStatus, StatusSnapshot
from watchlist.models import SourceConfig, SourceState
from watchlist.sources import make_source
from watchlist.sources.errors import SourceError
from watchlist.sources.parse import parse_bytes

REPO = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("WATCHLIST_CORPORA") or REPO.parent / "shared" / "corpora")
ENCODING = CORPORA / "feedparser-tests" / "encoding"


def _drop(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    old = time.time() - 10
    os.utime(path, (old, old))
    return path


def _poll(folder: Path, state: SourceState | None = None):  # type: ignore[no-untyped-def]
    state = state or SourceState()
    cfg = SourceConfig(name="inbox", type="folder", path=str(folder))
    return make_source(cfg, httpx.Client()).poll(state, datetime.now(UTC))


def test_unknown_type_is_logged_and_moved(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A file of a type the folder does not read gets a log line and goes to failed/."""
    _drop(tmp_path, "report.pdf", b"%PDF-1.4")
    with caplog.at_level(logging.WARNING, "watchlist.sources"):
        res = _poll(tmp_path)
    assert any("report.pdf: unknown file type '.pdf'" in r.getMessage() for r in caplog.records)
    assert res.on_commit is not None
    res.on_commit()
    assert (tmp_path / "failed" / "report.pdf").exists()
    reason = (tmp_path / "failed" / "report.pdf.error.txt").read_text()
    assert "the folder source reads *.json" in reason and "moved to failed/" in reason
    assert res.state.failed_files == 1


def test_errors_say_moved_not_retried(tmp_path: Path) -> None:
    """A broken file's error says it was moved to failed/, never that it will be retried."""
    _drop(tmp_path, "cut.xml", b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x')
    _drop(tmp_path, "bad.json", b'{"title": ')
    res = _poll(tmp_path, SourceState(failed_files=3))
    assert res.state.failed_files == 5
    assert res.state.last_error.endswith("; moved to failed/")
    assert "retried" not in res.state.last_error
    res.on_commit()
    for name in ("cut.xml", "bad.json"):
        text = (tmp_path / "failed" / f"{name}.error.txt").read_text()
        assert "moved to failed/" in text and "retried" not in text


def test_status_shows_failed_files_and_the_whole_error() -> None:
    """status shows how many files failed and the last error in full, not cut off."""
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    error = "/var/inbox/" + "x" * 120 + ".json: invalid JSON at line 1, column 9; moved to failed/"
    src = SourceStatus(
        "inbox",
        "folder",
        timedelta(seconds=30),
        last_poll=now,
        last_success=now,
        last_error=error,
        last_error_at=now - timedelta(minutes=2),
        failed_files=2,
    )
    out = render_status(StatusSnapshot(now, "/c.yaml", "/s.db", sources=(src,)))
    assert f"inbox: 2 files in failed/; last error (2m ago): {error}" in out


WIDE = [
    "u16.xml",
    "utf16.xml",
    "utf_16.xml",
    "utf-16be.xml",
    "utf-16le.xml",
    "utf-16be-autodetect.xml",
    "utf-16le-autodetect.xml",
    "utf_32.xml",
    "utf-32be.xml",
    "utf-32le.xml",
    "utf-32be-autodetect.xml",
    "utf-32le-autodetect.xml",
    "utf-32be-bom.xml",
]


@pytest.mark.parametrize("name", WIDE)
def test_utf16_and_utf32_feeds_are_read(name: str) -> None:
    """The feedparser corpus's UTF-16/32 feeds, with or without a byte order mark, parse."""
    path = ENCODING / name
    if not path.exists():
        pytest.skip(f"{path} not present (set WATCHLIST_CORPORA to the corpora folder)")
    parse_bytes(path.read_bytes(), name=name, source="s")  # raises SourceError if unread


@pytest.mark.parametrize("codec", ["utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"])
def test_wide_feed_without_bom_gives_its_items(codec: str) -> None:
    """A feed in UTF-16/32 without a byte order mark gives its items, text intact."""
    feed = (
        f'<?xml version="1.0" encoding="{codec}"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>科创板 listing: Größe</title></item></channel></rss>"
    )
    (article,) = parse_bytes(feed.encode(codec), name="f.xml", source="s")
    assert article.title == "科创板 listing: Größe"


def test_binary_is_still_refused() -> None:
    """Real binary data is still refused, not read as UTF-16."""
    with pytest.raises(SourceError, match="binary data"):
        parse_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, name="x.png", source="s")
