"""Tests for read_inputs (watchlist scan/explain inputs) and make_source."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from localserver import LocalServer, Route

from watchlist.models import SourceConfig
from watchlist.sources import FeedSource, FolderSource, SourceError, make_source, read_inputs

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Over HTTP</title><guid>h1</guid></item></channel></rss>"
)


def test_files_folders_and_urls(tmp_path: Path, http_server: LocalServer) -> None:
    """Files, a folder of files and an http URL are all read, in order."""
    (tmp_path / "one.json").write_text(json.dumps({"id": "f1", "title": "File"}))
    sub = tmp_path / "dir"
    sub.mkdir()
    (sub / "a.txt").write_text("Folder text\nbody")
    (sub / "skip.csv").write_text("x")
    http_server.routes["/feed.xml"] = Route(200, FEED, {"Content-Type": "application/rss+xml"})
    arts = read_inputs([str(tmp_path / "one.json"), str(sub), http_server.url("/feed.xml")])
    assert [a.title for a in arts] == ["File", "Folder text", "Over HTTP"]
    assert arts[0].source == str(tmp_path / "one.json")


def test_stdin_in_subprocess() -> None:
    """`-` reads standard input (in a real subprocess)."""
    code = (
        "from watchlist.sources import read_inputs\n"
        "for a in read_inputs(['-']): print(a.id, a.title, a.source)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=b'{"id": "s1", "title": "Piped"}',
        capture_output=True, check=True, timeout=30,
    ).stdout.decode()  # fmt: skip
    assert out.strip() == "s1 Piped stdin"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, s: str(p / "missing.json"), "missing.json: no such file"),
        (lambda p, s: s.url("/nothing"), "not found (HTTP 404)"),
        (lambda p, s: str(p), "empty"),
    ],
)
def test_bad_inputs_raise_source_error(
    tmp_path: Path, http_server: LocalServer, make: object, message: str
) -> None:
    """A missing file, a 404 URL or garbage raise SourceError with a clear message."""
    (tmp_path / "blank.txt").write_text("  \n")
    with pytest.raises(SourceError, match=re.escape(message)):
        read_inputs([make(tmp_path, http_server)])  # type: ignore[operator]


def test_make_source_types(tmp_path: Path) -> None:
    """rss and folder configs give their sources; http is refused with a pointer."""
    with httpx.Client() as client:
        rss = make_source(SourceConfig(name="r", type="rss", url="https://ex.com/f"), client)
        folder = make_source(SourceConfig(name="f", type="folder", path=str(tmp_path)), client)
        assert isinstance(rss, FeedSource) and rss.name == "r"
        assert isinstance(folder, FolderSource) and folder.name == "f"
        with pytest.raises(ValueError, match="IngestServer"):
            make_source(SourceConfig(name="h", type="http", listen=":0"), client)
