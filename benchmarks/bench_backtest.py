"""A backtest of 1,000 rules over 20,000 archived Reuters articles: the bar is under 30 s.

Fills a state file's archive with ``--articles`` Reuters articles (through
``Store.record``, as the daemon does), writes ``--rules`` rules (each a company from
the SEC list with its ticker; every third also needs a topic, every fifth excludes a
word) and then times, in this process:

- reading the archive alone (``Store.archived_articles``),
- ``watchlist.match.backtest.backtest`` over it (compile included), wall and CPU,

and, as a user runs it, ``watchlist backtest --since 3650d`` as a subprocess (output
piped, so no progress bar), wall and CPU (the child's user + system time). The bar is
judged on CPU time, the time one core spends on it: on an idle core wall time equals
it, on a shared machine wall time also counts other people's work. Pin it to one core:

    taskset -c 0 python benchmarks/bench_backtest.py
    python benchmarks/bench_backtest.py --articles 5000 --rules 200 --no-cli
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watchlist.config.loader import load_rules
from watchlist.match.backtest import backtest
from watchlist.models import Article, Config
from watchlist.sources.articles import make_article
from watchlist.store.sqlite import Store

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"
REUTERS = CORPORA / "reuters21578.jsonl"
SEC = CORPORA / "sec-company-tickers.json"
TOPICS = ["interest rates", "crude oil", "merger", "dividend", "acquisition", "earnings"]
BAR = 30.0  # seconds, one core


def load_articles(n: int) -> list[Article]:
    """The first ``n`` Reuters articles, normalised as a source would."""
    out: list[Article] = []
    with REUTERS.open(encoding="utf-8") as f:
        for line in f:
            out.append(make_article(json.loads(line), "reuters"))
            if len(out) >= n:
                break
    return out


def rules_yaml(n: int) -> str:
    """``n`` rules on SEC companies (name and ticker), some with a topic or an exclude."""
    sec = list(json.loads(SEC.read_text(encoding="utf-8")).values())
    lines = ["rules:"]
    for i, company in enumerate(sec[:n]):
        name = json.dumps(company["title"])
        lines.append(f"  - name: rule-{i}")
        lines.append(
            f"    companies: [{{name: {name}, aliases: [{json.dumps(company['ticker'])}]}}]"
        )
        if i % 3 == 0:
            lines.append(f"    topics: [{TOPICS[i % len(TOPICS)]}]")
        if i % 5 == 0:
            lines.append("    exclude: [rumour]")
    return "\n".join(lines) + "\n"


def fill(store: Store, articles: list[Article], now: datetime) -> None:
    """Archive ``articles`` as the daemon would: record batches of 100, no matches."""
    config = Config(path="bench")
    for i in range(0, len(articles), 100):
        store.record(articles[i : i + 100], [], config, now)


def main(argv: list[str] | None = None) -> int:
    """Measure and print; exit 1 when the backtest misses the bar."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--rules", type=int, default=1_000)
    ap.add_argument("--no-cli", action="store_true", help="skip the subprocess run")
    args = ap.parse_args(argv)
    if not (REUTERS.exists() and SEC.exists()):
        print(f"skipped: {CORPORA} is missing the Reuters or SEC file", file=sys.stderr)
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    articles = load_articles(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "rules").mkdir()
        (root / "rules" / "bench.yaml").write_text(rules_yaml(args.rules), encoding="utf-8")
        (root / "config.yaml").write_text("state: ./state.db\nrules: rules/\n", encoding="utf-8")
        rules = load_rules([root / "rules"])
        store = Store(root / "state.db")
        now = datetime.now(UTC) - timedelta(hours=1)
        t = time.perf_counter()
        fill(store, articles, now)
        filled = time.perf_counter() - t
        since = now - timedelta(days=1)

        t = time.perf_counter()
        count = sum(1 for _ in store.archived_articles(since))
        read = time.perf_counter() - t

        wall, cpu = time.perf_counter(), time.process_time()
        result = backtest(rules, store.archived_articles(since))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        store.close()
        print(f"{count} archived Reuters articles (filled in {filled:.1f} s), {len(rules)} rules, "
              f"{cores} core(s) allowed")  # fmt: skip
        print(f"reading the archive alone: {read:.2f} s ({count / read:,.0f} art/s)")
        print(
            f"backtest core: {wall:.2f} s wall, {cpu:.2f} s CPU ({count / wall:,.0f} art/s); "
            f"{result.total} matches in {sum(1 for r in result.rules if r.matches)} rules"
        )
        worst = cpu
        if not args.no_cli:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "watchlist", "backtest", "--since", "3650d"],
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            )
            cli = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cli_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            lines = done.stdout.count("\n")
            print(f"watchlist backtest (subprocess, piped): {cli:.2f} s wall, {cli_cpu:.2f} s CPU, "
                  f"exit {done.returncode}, {lines} lines; {done.stderr.strip()}")  # fmt: skip
            worst = max(worst, cli_cpu)
    verdict = "met" if worst < BAR else "MISSED"
    print(f"bar: under {BAR:.0f} s of one core's time: {verdict} ({worst:.1f} s CPU)")
    return 0 if worst < BAR else 1


if __name__ == "__main__":
    raise SystemExit(main())
