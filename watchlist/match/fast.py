"""The fast matcher: every rule's terms compiled once into an index with the oracle's results.

A run can match a term in two ways only (``terms.match_run``), and each has an index
that proposes every such run:

* **word by word** (a run of the term's k words): one word of the term, the *anchor*,
  must stand in the run as one of its forms -- the first word that may not be fuzzy
  (5 characters or fewer, digits, ``exact``), as a dict from form to (term, position).
  A term all of whose words may be fuzzy anchors on its first word: the forms in the
  same dict, and the fuzzy stand-ins from ``_fuzzy``, which compares an article word
  once with every first word of the same first character whose length can reach the
  lowest threshold (``length_bounds``) and remembers the answer across articles;
* **written together or apart** (1..k+1 words equal to the term written as one word):
  a dict from that compact form; each start's runs are joined word by word until no
  compact form is that long.

Tickers come from ``evidence.find_tickers`` and a dict from symbol to entries. Every
proposed run then goes through the same ``match_run``, threshold, capital rule and
``assemble`` as the oracle, so the output is the oracle's.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_left
from collections.abc import Sequence
from functools import cache
from typing import NamedTuple

from rapidfuzz import fuzz, process

from watchlist.match.assemble import Found, accepts, assemble, entry_threshold, rule_groups
from watchlist.match.evidence import find_tickers, ticker_names
from watchlist.match.forms import zipf_listed as zipf
from watchlist.match.normalize import NormText, normalize
from watchlist.match.terms import (
    MAX_PIECES,
    SHORT,
    TermKey,
    compact_max,
    match_run,
    prepare_term,
)
from watchlist.models import FIELDS, Article, Entry, Match, Rule

CACHE_LIMIT = 200_000  # article words whose fuzzy stand-ins are remembered


class _Use(NamedTuple):
    """One place a compiled term (or ticker) is used: rule, group, entry, term index."""

    rule: int
    group: str
    entry_index: int
    entry: Entry
    term_index: int


@cache
def length_bounds(m: int, t: float) -> tuple[int, int]:
    """The shortest and longest word (characters) that can score >= t against m characters:
    ``fuzz.ratio = 200 LCS / (a + b) <= 200 min(a, b) / (a + b)``."""
    if t < 1:
        return 1, 1 << 30
    lo = math.ceil(m * t / (200 - t) - 1e-6)
    hi = math.floor(m * (200 - t) / t + 1e-6)
    return max(lo, 1), hi


COMMON_ANCHOR = 6.0  # Zipf frequency above which a word is too common to anchor on


def _anchor_position(key: TermKey) -> int | None:
    """The word a term is looked up by: of the words that may not be fuzzy, the least
    common in English; None (the fuzzy first word) when there is none, or when that word
    is very common ("of", "and") and the first word may be fuzzy. A speed choice only:
    every position gives every run."""
    if key.k == 1:
        return 0
    fixed = [p for p, fz in enumerate(key.fuzzy) if not fz]
    if not fixed:
        return None
    if len(fixed) == 1 and not key.fuzzy[0]:
        return 0
    p = min(fixed, key=lambda p: (zipf(key.words[p].casefold()), p))
    if key.fuzzy[0] and zipf(key.words[p].casefold()) > COMMON_ANCHOR:
        return None
    return p


class Matcher:
    """All enabled rules compiled once; ``match`` gives exactly ``oracle_match``'s output."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        ids: dict[TermKey, int] = {}
        self._keys: list[TermKey] = []
        self._uses: list[list[_Use]] = []
        self._min_t: list[float] = []
        self._tickers: dict[str, list[_Use]] = {}
        fields: set[str] = set()
        for ri, rule in enumerate(self.rules):
            if not rule.enabled:
                continue
            fields.update(rule.fields)
            for group, entries in rule_groups(rule):
                for ei, entry in enumerate(entries):
                    t = entry_threshold(rule, entry)
                    for ti, term in enumerate(entry.terms):
                        key = prepare_term(term, group, entry)
                        if key is None:
                            continue
                        tid = ids.setdefault(key, len(self._keys))
                        if tid == len(self._keys):
                            self._keys.append(key)
                            self._uses.append([])
                            self._min_t.append(t)
                        self._uses[tid].append(_Use(ri, group, ei, entry, ti))
                        self._min_t[tid] = min(self._min_t[tid], t)
                    nt = len(entry.terms)
                    for n, ticker in enumerate(entry.tickers):
                        use = _Use(ri, group, ei, entry, nt + n)
                        self._tickers.setdefault(ticker, []).append(use)
        self._fields = tuple(f for f in FIELDS if f in fields)
        # the index from terms to rules: which (rule, group) pairs a run of each term feeds,
        # and the groups each rule needs, so that only rules every needed group of which has
        # a run are ever judged and assembled (a topic shared by many rules costs its hits,
        # not the assembly of every rule that names it)
        self._feeds = [tuple(dict.fromkeys((u.rule, u.group) for u in uses)) for uses in self._uses]
        self._need: dict[int, tuple[bool, frozenset[str]]] = {
            ri: (rule.require == "all", frozenset(g for g, _ in rule.groups()))
            for ri, rule in enumerate(self.rules)
            if rule.enabled
        }
        self._compile()

    def _compile(self) -> None:
        # per comparison (cased or folded): anchors, compact forms, fuzzy first words.
        # Anchored terms are grouped by (anchor position p, a neighbour position q, the
        # first character of the term's word at q): every word of a word-by-word run
        # begins with its term word's first character (forms and fuzzy stand-ins do), so
        # a group is tried only where the article's word at q begins with it.
        anchor: tuple[dict[str, dict[tuple[int, int, str], list[int]]], ...] = ({}, {})
        firsts: tuple[dict[str, dict[str, list[int]]], ...] = ({}, {})
        self._compact: tuple[dict[str, list[int]], ...] = ({}, {})
        self._first: tuple[dict[tuple[str, int], list[str]], ...] = ({}, {})
        self._cache: tuple[dict[str, tuple[str, ...]], ...] = ({}, {})
        self._longest = 0
        fuzzy_t: list[float] = []
        for tid, key in enumerate(self._keys):
            c = int(key.cased)
            p = _anchor_position(key)
            a = p or 0
            q = a + 1 if a + 1 < key.k else a - 1
            group = (a, q, key.words[q][0] if q >= 0 else "")
            table = anchor[c]
            for form in key.forms[a] if key.plural else (key.words[a],):
                table.setdefault(form, {}).setdefault(group, []).append(tid)
            if key.k == 1 and key.title:
                table.setdefault(key.title, {}).setdefault(group, []).append(tid)
            if p is None:
                w = key.words[0]
                by_next = firsts[c].setdefault(w, {})
                if not by_next:
                    self._first[c].setdefault((w[0], len(w)), []).append(w)
                by_next.setdefault(key.words[1][0] if key.k > 1 else "", []).append(tid)
                fuzzy_t.append(self._min_t[tid])
            for form in key.compact:
                self._compact[c].setdefault(form, []).append(tid)
                self._longest = max(self._longest, len(form))
        self._anchor = tuple(
            {form: [(p, q, ch, tids) for (p, q, ch), tids in groups.items()]
             for form, groups in table.items()}
            for table in anchor
        )  # fmt: skip
        self._first_tids = tuple(
            {w: list(by_next.items()) for w, by_next in table.items()} for table in firsts
        )
        self._span = MAX_PIECES
        self._k = [key.k for key in self._keys]
        self._cmax = [compact_max(key) for key in self._keys]
        self._fuzzy_min = min(fuzzy_t, default=100.0)

    def _fuzzy(self, c: int, w: str) -> tuple[str, ...]:
        """The fuzzy first words ``w`` stands in for: same first character, ratio at least
        the lowest threshold of their terms (each term's own is checked by ``match_run``)."""
        cache_ = self._cache[c]
        got = cache_.get(w)
        if got is not None:
            return got
        t = self._fuzzy_min
        lo, hi = length_bounds(len(w), t)
        table = self._first[c]
        found: list[str] = []
        for length in range(max(lo, SHORT + 1), min(hi, self._longest) + 1):
            choices = table.get((w[0], length))
            if choices:
                found.extend(
                    m[0]
                    for m in process.extract(
                        w, choices, scorer=fuzz.ratio, score_cutoff=t, limit=None
                    )
                )
        if len(cache_) >= CACHE_LIMIT:
            cache_.clear()
        got = cache_[w] = tuple(found)
        return got

    def _propose(self, norm: NormText) -> set[tuple[int, int, int]]:
        """Every (term id, i, j) that can pass ``match_run`` (see the module docstring)."""
        n = len(norm.texts)
        k, cmax = self._k, self._cmax
        cands: set[tuple[int, int, int]] = set()
        add = cands.add
        for c, words in ((0, norm.texts), (1, norm.cased)):
            anchors, compact = self._anchor[c], self._compact[c]
            first_tids = self._first_tids[c]
            # a possessive dropped from a word may belong to the name ("Moody's": MOODYS)
            poss = [(i, words[i] + s) for i in norm.poss for s in ("s", "S")]
            if anchors:
                at = [(i, w) for i, w in enumerate(words) if w in anchors]
                for i, w in at + [(i, w) for i, w in poss if w in anchors]:
                    for p, q, ch, tids in anchors[w]:
                        s = i - p
                        if s < 0 or (q >= 0 and (s + q >= n or words[s + q][0] != ch)):
                            continue
                        for tid in tids:
                            if s + k[tid] <= n:
                                add((tid, s, s + k[tid]))
            if first_tids:
                found = [(i, t0) for i, w in enumerate(words) for t0 in self._fuzzy(c, w)]
                for i, t0 in found + [(i, w) for i, w in poss if w in first_tids]:
                    nxt = words[i + 1][0] if i + 1 < n else ""
                    for ch, tids in first_tids[t0]:
                        if ch and ch != nxt:
                            continue
                        for tid in tids:
                            if i + k[tid] <= n:
                                add((tid, i, i + k[tid]))
            if compact:
                longest, span = self._longest, self._span
                for i in range(n):
                    joined = ""
                    for r in range(1, min(span, n - i) + 1):
                        joined += words[i + r - 1]
                        if len(joined) > longest:
                            break
                        for tid in compact.get(joined, ()):
                            if r <= cmax[tid]:
                                add((tid, i, i + r))
        return cands

    def match(self, article: Article) -> list[Match]:
        """Every enabled rule that matches ``article``, in rule order, with every hit."""
        norms = {f: normalize(article.field(f)) for f in FIELDS}
        runs: list[tuple[str, int, int, int, float]] = []  # field, term id, i, j, score
        ticks: list[tuple[str, _Use, int, int]] = []  # field, ticker use, i, j
        for fname in self._fields:
            norm = norms[fname]
            for tid, i, j in self._propose(norm):
                got = match_run(self._keys[tid], norm, i, j, self._min_t[tid])
                if got is not None:
                    runs.append((fname, tid, i, j, got[0]))
            if self._tickers:
                for symbol, start, end in find_tickers(norm.source):
                    i = bisect_left(norm.starts, start)
                    j = bisect_left(norm.starts, end)
                    if i < j:
                        ticks.extend(
                            (fname, use, i, j)
                            for name in ticker_names(symbol)
                            for use in self._tickers.get(name, ())
                        )
        live = self._live(runs, ticks)
        if not live:
            return []
        found: dict[int, Found] = {}
        for fname, tid, i, j, score in runs:
            norm = norms[fname]
            for use in self._uses[tid]:
                if use.rule not in live:
                    continue
                rule = self.rules[use.rule]
                if fname in rule.fields and accepts(rule, use.group, use.entry, norm, score, i):
                    found.setdefault(use.rule, {}).setdefault(
                        (use.group, use.entry_index, fname), []
                    ).append((score, i, j, use.term_index))
        for fname, use, i, j in ticks:
            if use.rule in live and fname in self.rules[use.rule].fields:
                found.setdefault(use.rule, {}).setdefault(
                    (use.group, use.entry_index, fname), []
                ).append((100.0, i, j, use.term_index))
        out: list[Match] = []
        for ri in sorted(found):
            m = assemble(self.rules[ri], article, found[ri], norms)
            if m is not None:
                out.append(m)
        return out

    def _live(
        self,
        runs: Sequence[tuple[str, int, int, int, float]],
        ticks: Sequence[tuple[str, _Use, int, int]],
    ) -> set[int]:
        """The rules every group of which ``require`` needs has a run or ticker in: the only
        ones that can match (the threshold, the capital rule and the evidence take runs
        away, never add one), so the only ones worth judging and assembling."""
        hit: dict[int, set[str]] = {}
        for tid in {r[1] for r in runs}:
            for ri, group in self._feeds[tid]:
                hit.setdefault(ri, set()).add(group)
        for _, use, _, _ in ticks:
            hit.setdefault(use.rule, set()).add(use.group)
        live: set[int] = set()
        for ri, groups in hit.items():
            every, need = self._need[ri]
            if need and (need <= groups if every else not need.isdisjoint(groups)):
                live.add(ri)
        return live

    @property
    def term_count(self) -> int:
        """How many distinct compiled terms the index holds."""
        return len(self._keys)


def build_matcher(rules: Sequence[Rule]) -> Matcher:
    """Compile ``rules`` (on load and on every reload) into a Matcher.

    The cyclic garbage collector is paused meanwhile: compiling makes no cycles, and the
    collections its objects per term would trigger cost time.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return Matcher(rules)
    finally:
        if paused:
            gc.enable()


__all__ = ["SHORT", "Matcher", "build_matcher"]
