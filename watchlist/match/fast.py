"""The fast matcher: every rule's terms compiled once into an index with the oracle's results.

How a run of words is found without trying every term against every run:

* exact terms (short terms, ``exact: true``): a dict from first word to terms;
* fuzzy terms with a word of 5 characters or fewer: rule 2 says that word stands
  in the run unchanged, so a dict from that word (the longest such) to terms
  gives every run that can match: the runs around each occurrence;
* other fuzzy terms: pigeonhole. A run scoring >= t against a term of m
  characters has at most d = floor((lw_max + m)(100 - t)/100) insertions and
  deletions, lw_max = m(200 - t)/t being the longest run that can score t. Cut
  d + 1 disjoint pieces out of the term; each edit breaks at most one piece,
  so one piece stands intact in the run, shifted by at most d characters. An
  Aho-Corasick automaton (pyahocorasick) finds the pieces; each hit proposes
  the runs starting at a word within d characters of where the term would start.
* anything else (case-sensitive fuzzy terms, thresholds too low to cut pieces)
  is tried on every run, like the oracle.

Every proposed run then goes through the same ``window_score`` as the oracle.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import ahocorasick
from rapidfuzz import fuzz

from watchlist.match.assemble import Found, accepts, assemble, rule_fields, rule_groups
from watchlist.match.normalize import NormText, normalize
from watchlist.match.terms import SHORT, TermKey, prepare_term, window_score
from watchlist.models import FIELDS, Article, Entry, Match, Rule


@dataclass(frozen=True, slots=True)
class _Use:
    """One place a compiled term is used: rule, group, entry, term index."""

    rule: int
    group: str
    entry_index: int
    entry: Entry
    term_index: int


def length_bounds(m: int, t: float) -> tuple[int, int]:
    """The shortest and longest run (in characters) that can score >= t against m characters."""
    lo = math.ceil(m * t / (200 - t) - 1e-6)
    hi = math.floor(m * (200 - t) / t + 1e-6)
    return max(lo, 1), hi


def max_edits(m: int, t: float) -> int:
    """The most insertions plus deletions a run scoring >= t against m characters can have."""
    return math.floor((length_bounds(m, t)[1] + m) * (100 - t) / 100 + 1e-6)


def cut_pieces(text: str, count: int) -> list[tuple[int, str]] | None:
    """``count`` disjoint pieces (offset, piece) of ``text``, space-free and as long as can be."""
    words: list[tuple[int, int]] = []  # (offset, length)
    pos = 0
    for w in text.split(" "):
        words.append((pos, len(w)))
        pos += len(w) + 1
    if count > sum(length for _, length in words):
        return None
    per = [0] * len(words)
    for _ in range(count):
        best = max(range(len(words)), key=lambda n: (words[n][1] / (per[n] + 1), -n))
        per[best] += 1
    pieces: list[tuple[int, str]] = []
    for (off, length), p in zip(words, per, strict=True):
        for q in range(p):
            a, b = off + length * q // p, off + length * (q + 1) // p
            pieces.append((a, text[a:b]))
    return pieces


class Matcher:
    """All enabled rules compiled once; ``match`` gives exactly ``oracle_match``'s output."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        ids: dict[TermKey, int] = {}
        self._keys: list[TermKey] = []
        self._uses: list[list[_Use]] = []
        self._min_t: list[float] = []
        fields: set[str] = set()
        for ri, rule in enumerate(self.rules):
            if not rule.enabled:
                continue
            fields.update(rule_fields(rule))
            for group, entries in rule_groups(rule):
                for ei, entry in enumerate(entries):
                    t = rule.threshold if entry.threshold is None else entry.threshold
                    for ti, term in enumerate(entry.terms):
                        key = prepare_term(term, group, entry.exact, entry.case_sensitive)
                        if key is None:
                            continue
                        tid = ids.setdefault(key, len(self._keys))
                        if tid == len(self._keys):
                            self._keys.append(key)
                            self._uses.append([])
                            self._min_t.append(t)
                        self._uses[tid].append(_Use(ri, group, ei, entry, ti))
                        self._min_t[tid] = min(self._min_t[tid], t)
        self._fields = tuple(f for f in FIELDS if f in fields)
        self._compile()

    def _compile(self) -> None:
        self._exact: dict[str, list[int]] = {}
        self._exact_cased: dict[str, list[int]] = {}
        self._anchor: dict[str, list[int]] = {}
        self._brute: list[int] = []
        self._bounds: list[tuple[int, int]] = []
        self._dmax: list[int] = []
        piece_ids: dict[str, int] = {}
        self._piece_len: list[int] = []
        self._piece_terms: list[list[tuple[int, int]]] = []
        for tid, key in enumerate(self._keys):
            t = self._min_t[tid]
            m = len(key.text)
            self._bounds.append(length_bounds(m, t) if t > 0 else (1, 1 << 30))
            self._dmax.append(max_edits(m, t) if t > 0 else m)
            if key.exact:
                table = self._exact_cased if key.case_sensitive else self._exact
                table.setdefault(key.words[0], []).append(tid)
                continue
            if key.case_sensitive or t <= 0:
                self._brute.append(tid)
                continue
            if key.short_words:
                anchor = max(key.short_words, key=len)
                self._anchor.setdefault(anchor, []).append(tid)
                continue
            pieces = cut_pieces(key.text, self._dmax[tid] + 1)
            if pieces is None:
                self._brute.append(tid)
                continue
            for off, piece in pieces:
                pid = piece_ids.setdefault(piece, len(self._piece_len))
                if pid == len(self._piece_len):
                    self._piece_len.append(len(piece))
                    self._piece_terms.append([])
                self._piece_terms[pid].append((tid, off))
        self._automaton: ahocorasick.Automaton | None = None
        if piece_ids:
            automaton = ahocorasick.Automaton()
            for piece, pid in piece_ids.items():
                automaton.add_word(piece, pid)
            automaton.make_automaton()
            self._automaton = automaton

    # ------------------------------------------------------------------ matching

    def _scan(self, norm: NormText) -> list[tuple[int, float, int, int]]:
        """Every (term id, score, i, j) passing window_score at the term's lowest threshold."""
        keys, min_t = self._keys, self._min_t
        texts = norm.texts
        n = len(texts)
        out: list[tuple[int, float, int, int]] = []
        if n == 0:
            return out
        cands: set[tuple[int, int, int]] = set()
        for tables, words in ((self._exact, texts), (self._exact_cased, norm.cased)):
            if not tables:
                continue
            for i, w in enumerate(words):
                for tid in tables.get(w, ()):
                    k = keys[tid].k
                    if i + k <= n:
                        cands.add((tid, i, i + k))
        anchor = self._anchor
        if anchor:
            for p, w in enumerate(texts):
                for tid in anchor.get(w, ()):
                    for length in keys[tid].run_lengths(n):
                        for s in range(max(0, p - length + 1), min(p, n - length) + 1):
                            cands.add((tid, s, s + length))
        offs: list[int] = []
        pos = 0
        for w in texts:
            offs.append(pos)
            pos += len(w) + 1
        joined = " ".join(texts)
        if self._automaton is not None:
            plen, pterms, dmax = self._piece_len, self._piece_terms, self._dmax
            for end, pid in self._automaton.iter(joined):
                pstart = end - plen[pid] + 1
                for tid, off in pterms[pid]:
                    d = dmax[tid]
                    lo = bisect_left(offs, pstart - off - d)
                    hi = bisect_right(offs, pstart - off + d)
                    first = keys[tid].first
                    for s in range(lo, hi):
                        if texts[s][0] != first:
                            continue
                        for length in keys[tid].run_lengths(n - s):
                            cands.add((tid, s, s + length))
        for tid in self._brute:
            for length in keys[tid].run_lengths(n):
                for s in range(n - length + 1):
                    cands.add((tid, s, s + length))
        bounds = self._bounds
        for tid, i, j in cands:
            key = keys[tid]
            if not key.exact and not key.case_sensitive:
                if texts[i][0] != key.first:
                    continue
                lw = offs[j - 1] + len(texts[j - 1]) - offs[i]
                lo_len, hi_len = bounds[tid]
                if lw < lo_len or lw > hi_len:
                    continue
                if fuzz.ratio(joined[offs[i] : offs[i] + lw], key.text) < min_t[tid]:
                    continue
            score = window_score(key, norm, i, j)
            if score is not None and score >= min_t[tid]:
                out.append((tid, score, i, j))
        return out

    def match(self, article: Article) -> list[Match]:
        """Every enabled rule that matches ``article``, in rule order, with every hit."""
        norms = {f: normalize(article.field(f)) for f in FIELDS}
        found: dict[int, Found] = {}
        for fname in self._fields:
            norm = norms[fname]
            for tid, score, i, j in self._scan(norm):
                for use in self._uses[tid]:
                    rule = self.rules[use.rule]
                    if fname not in rule.fields:
                        continue
                    if accepts(rule, use.group, use.entry, norm, score, i):
                        found.setdefault(use.rule, {}).setdefault(
                            (use.group, use.entry_index, fname), []
                        ).append((score, i, j, use.term_index))
        out: list[Match] = []
        for ri in sorted(found):
            m = assemble(self.rules[ri], article, found[ri], norms)
            if m is not None:
                out.append(m)
        return out

    @property
    def term_count(self) -> int:
        """How many distinct compiled terms the index holds."""
        return len(self._keys)


def build_matcher(rules: Sequence[Rule]) -> Matcher:
    """Compile ``rules`` (on load and on every reload) into a Matcher."""
    return Matcher(rules)


__all__ = ["SHORT", "Matcher", "build_matcher"]
