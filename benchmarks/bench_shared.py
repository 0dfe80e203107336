"""Benchmark: rules that share terms cost their hits, not one assembly per rule.

Builds ``--rules`` rules (default 1,000) of 3 SEC companies, 2 topics and an exclude
each, the topics drawn from a short list so that each is shared by many rules
(bench_daemon's realistic set), and one rule holding the same terms (every company,
every topic, every exclude). Matches the same Reuters articles with both, in this
process, on one core, and prints articles/s per CPU second for each and their ratio:
the cost of splitting the terms into many rules. Also counts the rules assembled per
article (``assemble`` calls) against the rules that match.

    python benchmarks/bench_shared.py
    python benchmarks/bench_shared.py --rules 5000 --articles 3000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_daemon
from bench_match import REUTERS, SEC, load_articles

from watchlist.match import build_matcher
from watchlist.match import fast as fast_module
from watchlist.models import Article, Entry, Rule


def many_rules(n: int) -> list[Rule]:
    """``n`` rules of 3 companies, 2 shared topics and an exclude each."""
    rng = random.Random(14)
    names = bench_daemon.companies()
    topics = bench_daemon.reuters_topics()[:40]
    return [
        Rule(
            name=f"watch-{i:05d}",
            companies=tuple(Entry(name=c) for c in rng.sample(names, 3)),
            topics=tuple(Entry(name=t) for t in rng.sample(topics, 2)),
            exclude=(Entry(name=rng.choice(bench_daemon.EXCLUDES)),),
        )
        for i in range(n)
    ]


def one_rule(rules: Sequence[Rule]) -> Rule:
    """One rule with every company, topic and exclude of ``rules``."""

    def union(entries: list[Entry]) -> tuple[Entry, ...]:
        return tuple({e.name: e for e in entries}.values())

    return Rule(
        name="everything",
        companies=union([e for r in rules for e in r.companies]),
        topics=union([e for r in rules for e in r.topics]),
        exclude=union([e for r in rules for e in r.exclude]),
    )


def run(rules: Sequence[Rule], articles: Sequence[Article]) -> tuple[float, int, int]:
    """(articles per CPU second, assemble calls, matches) for ``rules`` over ``articles``."""
    matcher = build_matcher(rules)
    calls = 0
    real = fast_module.assemble

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    fast_module.assemble = counted  # type: ignore[assignment]
    try:
        for a in articles[:50]:  # warm the fuzzy cache as a running daemon has it
            matcher.match(a)
        calls = 0
        start = time.process_time()
        found = sum(len(matcher.match(a)) for a in articles)
        cpu = time.process_time() - start
    finally:
        fast_module.assemble = real
    return len(articles) / cpu, calls, found


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rules", type=int, default=1000)
    p.add_argument("--articles", type=int, default=2000)
    args = p.parse_args(argv)
    if not (REUTERS.exists() and SEC.exists()):
        print(f"skipped: the corpora are not at {REUTERS.parent}", file=sys.stderr)
        return 0
    articles = load_articles(args.articles)
    rules = many_rules(args.rules)
    single = one_rule(rules)
    one_speed, _, _ = run([single], articles)
    many_speed, many_calls, matches = run(rules, articles)
    print(
        f"{args.rules} rules sharing 40 topics, {len(articles)} Reuters articles, one core:\n"
        f"  the same terms in one rule: {one_speed:,.0f} art/s (CPU)\n"
        f"  {args.rules} rules:              {many_speed:,.0f} art/s (CPU); "
        f"{many_calls / len(articles):.2f} rules assembled per article for "
        f"{matches / len(articles):.3f} matches\n"
        f"  cost of the split: {one_speed / many_speed:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
