"""The LCS bound: which (start word, fuzzy term) pairs can reach the threshold, in C.

``fuzz.ratio(W, T) = 200 * LCS(W, T) / (|W| + |T|)``. A run W scoring >= t against
a term T of m characters is ``lo..hi`` characters long (``length_bounds``) and has
``LCS(W, T) >= t(lo + m)/200 =: need(T)`` (``lcs_need``). Every run starting at
word s is a prefix of P_s, the normalised text from word s cut to the longest run
the term allows (hi characters, k + 1 words, the field's end), and a prefix's LCS
with T is at most P_s's, so ``LCS(P_s, T) >= need(T)`` for every true match.

Terms are grouped by first character (rule 2 fixes the run's), length band and
whether all their uses are in companies/exchanges (rule 5: then only starts whose
first character is not lower case can be accepted). Per article, one
``rapidfuzz.process.cdist`` (LCSseq) per group compares the P_s of the fitting
starts with the group's terms; ``runs_in_bounds`` then turns the surviving pairs
into runs of k-1..k+1 words whose length lies in ``lo..hi``. docs/matching.md has
the proof that no true match is dropped.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

IntArray = npt.NDArray[np.intp]
# term lengths (characters) where a new band starts: narrow bands keep a group's
# reach close to each term's own hi, fewer bands mean fewer cdist calls per article
BANDS = (9, 12, 15, 19, 24, 32, 45)
MIN_GROUP = 300  # fewer terms than this: merged with the next band


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
    """The band of term lengths (characters) a term is grouped in."""
    return bisect_right(BANDS, m)


def packed(texts: list[str]) -> list[str]:
    """Fresh copies of ``texts`` allocated one after another: a ``cdist`` call reads every
    term of a group, and scattered strings made it wait on memory several times longer."""
    return "\n".join(texts).split("\n")


@dataclass(frozen=True, slots=True)
class LcsGroup:
    """Fuzzy terms sharing a first character, a length band and the capitalised flag."""

    texts: list[str]
    tids: IntArray
    need: npt.NDArray[np.int32]  # per term: least LCS a matching run can have
    cut: int  # the smallest need
    reach: int  # the longest run any term here can match (characters)
    span: int  # the most words any term here can match (its word count + 1)
    capital: bool  # every use is in companies/exchanges: only capitalised starts (rule 5)


def build_groups(
    tids: Sequence[int],
    texts: Sequence[str],
    min_t: Sequence[float],
    bounds: Sequence[tuple[int, int]],
    spans: Sequence[int],
    capital: Sequence[bool],
) -> dict[str, list[LcsGroup]]:
    """The groups of fuzzy terms ``tids`` (indexes into the other per-term sequences)."""
    buckets: dict[tuple[str, bool], list[int]] = {}
    for tid in tids:
        buckets.setdefault((texts[tid][0], capital[tid]), []).append(tid)
    out: dict[str, list[LcsGroup]] = {}
    for (first, cap), bucket in sorted(buckets.items()):
        for members in _split(bucket, texts):
            out.setdefault(first, []).append(_group(members, texts, min_t, bounds, spans, cap))
    return out


def _split(bucket: list[int], texts: Sequence[str]) -> list[list[int]]:
    """The bucket's terms cut at band edges into groups of at least MIN_GROUP terms (a
    small group costs a cdist call for little: merged, it only loosens the bound)."""
    by_band: dict[int, list[int]] = {}
    for tid in bucket:
        by_band.setdefault(length_band(len(texts[tid])), []).append(tid)
    groups: list[list[int]] = []
    current: list[int] = []
    for band in sorted(by_band):
        current.extend(by_band[band])
        if len(current) >= MIN_GROUP:
            groups.append(current)
            current = []
    if current:
        if groups and len(current) < MIN_GROUP:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return groups


def _group(
    members: list[int],
    texts: Sequence[str],
    min_t: Sequence[float],
    bounds: Sequence[tuple[int, int]],
    spans: Sequence[int],
    cap: bool,
) -> LcsGroup:
    """One group of terms, its per-term needs and its reach."""
    need = [lcs_need(len(texts[t]), min_t[t]) for t in members]
    return LcsGroup(
        texts=packed([texts[t] for t in members]),
        tids=np.array(members, dtype=np.intp),
        need=np.array(need, dtype=np.int32),
        cut=min(need),
        reach=max(bounds[t][1] for t in members),
        span=max(spans[t] for t in members),
        capital=cap,
    )


def lcs_pairs(
    groups: Mapping[str, list[LcsGroup]],
    by_first: Mapping[str, list[int]],
    by_head: Mapping[str, list[int]],
    joined: str,
    offs: Sequence[int],
    wend: Sequence[int],
    seg_end: Sequence[int],
) -> tuple[IntArray, IntArray]:
    """(starts, term ids): every pair whose P_s reaches the term's need.

    ``by_first``: start words by first character; ``by_head``: the same, capitalised
    starts only. ``offs``/``wend``: each word's start and end in ``joined``;
    ``seg_end``: per word, one past the last word of its field.
    """
    hit_starts: list[IntArray] = []
    hit_tids: list[IntArray] = []
    for first_char, all_starts in by_first.items():
        todo = groups.get(first_char)
        if not todo:
            continue
        capitalised = by_head.get(first_char, [])
        arrays: dict[bool, IntArray] = {}
        for group in todo:
            starts = capitalised if group.capital else all_starts
            if not starts:
                continue
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
                arr = arrays.get(group.capital)
                if arr is None:
                    arr = arrays[group.capital] = np.array(starts, dtype=np.intp)
                hit_starts.append(arr[rows])
                hit_tids.append(group.tids[cols])
    if not hit_starts:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    return np.concatenate(hit_starts), np.concatenate(hit_tids)


def runs_in_bounds(
    starts: IntArray,
    tids: IntArray,
    per_term: tuple[IntArray, IntArray, IntArray],
    offs: Sequence[int],
    wend: Sequence[int],
    seg_end: Sequence[int],
) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """(term ids, i, j, character start, character end) of each run of k-1..k+1 words from
    each start that stays in its field and whose length in characters lies in the term's
    ``lo..hi``; vectorised. ``per_term``: (word count, lo, hi) arrays indexed by term id.
    Each (term, start) pair comes once, so no run is listed twice."""
    if not starts.size:
        return [], [], [], [], []
    k, lo, hi = (a[tids] for a in per_term)
    limit = np.asarray(seg_end, dtype=np.intp)[starts]
    begin = np.asarray(offs, dtype=np.intp)[starts]
    ends = np.asarray(wend, dtype=np.intp)
    stops = starts[None, :] + k[None, :] + np.array([[-1], [0], [1]], dtype=np.intp)
    ok = (stops > starts) & (stops <= limit)
    end = ends[np.where(ok, stops - 1, starts)]
    ok &= (end - begin >= lo) & (end - begin <= hi)
    row, col = np.nonzero(ok)
    return (
        tids[col].tolist(),
        starts[col].tolist(),
        stops[row, col].tolist(),
        begin[col].tolist(),
        end[row, col].tolist(),
    )
