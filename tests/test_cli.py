"""The command line as a real subprocess: closed pipes, usage errors, input errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FEED = REPO / "examples" / "star-market-news.xml"
CONFIG = REPO / "config.example.yaml"


def watchlist(
    *args: str, cwd: Path = REPO, stdout: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m watchlist ARGS`` in ``cwd``; stderr captured as text."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")  # never pick up a real user config
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "-c", str(CONFIG), "--json", str(FEED)],
        ["scan", "-c", str(CONFIG), str(FEED)],
        ["explain", "-c", str(CONFIG), "star-market-future-industries", str(FEED)],
    ],
)
def test_closed_pipe_exits_quietly(args: list[str]) -> None:
    """Output into a pipe whose reader has gone (`| head`) ends without a traceback, exit 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        done = watchlist(*args, stdout=write_end)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == 1


def test_output_reaches_an_open_pipe() -> None:
    """With a reader present the same scan prints its matches and exits 0."""
    done = watchlist("scan", "-c", str(CONFIG), "--json", str(FEED))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('{"article": ')
