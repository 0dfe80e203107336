"""The fast matcher: every rule's terms compiled once into an index with the oracle's results.

How a run of words is found without trying every term against every run:

* exact terms (short terms, ``exact: true``): a dict from first word to terms;
* fuzzy terms with a word of 5 characters or fewer: rule 2 says that word stands
  in the run unchanged, so a dict from that word (the one fewest terms share,
  if not too common in news) to terms gives every run that can match: the runs
  around each occurrence that start with the term's first character;
* other fuzzy terms: the LCS bound (``bound.py``), computed in C: one
  ``rapidfuzz.process.cdist`` per group of terms sharing a first character and a
  length band keeps the (start, term) pairs whose text from that start can still
  share enough characters with the term; a vectorised length check then keeps
  the runs of k-1..k+1 words whose length fits;
* terms used only in companies/exchanges are tried only on runs whose first
  character is not lower case (rule 5 would refuse the others);
* anything else (case-sensitive fuzzy terms, threshold 0)
  is tried on every run, like the oracle.

Every proposed run then goes through the same ``window_score`` as the oracle.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Sequence
from itertools import accumulate, groupby
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from watchlist.match.assemble import Found, accepts, assemble, rule_fields, rule_groups
from watchlist.match.bound import build_groups, lcs_pairs, length_bounds, runs_in_bounds
from watchlist.match.normalize import NormText, normalize
from watchlist.match.terms import (
    CAPITALISED_GROUPS,
    SHORT,
    TermKey,
    prepare_term,
    window_score,
)
from watchlist.models import FIELDS, Article, Entry, Match, Rule


class _Use(NamedTuple):
    """One place a compiled term is used: rule, group, entry, term index (a tuple: cheap)."""

    rule: int
    group: str
    entry_index: int
    entry: Entry
    term_index: int


# Words too common in news to anchor on: terms whose short words are all here use
# the LCS bound instead (a speed choice only; both ways find every match).
COMMON_WORDS = frozenset(
    """a an and are as at be by for from has he in is it its of on or the to was were
    will with said says say new first group one two three year u s us uk mln pct
    bank fund trust inc corp co de la le el del des du und i ii iii iv v b c d e f g
    h j k l m n o p q r t w x y z all any but not no this that they we you his her
    our more most over up out about after into than also have had can may would
    could should american china japan world global""".split()  # noqa: SIM905
)


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
        # SPEC rule 5: a term used only in companies/exchanges can only be accepted on a
        # run whose first character in the article is not lower case
        self._capital = [all(u.group in CAPITALISED_GROUPS for u in us) for us in self._uses]
        self._compile()

    def _compile(self) -> None:
        self._exact: dict[str, list[int]] = {}
        self._exact_cased: dict[str, list[int]] = {}
        self._anchor: dict[str, list[int]] = {}
        self._brute: list[int] = []
        self._bounds: list[tuple[int, int]] = []
        self._lengths: list[tuple[int, ...]] = []
        self._first: list[str] = [key.first for key in self._keys]
        by_first: list[int] = []  # the fuzzy terms for the LCS bound
        shorts: dict[str, int] = {}
        for key in self._keys:
            if not key.exact and not key.case_sensitive:
                for w in key.short_words:
                    shorts[w] = shorts.get(w, 0) + 1
        run_lengths: dict[tuple[int, bool], tuple[int, ...]] = {}
        for tid, key in enumerate(self._keys):
            t = self._min_t[tid]
            m = len(key.text)
            self._bounds.append(length_bounds(m, t) if t > 0 else (1, 1 << 30))
            lengths = run_lengths.get((key.k, key.exact))
            if lengths is None:
                lengths = run_lengths[key.k, key.exact] = tuple(key.run_lengths(1 << 30))
            self._lengths.append(lengths)
            if key.exact:
                table = self._exact_cased if key.case_sensitive else self._exact
                table.setdefault(key.words[0], []).append(tid)
                continue
            if key.case_sensitive or t <= 0:
                self._brute.append(tid)
                continue
            rare = [w for w in key.short_words if w not in COMMON_WORDS]
            if rare:
                # the short word fewest terms share: the rarest anchor we can know of
                anchor = min(rare, key=lambda w: (shorts[w], -len(w), w))
                self._anchor.setdefault(anchor, []).append(tid)
                continue
            by_first.append(tid)
        self._lcs = build_groups(
            by_first,
            [key.text for key in self._keys],
            self._min_t,
            self._bounds,
            [lengths[-1] for lengths in self._lengths],
            self._capital,
        )
        # anchors: per word, its terms by (first character, companies/exchanges only)
        self._anchor_groups: dict[str, list[tuple[str, bool, list[int]]]] = {}
        self._anchor_span: dict[str, int] = {}
        for w, tids in self._anchor.items():
            split: dict[tuple[str, bool], list[int]] = {}
            for tid in tids:
                split.setdefault((self._keys[tid].first, self._capital[tid]), []).append(tid)
            self._anchor_groups[w] = [(c, cap, ts) for (c, cap), ts in split.items()]
            self._anchor_span[w] = max(self._lengths[tid][-1] for tid in tids)
        self._fuzzy = [not key.exact and not key.case_sensitive for key in self._keys]
        self._min_t_arr = np.array(self._min_t, dtype=np.float64)
        self._texts = [key.text for key in self._keys]
        # per term, for the vectorised run-length check after the LCS bound
        self._per_term = (
            np.array([key.k for key in self._keys], dtype=np.intp),
            np.array([b[0] for b in self._bounds], dtype=np.intp),
            np.array([b[1] for b in self._bounds], dtype=np.intp),
        )

    # ------------------------------------------------------------------ matching

    def _scan(self, norms: Sequence[NormText]) -> list[tuple[int, int, float, int, int]]:
        """Every (field index, term id, score, i, j) passing window_score at the term's lowest
        threshold; i and j index that field's words. All fields are searched in one pass; no
        run, and no LCS query, crosses a field's end."""
        keys, min_t, lengths = self._keys, self._min_t, self._lengths
        texts: list[str] = []
        cased: list[str] = []
        seg_start: list[int] = []  # per word: first word of its field
        seg_end: list[int] = []  # per word: one past the last word of its field
        field_of: list[int] = []
        heads: list[str] = []  # per word: its first character if capitalised (rule 5), else ""
        for fi, norm in enumerate(norms):
            a, b = len(texts), len(texts) + len(norm.texts)
            source = norm.source
            heads.extend(
                "" if source[o].islower() else w[0]
                for o, w in zip(norm.starts, norm.texts, strict=True)
            )
            texts.extend(norm.texts)
            cased.extend(norm.cased)
            seg_start.extend([a] * (b - a))
            seg_end.extend([b] * (b - a))
            field_of.extend([fi] * (b - a))
        n = len(texts)
        out: list[tuple[int, int, float, int, int]] = []
        if n == 0:
            return out
        cands: set[tuple[int, int, int]] = set()
        add = cands.add
        for tables, words in ((self._exact, texts), (self._exact_cased, cased)):
            # set intersection in C first: most words start no term
            present = tables.keys() & set(words)
            if not present:
                continue
            for i in [i for i, w in enumerate(words) if w in present]:
                for tid in tables[words[i]]:
                    k = lengths[tid][0]
                    if i + k <= seg_end[i]:
                        add((tid, i, i + k))
        anchor = self._anchor_groups
        present = anchor.keys() & set(texts)
        for p in [p for p, w in enumerate(texts) if w in present] if present else ():
            w = texts[p]
            # the starts of runs that can hold word p, by first character (and capitalised)
            hi = seg_end[p]
            near: dict[str, list[int]] = {}
            near_cap: dict[str, list[int]] = {}
            for s in range(max(seg_start[p], p - self._anchor_span[w] + 1), p + 1):
                near.setdefault(texts[s][0], []).append(s)
                if heads[s]:
                    near_cap.setdefault(heads[s], []).append(s)
            for c, cap, tids in anchor[w]:
                starts = (near_cap if cap else near).get(c)
                if not starts:
                    continue
                for tid in tids:
                    for length in lengths[tid]:
                        for s in starts:
                            if p < s + length <= hi:
                                add((tid, s, s + length))
        # per word: its offset in ``joined`` and the offset just past it (sums in C)
        lens = list(map(len, texts))
        offs = list(accumulate(map((1).__add__, lens[:-1]), initial=0))
        wend = list(map(operator.add, offs, lens))
        # start words by first character, and the capitalised ones: stable sorts keep
        # each group's words in text order
        firsts = [w[0] for w in texts]
        key_first, key_head = firsts.__getitem__, heads.__getitem__
        by_first = {c: list(g) for c, g in groupby(sorted(range(n), key=key_first), key=key_first)}
        capital = sorted((i for i in range(n) if heads[i]), key=key_head)
        by_head = {c: list(g) for c, g in groupby(capital, key=key_head)}
        joined = " ".join(texts)
        pair_s, pair_t = lcs_pairs(self._lcs, by_first, by_head, joined, offs, wend, seg_end)
        # the LCS bound's runs: distinct, already of the term's first character and length
        run_tids, run_i, run_j, run_b, run_e = runs_in_bounds(
            pair_s, pair_t, self._per_term, offs, wend, seg_end
        )
        runs = [joined[b:e] for b, e in zip(run_b, run_e, strict=True)]
        run_cands = list(zip(run_tids, run_i, run_j, strict=True))
        for tid in self._brute:
            for length in lengths[tid]:
                for s in range(n - length + 1):
                    if s + length <= seg_end[s]:
                        add((tid, s, s + length))
        bounds, first, fuzzy = self._bounds, self._first, self._fuzzy
        term_text = self._texts
        verified: list[tuple[int, int, int]] = []
        for cand in cands:
            tid, i, j = cand
            if not fuzzy[tid]:
                verified.append(cand)
                continue
            if texts[i][0] != first[tid]:
                continue
            lw = wend[j - 1] - offs[i]
            lo_len, hi_len = bounds[tid]
            if lw < lo_len or lw > hi_len:
                continue
            runs.append(joined[offs[i] : offs[i] + lw])
            run_tids.append(tid)
            run_cands.append(cand)
        if runs:
            # fuzz.ratio of every run in one C call (float64: the scores unrounded)
            run_terms = [term_text[t] for t in run_tids]
            ratios = process.cpdist(runs, run_terms, scorer=fuzz.ratio, dtype=np.float64, workers=1)
            need = self._min_t_arr[run_tids]
            verified.extend(run_cands[n] for n in np.flatnonzero(ratios >= need).tolist())
        for tid, i, j in verified:
            key = keys[tid]
            fi, base = field_of[i], seg_start[i]
            score = window_score(key, norms[fi], i - base, j - base)
            if score is not None and score >= min_t[tid]:
                out.append((fi, tid, score, i - base, j - base))
        return out

    def match(self, article: Article) -> list[Match]:
        """Every enabled rule that matches ``article``, in rule order, with every hit."""
        norms = {f: normalize(article.field(f)) for f in FIELDS}
        scanned = [norms[f] for f in self._fields]
        found: dict[int, Found] = {}
        for fi, tid, score, i, j in self._scan(scanned):
            fname, norm = self._fields[fi], scanned[fi]
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
    """Compile ``rules`` (on load and on every reload) into a Matcher.

    The cyclic garbage collector is paused meanwhile: compiling makes no cycles, and the
    collections its ~10 objects per term would trigger cost about a quarter of the time.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return Matcher(rules)
    finally:
        if paused:
            gc.enable()


__all__ = ["SHORT", "Matcher", "build_matcher"]
