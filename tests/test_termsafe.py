"""Escape sequences in article titles never reach the terminal raw: console://, status, outbox."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from watchlist.daemon.termsafe import SafeStream, escape_controls

EVIL = "Nuclear fusion \x1b]0;pwned\x07 plant\x1b[2J\r opens \u202egnp.exe\x9b"


def test_escape_controls_shows_each_control_character() -> None:
    """ESC, BEL, CR, C1 and bidi overrides become visible escapes; newline and tab stay."""
    assert escape_controls("a\x1b[31mb\x07\r\u202e\x9b\tc\n") == (
        "a\\x1b[31mb\\x07\\x0d\\u202e\\x9b\tc\n"
    )
    assert escape_controls("科创板 IPO — fine") == "科创板 IPO — fine"


def test_safe_stream_escapes_and_delegates() -> None:
    """Writes are escaped; other attributes reach the wrapped stream."""
    raw = io.StringIO()
    out = SafeStream(raw)
    assert out.write("x\x1by") == 3
    out.writelines(["\x07", "z\n"])
    assert raw.getvalue() == "x\\x1by\\x07z\n"
    assert out.getvalue() == raw.getvalue()  # type: ignore[attr-defined]


def _watchlist(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_evil_title_is_escaped_in_console_status_and_outbox(tmp_path: Path) -> None:
    """A title full of escapes prints escaped in console://, status and outbox list."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    item = inbox / "a.json"
    item.write_text(json.dumps({"title": EVIL, "url": "https://n.example/evil"}))
    old = time.time() - 30
    os.utime(item, (old, old))
    (tmp_path / "rules.yaml").write_text(
        "- name: fusion\n  topics: [nuclear fusion]\n  notify: [console, dead]\n"
    )
    (tmp_path / "config.yaml").write_text(
        "state: ./state.db\nrules: rules.yaml\n"
        f"sources:\n  - name: inbox\n    type: folder\n    path: {inbox}\n    every: 30s\n"
        "channels:\n  console: console://\n  dead: json://127.0.0.1:9/never\n"
        "delivery:\n  timeout: 2s\n"
    )
    run = _watchlist("run", "--once", "-c", "config.yaml", cwd=tmp_path)
    status = _watchlist("status", "-c", "config.yaml", cwd=tmp_path)
    outbox = _watchlist("outbox", "list", "-c", "config.yaml", cwd=tmp_path)
    assert "fusion" in run.stdout and "\\x1b]0;pwned\\x07" in run.stdout, run.stdout + run.stderr
    assert "fusion" in status.stdout and "fusion" in outbox.stdout, outbox.stdout + outbox.stderr
    for out in (run, status, outbox):
        for raw in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
            assert raw not in out.stdout + out.stderr
