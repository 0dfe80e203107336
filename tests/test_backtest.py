"""Backtests: the daemon archives what it sees, and `backtest` over it agrees with `scan`."""

from __future__ import annotations

import json
import os
import pty
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchlist.match.backtest import PROGRESS_EVERY, backtest, diff
from watchlist.models import Article, Entry, Rule

RULES = """\
rules:
  - name: star
    exchanges: [{name: STAR Market, aliases: [Sci-Tech Innovation Board]}]
    keywords: [{name: IPO, aliases: [IPOs]}, listing]
    exclude: [opinion]
  - name: fusion
    topics: [nuclear fusion, quantum computing]
  - name: copper
    keywords: [copper]
    fields: [title]
"""
# The version under review: star also excludes "tin", copper is gone, tin is new.
NEXT_RULES = """\
rules:
  - name: star
    exchanges: [{name: STAR Market, aliases: [Sci-Tech Innovation Board]}]
    keywords: [{name: IPO, aliases: [IPOs]}, listing]
    exclude: [opinion, tin]
  - name: fusion
    topics: [nuclear fusion, quantum computing]
  - name: tin
    keywords: [tin]
"""
NEWS = (
    "the market rose as traders said shares fell copper tin gold Shanghai STAR Market "
    "IPO IPOs listing opinion nuclear fusion quantum computing Sci-Tech Innovation Board "
    "board start-up listings star marketing fusions"
)
WORDS = NEWS.split()


def generated(count: int, seed: int = 11) -> list[dict[str, str]]:
    """``count`` articles of random news words (some match, some nearly do)."""
    rnd = random.Random(seed)

    def text(n: int) -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(n))

    return [
        {
            "id": f"gen-{i}",
            "title": text(8).capitalize(),
            "summary": text(12),
            "body": text(40),
            "url": f"https://news.example/{i}",
            "published": (datetime(2026, 11, 30, tzinfo=UTC) - timedelta(minutes=i)).isoformat(),
        }
        for i in range(count)
    ]


def watchlist(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m watchlist ARGS`` in ``cwd`` with a clean environment; output captured."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project whose daemon (`run --once`) read 300 generated articles from a folder."""
    root = tmp_path_factory.mktemp("backtest")
    (root / "rules").mkdir()
    (root / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
    (root / "next.yaml").write_text(NEXT_RULES, encoding="utf-8")
    (root / "inbox").mkdir()
    (root / "config.yaml").write_text(
        "state: ./state.db\nrules: rules/\n"
        "sources:\n  - {name: inbox, type: folder, path: ./inbox, every: 1h}\n",
        encoding="utf-8",
    )
    feed = root / "inbox" / "news.jsonl"
    feed.write_text("".join(json.dumps(a) + "\n" for a in generated(300)), encoding="utf-8")
    old = time.time() - 60
    os.utime(feed, (old, old))  # settled: the folder source reads it now
    done = watchlist(root, "run", "--once")
    assert done.returncode == 0, done.stderr
    assert (root / "inbox" / "done" / "news.jsonl").exists()
    yield root


def found(lines: str) -> dict[tuple[str, str], list[tuple[object, ...]]]:
    """(article, rule) -> the hits, from ``--json`` output."""
    out = {}
    for line in lines.splitlines():
        obj = json.loads(line)
        hits = [
            tuple(h[k] for k in ("group", "entry", "field", "start", "end")) for h in obj["hits"]
        ]
        out[(obj["article"], obj["rule"])] = hits
    return out


def dump(path: Path) -> list[str]:
    """Every row of the state file, as SQL."""
    db = sqlite3.connect(path)
    try:
        return list(db.iterdump())
    finally:
        db.close()


def test_backtest_agrees_with_scan_of_the_same_articles(project: Path) -> None:
    """Every (article, rule) match and its hits are the same as scan gives."""
    scan = watchlist(project, "scan", "--json", "inbox/done/news.jsonl")
    back = watchlist(project, "backtest", "--json", "--since", "1d")
    assert scan.returncode == back.returncode == 0, back.stderr
    expected = found(scan.stdout)
    assert len({rule for _, rule in expected}) == 3 and len(expected) > 30
    assert found(back.stdout) == expected
    assert back.stderr == ""  # piped: no progress bar, and --json prints no summary


def test_backtest_text_lists_each_rule_then_its_articles(project: Path) -> None:
    """Per rule: the count, then time, title and hits of each article, newest first."""
    back = watchlist(project, "backtest")
    assert back.returncode == 0, back.stderr
    lines = back.stdout.splitlines()
    heads = [ln for ln in lines if not ln.startswith(" ")]
    counts = {h.split(":")[0]: int(h.split(": ")[1].split()[0]) for h in heads}
    scan = found(watchlist(project, "scan", "--json", "inbox/done/news.jsonl").stdout)
    assert counts == {
        r: sum(1 for _, rule in scan if rule == r) for r in ("star", "fusion", "copper")
    }
    first = lines[lines.index(heads[0]) + 1]
    assert re.match(r"   2026-11-(29|30) \d\d:\d\d UTC  \S", first), first
    assert back.stderr.startswith("backtest: 300 archived articles since ")


def test_diff_shows_what_the_rules_at_path_add_and_drop(project: Path) -> None:
    """--diff: exactly the difference of the two scans, per rule; the state is untouched."""
    before = dump(project / "state.db")
    got = watchlist(project, "backtest", "--rules", "next.yaml", "--diff", "--json")
    assert got.returncode == 0, got.stderr
    old = found(watchlist(project, "scan", "--json", "inbox/done/news.jsonl").stdout)
    new = found(
        watchlist(project, "scan", "--rules", "next.yaml", "--json", "inbox/done/news.jsonl").stdout
    )
    changes = {
        (json.loads(ln)["change"], json.loads(ln)["article"], json.loads(ln)["rule"])
        for ln in got.stdout.splitlines()
    }
    expected = {("added", a, r) for a, r in new.keys() - old.keys()} | {
        ("dropped", a, r) for a, r in old.keys() - new.keys()
    }
    assert changes == expected
    assert {r for _, _, r in changes} == {"star", "copper", "tin"}
    assert dump(project / "state.db") == before

    text = watchlist(project, "backtest", "--rules", "next.yaml", "--diff")
    assert "tin (new rule): +" in text.stdout and "copper (not at PATH): +0 -" in text.stdout
    heads = [ln.split(":")[0] for ln in text.stdout.splitlines() if not ln.startswith(" ")]
    assert heads == ["star", "tin (new rule)", "copper (not at PATH)"]  # fusion: unchanged


def test_usage_and_state_errors(project: Path, tmp_path: Path) -> None:
    """--diff needs --rules, --since must parse (exit 2); a missing state file is exit 1."""
    assert watchlist(project, "backtest", "--diff").returncode == 2
    bad = watchlist(project, "backtest", "--since", "soon")
    assert bad.returncode == 2 and "--since soon" in bad.stderr
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(RULES, encoding="utf-8")
    (tmp_path / "config.yaml").write_text("rules: rules/\n", encoding="utf-8")
    missing = watchlist(tmp_path, "backtest")
    assert missing.returncode == 1 and "no state file" in missing.stderr
    assert not (tmp_path / "watchlist.db").exists()


def rule(name: str, *words: str) -> Rule:
    """A rule on keywords ``words``."""
    return Rule(name=name, keywords=tuple(Entry(w) for w in words))


def test_backtest_core_progress_and_diff() -> None:
    """progress is told the count done; diff is per rule, both ways, kept counted."""
    arts = [Article(id=str(i), title="copper" if i % 2 else "tin", source="s") for i in range(450)]
    seen: list[int] = []
    old = backtest([rule("metal", "copper"), rule("gone", "tin")], iter(arts), progress=seen.append)
    assert seen == [PROGRESS_EVERY, 2 * PROGRESS_EVERY, 450]
    assert (old.articles, old.total, len(old.get("metal").matches)) == (450, 450, 225)  # type: ignore[union-attr]
    new = backtest([rule("metal", "copper", "tin"), rule("fresh", "zinc")], arts)
    d = diff(old, new)
    metal, fresh, gone = (d.get(n) for n in ("metal", "fresh", "gone"))
    assert metal and (len(metal.added), len(metal.dropped), metal.kept) == (225, 0, 225)
    assert fresh and (fresh.in_old, fresh.in_new, fresh.added) == (False, True, ())
    assert gone and (gone.in_new, len(gone.dropped)) == (False, 225)
    assert [r.rule for r in d.changed] == ["metal", "gone"]


def test_progress_bar_on_a_terminal_leaves_piped_stdout_alone(project: Path) -> None:
    """With standard error on a terminal the bar is drawn there; stdout is the same as piped."""
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
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "watchlist", "backtest", "--json"],
            cwd=project,
            env={**env, "XDG_CONFIG_HOME": str(project / "xdg")},
            stdout=subprocess.PIPE,
            stderr=slave,
            timeout=120,
        )
    finally:
        os.close(slave)
        reader.join(5)
        os.close(master)
    assert done.returncode == 0
    piped = watchlist(project, "backtest", "--json")
    assert done.stdout.decode() == piped.stdout
    assert b"backtest" in seen and b"articles" in seen
