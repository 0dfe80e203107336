"""The fast matcher: every rule's terms compiled once into an index with the oracle's results.

How a run of words is found without trying every term against every run:

* exact terms (short terms, ``exact: true``): a dict from first word to terms;
* fuzzy terms with a word of 5 characters or fewer: rule 2 says that word stands
  in the run unchanged, so a dict from that word (the one fewest terms share,
  if not too common in news) to terms gives every run that can match: the runs
  around each occurrence that start with the term's first character;
* other fuzzy terms: an upper bound computed in C. A run W of lw characters
  scoring >= t against a term T of m characters has LCS(W, T) >= t(lw + m)/200
  >= t(lo + m)/200 =: need(T), lo being the shortest run that can score t; and
  lw <= hi = m(200 - t)/t. Every run starting at word s is a prefix of
  P_s = the normalised text from word s on, cut to hi characters, so
  LCS(P_s, T) >= LCS(W, T) >= need(T). Rule 2 also says the run starts with T's
  first character. So for each first character and band of term lengths, one
  ``rapidfuzz.process.cdist`` (LCSseq) of the P_s of the words starting with
  that character against the terms starting with it keeps the (term, start)
  pairs reaching need(T): a few dozen per article, no true match lost.
* anything else (case-sensitive fuzzy terms, threshold 0)
  is tried on every run, like the oracle.

Every proposed run then goes through the same ``window_score`` as the oracle.
"""

from __future__ import annotations

import gc
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from watchlist.match.assemble import Found, accepts, assemble, rule_fields, rule_groups
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


@cache
def length_bounds(m: int, t: float) -> tuple[int, int]:
    """The shortest and longest run (in characters) that can score >= t against m characters."""
    lo = math.ceil(m * t / (200 - t) - 1e-6)
    hi = math.floor(m * (200 - t) / t + 1e-6)
    return max(lo, 1), hi


@cache
def lcs_need(m: int, t: float) -> int:
    """The least LCS a run can share with an m-character term and still score >= t."""
    return math.ceil(t * (length_bounds(m, t)[0] + m) / 200 - 1e-6)


def length_band(m: int) -> int:
    """The band of term lengths (characters) a term is grouped in for the LCS bound.

    Narrow bands keep each group's reach (its longest possible run) close to every
    term's own, so the bound stays tight; fewer bands mean fewer ``cdist`` calls.
    """
    return bisect_right(BANDS, m)


BANDS = (8, 10, 12, 14, 16, 18, 20, 23, 26, 30, 35, 42, 50)  # term lengths, characters
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


@dataclass(frozen=True, slots=True)
class _LcsGroup:
    """Fuzzy terms sharing a first character and a length band."""

    texts: list[str]
    tids: npt.NDArray[np.intp]
    need: npt.NDArray[np.int32]  # per term: least LCS a matching run can have
    cut: int  # the smallest need
    reach: int  # the longest run any term here can match (characters)
    span: int  # the most words any term here can match (its word count + 1)
    capital: bool  # every use is in companies/exchanges: only capitalised starts (rule 5)


def _packed(texts: list[str]) -> list[str]:
    """Fresh copies of ``texts`` allocated one after another: a ``cdist`` call reads every
    term of a group, and scattered strings made it wait on memory several times longer."""
    return "\n".join(texts).split("\n")


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
        by_first: dict[str, list[int]] = {}
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
            by_first.setdefault(key.first, []).append(tid)
        banded: dict[tuple[str, int, bool], list[int]] = {}
        for first, tids in by_first.items():
            for tid in tids:
                band = length_band(len(self._keys[tid].text))
                banded.setdefault((first, band, self._capital[tid]), []).append(tid)
        self._lcs: dict[str, list[_LcsGroup]] = {}
        for (first, _, capital), tids in sorted(banded.items()):
            need = [lcs_need(len(self._keys[t].text), self._min_t[t]) for t in tids]
            self._lcs.setdefault(first, []).append(
                _LcsGroup(
                    texts=_packed([self._keys[t].text for t in tids]),
                    tids=np.array(tids, dtype=np.intp),
                    need=np.array(need, dtype=np.int32),
                    cut=min(need),
                    reach=max(self._bounds[t][1] for t in tids),
                    span=max(self._lengths[t][-1] for t in tids),
                    capital=capital,
                )
            )
        # per term, for the vectorised run-length check after the LCS bound
        self._k = np.array([key.k for key in self._keys], dtype=np.intp)
        self._lo = np.array([b[0] for b in self._bounds], dtype=np.intp)
        self._hi = np.array([b[1] for b in self._bounds], dtype=np.intp)

    # ------------------------------------------------------------------ matching

    def _scan(self, norms: Sequence[NormText]) -> list[tuple[int, int, float, int, int]]:
        """Every (field index, term id, score, i, j) passing window_score at the term's lowest
        threshold; i and j index that field's words. All fields are searched in one pass: the
        LCS bound may read past a field's end (it only gets looser), runs never do."""
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
            for i, w in enumerate(words):
                if w not in present:
                    continue
                for tid in tables[w]:
                    k = lengths[tid][0]
                    if i + k <= seg_end[i]:
                        add((tid, i, i + k))
        anchor = self._anchor
        present = anchor.keys() & set(texts)
        if present:
            first, capital = self._first, self._capital
            lead = [w[0] for w in texts]
            for p, w in enumerate(texts):
                if w not in present:
                    continue
                tids = anchor[w]
                lo, hi = seg_start[p], seg_end[p]
                for tid in tids:
                    c = first[tid]
                    at = heads if capital[tid] else lead
                    for length in lengths[tid]:
                        for s in range(max(lo, p - length + 1), min(p, hi - length) + 1):
                            if at[s] == c:
                                add((tid, s, s + length))
        offs: list[int] = []
        wend: list[int] = []  # per word: offset just past it in ``joined``
        by_first: dict[str, list[int]] = {}
        by_head: dict[str, list[int]] = {}
        pos = 0
        for idx, w in enumerate(texts):
            offs.append(pos)
            pos += len(w)
            wend.append(pos)
            pos += 1
            by_first.setdefault(w[0], []).append(idx)
            if heads[idx]:
                by_head.setdefault(w[0], []).append(idx)
        joined = " ".join(texts)
        lcs = self._lcs
        hit_starts: list[npt.NDArray[np.intp]] = []
        hit_tids: list[npt.NDArray[np.intp]] = []
        for first_char, all_starts in by_first.items():
            groups = lcs.get(first_char)
            if not groups:
                continue
            capitalised = by_head.get(first_char, [])
            arrays = {
                False: np.array(all_starts, dtype=np.intp),
                True: np.array(capitalised, dtype=np.intp),
            }
            for group in groups:
                starts = capitalised if group.capital else all_starts
                if not starts:
                    continue
                start_arr = arrays[group.capital]
                # P_s: from word s, at most ``span`` words of its field, at most ``reach`` chars
                reach, span = group.reach, group.span
                queries = [
                    joined[offs[s] : min(offs[s] + reach, wend[min(s + span, seg_end[s]) - 1])]
                    for s in starts
                ]
                scores = process.cdist(
                    queries,
                    group.texts,
                    scorer=LCSseq.similarity,
                    score_cutoff=group.cut,
                    dtype=np.int32,
                    workers=1,
                )
                rows, cols = np.nonzero(scores >= group.need)
                if rows.size:
                    hit_starts.append(start_arr[rows])
                    hit_tids.append(group.tids[cols])
        if hit_starts:
            for tid, s, e in self._runs_in_bounds(
                np.concatenate(hit_starts), np.concatenate(hit_tids), offs, wend, seg_end
            ):
                add((tid, s, e))
        for tid in self._brute:
            for length in lengths[tid]:
                for s in range(n - length + 1):
                    if s + length <= seg_end[s]:
                        add((tid, s, s + length))
        bounds, first = self._bounds, self._first
        for tid, i, j in cands:
            key = keys[tid]
            if not key.exact and not key.case_sensitive:
                if texts[i][0] != first[tid]:
                    continue
                lw = offs[j - 1] + len(texts[j - 1]) - offs[i]
                lo_len, hi_len = bounds[tid]
                if lw < lo_len or lw > hi_len:
                    continue
                if fuzz.ratio(joined[offs[i] : offs[i] + lw], key.text) < min_t[tid]:
                    continue
            fi, base = field_of[i], seg_start[i]
            score = window_score(key, norms[fi], i - base, j - base)
            if score is not None and score >= min_t[tid]:
                out.append((fi, tid, score, i - base, j - base))
        return out

    def _runs_in_bounds(
        self,
        starts: npt.NDArray[np.intp],
        tids: npt.NDArray[np.intp],
        offs: Sequence[int],
        wend: Sequence[int],
        seg_end: Sequence[int],
    ) -> list[tuple[int, int, int]]:
        """(term id, i, j) for each run of k-1..k+1 words from each start that stays in its
        field and whose length (characters) lies in the term's bounds; vectorised."""
        out: list[tuple[int, int, int]] = []
        k, lo, hi = self._k[tids], self._lo[tids], self._hi[tids]
        limit = np.asarray(seg_end, dtype=np.intp)[starts]
        begin = np.asarray(offs, dtype=np.intp)[starts]
        ends = np.asarray(wend, dtype=np.intp)
        for delta in (-1, 0, 1):
            stop = starts + k + delta  # one past the run's last word
            ok = (stop > starts) & (stop <= limit)
            lw = ends[np.where(ok, stop - 1, starts)] - begin
            ok &= (lw >= lo) & (lw <= hi)
            sel_t, sel_s, sel_e = tids[ok].tolist(), starts[ok].tolist(), stop[ok].tolist()
            out.extend(zip(sel_t, sel_s, sel_e, strict=True))
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
    collections its ~10 objects per term would trigger cost about a third of the time.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return Matcher(rules)
    finally:
        if paused:
            gc.enable()


__all__ = ["SHORT", "Matcher", "build_matcher"]
