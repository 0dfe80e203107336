"""The reference matcher: SPEC's definition by brute force, every term against every run.

Deliberately plain: for each enabled rule, group, entry, term and field, try every
run of 1 to k+1 words and keep the runs that pass ``match_run``, the threshold and
the capital rule; for each of the entry's tickers, look at everything written as a
ticker. ``assemble`` then judges the evidence and selects hits. The fast matcher must
give exactly this output.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from watchlist.match.assemble import (
    Found,
    accepts,
    assemble,
    entry_threshold,
    rule_fields,
    rule_groups,
)
from watchlist.match.evidence import entry_keys, find_tickers, ticker_names
from watchlist.match.normalize import NormText, normalize
from watchlist.match.terms import match_run, max_run
from watchlist.models import FIELDS, Article, Entry, Match, Rule


def ticker_runs(norm: NormText, tickers: Sequence[str]) -> list[tuple[int, int, int]]:
    """(ticker index, i, j): the words of each symbol written as one of ``tickers``."""
    out: list[tuple[int, int, int]] = []
    for symbol, start, end in find_tickers(norm.source):
        names = ticker_names(symbol)
        for n, t in enumerate(tickers):
            if t in names:
                i = bisect_left(norm.starts, start)
                j = bisect_left(norm.starts, end)
                if i < j:
                    out.append((n, i, j))
    return out


def entry_runs(rule: Rule, group: str, ei: int, entry: Entry, norms: dict[str, NormText]) -> Found:
    """Every accepted run of one entry, brute force."""
    found: Found = {}
    t = entry_threshold(rule, entry)
    for ti, key in enumerate(entry_keys(entry, group)):
        if key is None:
            continue
        for fname in rule_fields(rule):
            norm = norms[fname]
            n = len(norm.texts)
            for length in range(1, max_run(key) + 1):
                for i in range(n - length + 1):
                    got = match_run(key, norm, i, i + length, t)
                    if got is not None and accepts(rule, group, entry, norm, got[0], i):
                        found.setdefault((group, ei, fname), []).append((got[0], i, i + length, ti))
    if entry.tickers:
        nt = len(entry.terms)
        for fname in rule_fields(rule):
            for n_t, i, j in ticker_runs(norms[fname], entry.tickers):
                found.setdefault((group, ei, fname), []).append((100.0, i, j, nt + n_t))
    return found


def oracle_rule(rule: Rule, article: Article, norms: dict[str, NormText]) -> Match | None:
    """Match one rule by brute force."""
    found: Found = {}
    for group, entries in rule_groups(rule):
        for ei, entry in enumerate(entries):
            found.update(entry_runs(rule, group, ei, entry, norms))
    return assemble(rule, article, found, norms)


def oracle_match(rules: Sequence[Rule], article: Article) -> list[Match]:
    """Every enabled rule that matches ``article``, in rule order (brute force)."""
    norms = {f: normalize(article.field(f)) for f in FIELDS}
    out: list[Match] = []
    for rule in rules:
        if not rule.enabled:
            continue
        m = oracle_rule(rule, article, norms)
        if m is not None:
            out.append(m)
    return out
