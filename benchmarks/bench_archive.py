"""What the archive costs: state size per 10,000 Reuters articles, intake speed with and without.

Runs the daemon's intake path (``Pipeline.process``: filter unseen, match, record in
one transaction, SQLite with synchronous=FULL as in production) over Reuters
articles in batches of ``--batch`` (one poll each), once with ``archive: 30d`` and
once with ``archive: off``, alternating ``--rounds`` times in this process; prints
articles/s (best round, wall and CPU), the ratio on/off (the bar: the archive must
not halve intake, ratio >= 0.5), the state file's size per 10,000 articles after
VACUUM, and what pruning 10,000 articles costs: total and the longest single batch
(the longest intake could wait for it).

    python benchmarks/bench_archive.py                    # 10,000 articles, 2 rounds
    python benchmarks/bench_archive.py --articles 2000 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchlist.config.loader import load_rules
from watchlist.daemon.pipeline import Pipeline, Runtime
from watchlist.models import Article, Config
from watchlist.sources.articles import make_article
from watchlist.store.archive import PRUNE_BATCH
from watchlist.store.sqlite import Store

REPO = Path(__file__).resolve().parents[1]
REUTERS = REPO.parent / "shared" / "corpora" / "reuters21578.jsonl"


def load_articles(n: int) -> list[Article]:
    """The first ``n`` Reuters articles, normalised as a source would."""
    out: list[Article] = []
    with REUTERS.open(encoding="utf-8") as f:
        for line in f:
            out.append(make_article(json.loads(line), "reuters"))
            if len(out) >= n:
                break
    return out


def intake(path: Path, articles: list[Article], config: Config, batch: int) -> tuple[float, float]:
    """(wall s, CPU s) to take ``articles`` in through the pipeline into a new state file."""
    store = Store(path)
    pipeline = Pipeline(store, Runtime.build(config))
    now = datetime.now(UTC) - timedelta(days=1)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(articles), batch):
        pipeline.process(articles[i : i + batch], now + timedelta(seconds=i))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    return wall, cpu


def size_after_vacuum(path: Path) -> int:
    """The state file's bytes once the WAL is folded in and free pages dropped."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.close()
    return path.stat().st_size


def prune_cost(path: Path) -> tuple[float, float, int]:
    """(total s, longest batch s, rows) to prune every archived article, batch by batch."""
    store = Store(path)
    longest, total, rows = 0.0, time.perf_counter(), 0
    while True:
        t = time.perf_counter()
        n = store.prune_archive(datetime.now(UTC) + timedelta(days=1), PRUNE_BATCH)
        longest = max(longest, time.perf_counter() - t)
        rows += n
        if n < PRUNE_BATCH:
            break
    store.close()
    return time.perf_counter() - total, longest, rows


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them; exit 1 when the archive halves intake."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=50, help="articles per poll (one transaction)")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    if not REUTERS.exists():
        print(f"skipped: {REUTERS} is missing (see ../shared/corpora)", file=sys.stderr)
        return 0
    articles = load_articles(args.articles)
    rules = load_rules([REPO / "rules"])
    on = Config(path="bench", rules=rules)
    off = Config(path="bench", rules=rules, archive=None)
    n = len(articles)
    best: dict[str, tuple[float, float]] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for label, config in (("off", off), ("on", on)):
                path = Path(tmp) / f"{label}-{r}.db"
                wall, cpu = intake(path, articles, config, args.batch)
                prev = best.get(label, (float("inf"), float("inf")))
                best[label] = (min(prev[0], wall), min(prev[1], cpu))
                print(f"round {r + 1} archive {label:>3}: {n / wall:7.0f} art/s wall, "
                      f"{n / cpu:7.0f} art/s CPU")  # fmt: skip
                if r == 0:
                    sizes[label] = size_after_vacuum(path)
        prune_total, prune_longest, pruned = prune_cost(Path(tmp) / "on-0.db")
    per = 10_000 / n
    ratio_wall = best["off"][0] / best["on"][0]
    ratio_cpu = best["off"][1] / best["on"][1]
    print(f"\n{n} Reuters articles, batches of {args.batch}, best of {args.rounds} rounds")
    print(
        f"intake, archive off: {n / best['off'][0]:7.0f} art/s wall, {n / best['off'][1]:7.0f} CPU"
    )
    print(f"intake, archive on:  {n / best['on'][0]:7.0f} art/s wall, {n / best['on'][1]:7.0f} CPU")
    print(f"ratio on/off: {ratio_wall:.2f} wall, {ratio_cpu:.2f} CPU (bar: >= 0.50)")
    print(
        f"state per 10,000 articles: {sizes['on'] * per / 1e6:.1f} MB with the archive, "
        f"{sizes['off'] * per / 1e6:.1f} MB without "
        f"(archive: {(sizes['on'] - sizes['off']) * per / 1e6:.1f} MB)"
    )
    print(
        f"pruning {pruned} articles: {prune_total:.2f} s in batches of {PRUNE_BATCH}, "
        f"longest batch {prune_longest * 1000:.0f} ms"
    )
    return 0 if min(ratio_wall, ratio_cpu) >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
