"""`scan` streams JSON Lines of any size, and shows progress only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

RULES = "- name: copper\n  keywords: [copper]\n  fields: [title]\n"


def watchlist(
    cwd: Path, *args: str, stdin: bytes | None = None, stderr: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    """``python -m watchlist ARGS`` in ``cwd`` with a clean environment."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=300,
    )


def big_jsonl(path: Path, count: int = 2600) -> int:
    """A JSON Lines file of more than 10 MB; every 13th title names copper. The copper count."""
    filler = "Markets were quiet as traders waited for the central bank. " * 70
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            title = f"Copper rises in session {i}" if i % 13 == 0 else f"Grain report {i}"
            fh.write(json.dumps({"id": f"n{i}", "title": title, "body": filler}) + "\n")
    assert path.stat().st_size > 10 * 1024 * 1024
    return len(range(0, count, 13))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A folder with rules.yaml and big.jsonl (over 10 MB), and big.jsonl's copper count."""
    root = tmp_path_factory.mktemp("stream")
    (root / "rules.yaml").write_text(RULES, encoding="utf-8")
    return root, big_jsonl(root / "big.jsonl")


@pytest.mark.slow
def test_a_jsonl_file_over_10_mb_is_streamed(folder: tuple[Path, int]) -> None:
    """Every line of a file larger than the old 10 MB cap is read and matched; no bar piped."""
    root, copper = folder
    done = watchlist(root, "scan", "--rules", "rules.yaml", "big.jsonl")
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode() == f"{copper} matches in 2600 articles\n"
    got = watchlist(root, "scan", "--rules", "rules.yaml", "--json", "big.jsonl")
    ids = [json.loads(line)["article"] for line in got.stdout.splitlines()]
    assert ids == [f"n{i}" for i in range(0, 2600, 13)]


@pytest.mark.slow
def test_jsonl_on_stdin_is_streamed(folder: tuple[Path, int]) -> None:
    """``-`` reads JSON Lines from standard input the same way."""
    root, copper = folder
    done = watchlist(
        root, "scan", "--rules", "rules.yaml", "-", stdin=(root / "big.jsonl").read_bytes()
    )
    assert (done.returncode, done.stderr.decode()) == (0, f"{copper} matches in 2600 articles\n")


@pytest.mark.slow
def test_a_large_document_that_is_not_jsonl_is_refused_with_advice(tmp_path: Path) -> None:
    """Over 10 MB and not JSON Lines: a clear error saying what scan can stream."""
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "big.txt").write_text("Copper\n" + "word " * 2_200_000, encoding="utf-8")
    done = watchlist(tmp_path, "scan", "--rules", "rules.yaml", "big.txt")
    assert done.returncode == 1
    err = done.stderr.decode()
    assert "big.txt: more than 10 MB and not JSON Lines" in err and "convert it" in err


def test_a_bad_line_is_reported_after_the_lines_before_it(tmp_path: Path) -> None:
    """Lines before a broken one are matched; the error names path:line:column; exit 1."""
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    lines = ['{"id": "1", "title": "Copper up"}', '{"id": "2", "title": "Copper down"}', "{oops"]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = watchlist(tmp_path, "scan", "--rules", "rules.yaml", "--json", "a.jsonl")
    assert done.returncode == 1
    assert [json.loads(ln)["article"] for ln in done.stdout.splitlines()] == ["1", "2"]
    assert "a.jsonl:3:2: not valid JSON Lines" in done.stderr.decode()


def test_single_documents_still_read_whole(tmp_path: Path) -> None:
    """A pretty-printed JSON object and {"articles": [...]} on one line are not JSON Lines."""
    (tmp_path / "rules.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "a.json").write_text('{\n  "id": "p", "title": "Copper"\n}\n', encoding="utf-8")
    (tmp_path / "b.json").write_text(
        json.dumps({"articles": [{"id": "q", "title": "Copper"}, {"id": "r", "title": "x"}]}),
        encoding="utf-8",
    )
    done = watchlist(tmp_path, "scan", "--rules", "rules.yaml", "--json", "a.json", "b.json")
    assert done.returncode == 0, done.stderr
    assert [json.loads(ln)["article"] for ln in done.stdout.splitlines()] == ["p", "q"]


@pytest.mark.slow
def test_progress_bar_on_a_terminal_only(folder: tuple[Path, int]) -> None:
    """With standard error on a terminal a bar is drawn there; stdout keeps only matches."""
    root, copper = folder
    master, slave = pty.openpty()
    seen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = watchlist(root, "scan", "--rules", "rules.yaml", "--json", "big.jsonl", stderr=slave)
    finally:
        os.close(slave)
        reader.join(5)
        os.close(master)
    assert done.returncode == 0
    assert len(done.stdout.splitlines()) == copper
    assert b"scan" in seen and b"MB" in seen  # the bar: its label and the bytes read
