"""Benchmark of the fast matcher against the oracle on the Reuters corpus.

Terms: the SEC company names (entries in ``companies``, each with its ticker in
``tickers``), topic phrases (``topics``), and for 100k generated company-like
variants. Prints, per (terms, threshold): articles/s on one core (wall clock, and per
second of this process's CPU time, which other jobs on the machine do not inflate), MB/s, p50 and
p99 per article, compile time, compile peak memory (tracemalloc), matches per
article, and the speed ratio to the oracle on a sample -- and checks fast ==
oracle on that sample (exit 1 on any difference).

    python benchmarks/bench_match.py                 # 1k, 10k, 100k terms x 85, 90
    python benchmarks/bench_match.py --quick         # fewer articles, smaller oracle sample
    python benchmarks/bench_match.py --terms 10000 --thresholds 88 --articles 2000
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from watchlist.match import build_matcher, oracle_match
from watchlist.models import Article, Entry, Rule

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
REUTERS = CORPORA / "reuters21578.jsonl"
SEC = CORPORA / "sec-company-tickers.json"

TOPICS = [
    "interest rates", "crude oil", "trade deficit", "money supply", "central bank",
    "initial public offering", "merger agreement", "hostile takeover", "stock split",
    "quarterly dividend", "net loss", "net profit", "coffee prices", "cocoa exports",
    "grain exports", "wheat harvest", "soybean crop", "sugar quota", "gold reserves",
    "foreign exchange", "balance of payments", "budget deficit", "inflation rate",
    "unemployment rate", "industrial production", "consumer prices", "retail sales",
    "housing starts", "bond yields", "treasury bills", "oil output", "natural gas",
    "tender offer", "leveraged buyout", "debt rescheduling", "trade talks",
    "export subsidies", "import tariffs", "currency intervention", "prime rate",
    "capital spending", "shipping strike", "rubber agreement", "tin council",
    "artificial intelligence", "quantum computing", "nuclear fusion",
    "brain-computer interface", "large language model", "semiconductor shortage",
]  # fmt: skip
SUFFIXES = [
    "Holdings", "Group", "International", "Capital", "Partners", "Technologies",
    "Energy", "Financial", "Bancorp", "Trust", "Industries", "Resources", "Systems",
    "Pharmaceuticals", "Therapeutics", "Acquisition", "Investment", "Realty", "Global",
]  # fmt: skip
PREFIXES = ["First", "New", "American", "Global", "United", "National", "Pacific", "Western"]
LEGAL = ["Inc", "Inc.", "Corp", "Co", "Ltd", "LLC", "PLC", ""]


def load_articles(n: int) -> list[Article]:
    """The first ``n`` Reuters articles with a body."""
    out: list[Article] = []
    with REUTERS.open(encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d.get("body"):
                out.append(Article(id=d["id"], title=d.get("title", ""), body=d["body"]))
                if len(out) >= n:
                    break
    return out


def load_entries(total_terms: int) -> tuple[list[Entry], list[Entry]]:
    """(company entries, topic entries) holding ``total_terms`` names and aliases in all."""
    sec = json.loads(SEC.read_text(encoding="utf-8"))
    companies = [Entry(name=v["title"], tickers=(v["ticker"],)) for v in sec.values()]
    topics = [Entry(name=t) for t in TOPICS]
    rng = random.Random(7)
    words = [c.name.split()[0] for c in companies if c.name.split()[0].isalpha()]
    seen = {c.name.casefold() for c in companies}
    have = sum(len(c.terms) for c in companies) + len(topics)
    while have < total_terms:
        parts = [rng.choice(words).title(), rng.choice(SUFFIXES)]
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(PREFIXES))
        if rng.random() < 0.3:
            parts.insert(1, rng.choice(words).title())
        name = " ".join([*parts, rng.choice(LEGAL)]).strip()
        if name.casefold() not in seen:
            seen.add(name.casefold())
            companies.append(Entry(name=name))
            have += 1
    out_c: list[Entry] = []
    count = len(topics)
    for c in companies:
        if count >= total_terms:
            break
        out_c.append(c)
        count += len(c.terms)
    return out_c, topics


def make_rules(companies: Sequence[Entry], topics: Sequence[Entry], t: float) -> list[Rule]:
    """Rules of 200 company entries each, plus one topic rule; require any."""
    rules = [
        Rule(name=f"companies-{n}", companies=tuple(companies[n : n + 200]), threshold=t)
        for n in range(0, len(companies), 200)
    ]
    rules.append(Rule(name="topics", topics=tuple(topics), threshold=t))
    return rules


def pct(values: list[float], q: float) -> float:
    """The q-quantile of ``values``."""
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def bench(
    terms: int, t: float, articles: list[Article], oracle_n: int
) -> tuple[dict[str, float], int]:
    """One setting's figures, and how many sample articles differ from the oracle."""
    companies, topics = load_entries(terms)
    rules = make_rules(companies, topics, t)
    nterms = sum(len(e.terms) for r in rules for _, es in r.groups() for e in es)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    matcher = build_matcher(rules)
    compile_s, compile_cpu = time.perf_counter() - t0, time.process_time() - c0
    del matcher
    gc.collect()
    tracemalloc.start()
    matcher = build_matcher(rules)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times: list[float] = []
    matches = 0
    nbytes = 0
    cpu0 = time.process_time()
    for a in articles:
        nbytes += len(a.title.encode()) + len(a.body.encode())
        s = time.perf_counter()
        matches += len(matcher.match(a))
        times.append(time.perf_counter() - s)
    total = sum(times)
    cpu = time.process_time() - cpu0
    sample = articles[:oracle_n]
    fast_s = oracle_s = 0.0
    diffs = 0
    for a in sample:
        s = time.perf_counter()
        got = matcher.match(a)
        fast_s += time.perf_counter() - s
        s = time.perf_counter()
        want = oracle_match(rules, a)
        oracle_s += time.perf_counter() - s
        if got != want:
            diffs += 1
            print(f"DIFFERENCE on {a.id}:\n fast   {got}\n oracle {want}", file=sys.stderr)
    return {
        "terms": nterms,
        "threshold": t,
        "art_s": len(articles) / total,
        "cpu_art_s": len(articles) / cpu if cpu else float("nan"),
        "compile_cpu": compile_cpu,
        "mb_s": nbytes / total / 1e6,
        "p50_ms": statistics.median(times) * 1e3,
        "p99_ms": pct(times, 0.99) * 1e3,
        "compile_s": compile_s,
        "peak_mb": peak / 1e6,
        "matches": matches / len(articles),
        "ratio": oracle_s / fast_s if fast_s else float("nan"),
        "sample": len(sample),
    }, diffs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if the fast matcher differs from the oracle."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--articles", type=int, default=2000, help="Reuters articles to match")
    p.add_argument("--terms", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--thresholds", type=float, nargs="+", default=[85.0, 90.0])
    p.add_argument(
        "--oracle-articles",
        type=int,
        default=None,
        help="oracle sample size (default: 20 at <=1k terms, 3 at <=10k, 1 above)",
    )
    p.add_argument("--quick", action="store_true", help="500 articles, smaller oracle sample")
    args = p.parse_args(argv)
    if not REUTERS.exists() or not SEC.exists():
        print(f"corpora not found under {CORPORA}", file=sys.stderr)
        return 2
    n_articles = 500 if args.quick else args.articles
    articles = load_articles(n_articles)
    header = (
        f"{'terms':>7} {'thr':>4} {'art/s':>8} {'cpu a/s':>8} {'MB/s':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'compile s':>9} {'cpu s':>7} {'peak MB':>8} {'match/art':>9} "
        f"{'x oracle':>8} {'sample':>6} diffs"
    )
    print(f"{len(articles)} Reuters articles, one core\n{header}")
    bad = 0
    for terms in args.terms:
        for t in args.thresholds:
            if args.oracle_articles is not None:
                on = args.oracle_articles
            else:
                on = 20 if terms <= 1000 else 3 if terms <= 10000 else 1
                on = max(1, on // 2) if args.quick else on
            r, diffs = bench(terms, t, articles, on)
            bad += diffs
            print(
                f"{r['terms']:>7} {r['threshold']:>4.0f} {r['art_s']:>8.0f} "
                f"{r['cpu_art_s']:>8.0f} {r['mb_s']:>6.2f} "
                f"{r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['compile_s']:>9.2f} "
                f"{r['compile_cpu']:>7.2f} "
                f"{r['peak_mb']:>8.1f} {r['matches']:>9.2f} {r['ratio']:>8.0f} "
                f"{r['sample']:>6} {diffs}",
                flush=True,
            )
    if bad:
        print(f"FAIL: {bad} sample articles differ from the oracle", file=sys.stderr)
        return 1
    print("fast == oracle on every sample article")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
