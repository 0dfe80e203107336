"""`watchlist init`: a starter config and rules that pass check and run, shipped in the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from watchlist.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_init_writes_a_starter_that_checks_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """init writes config.yaml, rules/ and inbox/; check passes; run --once alerts on a drop."""
    assert main(["init", str(tmp_path)]) == 0
    assert "next: watchlist check -c" in capsys.readouterr().out
    cfg = tmp_path / "config.yaml"
    assert cfg.is_file() and (tmp_path / "rules" / "example.yaml").is_file()
    assert (tmp_path / "inbox").is_dir()
    assert main(["check", "-c", str(cfg)]) == 0
    assert "OK — 2 rules from 1 file, 1 source, 1 channel" in capsys.readouterr().out
    drop = tmp_path / "inbox" / "a.json"
    drop.write_text(json.dumps({"id": "x1", "title": "Fusion power start-up raises funding"}))
    old = time.time() - 10
    os.utime(drop, (old, old))
    done = subprocess.run(
        [sys.executable, "-m", "watchlist", "run", "--once", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[fusion-energy] Fusion power start-up raises funding")


def test_init_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second init writes nothing and says why; --force overwrites."""
    assert main(["init", str(tmp_path)]) == 0
    cfg = tmp_path / "config.yaml"
    cfg.write_text("# mine\n")
    capsys.readouterr()
    assert main(["init", str(tmp_path)]) == 1
    assert "already exist; nothing written" in capsys.readouterr().err
    assert cfg.read_text() == "# mine\n"
    assert main(["init", "--force", str(tmp_path)]) == 0
    assert "state: ./watchlist.db" in cfg.read_text()


@pytest.mark.slow
def test_starter_is_package_data(tmp_path: Path) -> None:
    """The wheel carries the starter, so `watchlist init` works after a plain pip install."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True,
        timeout=300,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("watchlist-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"watchlist/starter/config.yaml", "watchlist/starter/rules/example.yaml"} <= names
