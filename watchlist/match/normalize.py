"""Text normalisation for matching: SPEC "Matching" rule 1, with a map back to the original.

``normalize(text)`` splits a field into words. Each word keeps its case-folded
form (what fuzzy matching compares), its un-folded form (for case-sensitive
terms) and the character offsets of the original text it came from, so a hit
can show the article's text exactly as it stands.

Per character: NFKC, accents (combining marks) removed, case folded. Letters and
digits form words; everything else (spaces, line breaks, punctuation, quotes,
dashes, hyphens, slashes) separates words. Each CJK character is a word of its
own. A possessive ``'s`` (any apostrophe) right after a word is dropped. A run of
single letters each followed by a dot is one word (``U.S.`` is ``US``, ``A.I.`` is
``AI``), its offsets covering the last dot. Pure-ASCII text takes a fast path
that gives the same result.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass

APOSTROPHES = frozenset("'\u2019\u2018\u02bc\uff07")
_ASCII_WORD_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# byte tables: word characters kept (_FOLD: lowered, offsets unchanged), others a space
_ASCII_SEP = bytes(c if c in _ASCII_WORD_CHARS else 32 for c in range(256))
_ASCII_FOLD = bytes(ord(chr(c).lower()) if c in _ASCII_WORD_CHARS else 32 for c in range(256))
_ASCII_IS_WORD = bytes(int(c in _ASCII_WORD_CHARS) for c in range(256))
_ASCII_WORD_RUN = re.compile(r"[A-Za-z0-9]+")  # the same characters, for short texts
SHORT_TEXT = 200  # characters below which a field's word offsets come from the regex

# a run of two or more single letters, each directly followed by a dot ("U.S.", "A.I.")
DOTTED = re.compile(r"(?<![^\W_])(?:[^\W\d_]\.){2,}")

# (kind, cased, folded) per output character; kind 0 separator, 1 word, 2 CJK word
_CharOut = tuple[tuple[int, str, str], ...]
_CACHE: dict[str, _CharOut] = {}


@dataclass(frozen=True, slots=True)
class NormText:
    """A field split into normalised words, each mapped back to the original text."""

    source: str  # the original field text
    texts: tuple[str, ...]  # folded words
    cased: tuple[str, ...]  # the same words, not case folded
    starts: tuple[int, ...]  # offset of each word's first character in ``source``
    ends: tuple[int, ...]  # offset just past each word's last character in ``source``
    poss: frozenset[int] = frozenset()  # words whose possessive ``'s`` was dropped

    @property
    def joined(self) -> str:
        """The folded words joined by single spaces."""
        return " ".join(self.texts)

    def original(self, i: int, j: int) -> tuple[int, int, str]:
        """(start, end, text) in the original field of the run of words ``i..j-1``."""
        start, end = self.starts[i], self.ends[j - 1]
        return start, end, self.source[start:end]


def is_cjk(ch: str) -> bool:
    """True for Han, kana and Hangul characters (each one is a word)."""
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF
        or 0x31F0 <= o <= 0x31FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x2FA1F
    )


def _char_out(ch: str) -> _CharOut:
    out: list[tuple[int, str, str]] = []
    for x in unicodedata.normalize("NFKC", ch):
        if is_cjk(x):
            out.append((2 if x.isalnum() else 0, x, x))
            continue
        for y in unicodedata.normalize("NFD", x):
            if unicodedata.combining(y):
                continue
            if y.isalnum():
                out.append((1, y, y.casefold()))
            else:
                out.append((0, y, y))
    return tuple(out)


def _merge_dotted(
    source: str, texts: list[str], cased: list[str], starts: list[int], ends: list[int]
) -> None:
    """Each run of dotted single letters (``U.S.``) made one word, in place."""
    for m in reversed(list(DOTTED.finditer(source))):
        a = bisect_left(starts, m.start())
        b = bisect_left(starts, m.end())
        if b - a < 2 or any(len(cased[n]) != 1 or is_cjk(cased[n]) for n in range(a, b)):
            continue
        texts[a:b] = ["".join(texts[a:b])]
        cased[a:b] = ["".join(cased[a:b])]
        starts[a:b] = [starts[a]]
        ends[a:b] = [m.end()]


def _build(
    source: str, texts: list[str], cased: list[str], starts: list[int], ends: list[int]
) -> NormText:
    """The NormText, dotted letters merged (``U.S.``), without each word ``s`` that directly
    follows a word and an apostrophe (a possessive)."""
    if "." in source:
        _merge_dotted(source, texts, cased, starts, ends)
    if not any(a in source for a in APOSTROPHES):
        return NormText(source, tuple(texts), tuple(cased), tuple(starts), tuple(ends))
    drop = {
        n
        for n in range(1, len(texts))
        if texts[n] == "s"
        and starts[n] >= 1
        and source[starts[n] - 1] in APOSTROPHES
        and ends[n - 1] == starts[n] - 1
    }
    if not drop:
        return NormText(source, tuple(texts), tuple(cased), tuple(starts), tuple(ends))
    keep = [n for n in range(len(texts)) if n not in drop]
    poss = frozenset(m for m, n in enumerate(keep) if n + 1 in drop)
    return NormText(
        source,
        tuple(texts[n] for n in keep),
        tuple(cased[n] for n in keep),
        tuple(starts[n] for n in keep),
        tuple(ends[n] for n in keep),
        poss,
    )


def _ascii(text: str) -> NormText:
    # in C: the words by translate + split, the offsets from where word characters begin/end
    raw = text.encode("ascii")
    cased = raw.translate(_ASCII_SEP).decode("ascii").split()
    texts = raw.translate(_ASCII_FOLD).decode("ascii").split()
    if len(raw) < SHORT_TEXT:  # a title: a regex is quicker than numpy's set-up
        spans = [m.span() for m in _ASCII_WORD_RUN.finditer(text)]
        starts = [a for a, _ in spans]
        ends = [b for _, b in spans]
        return _build(text, texts, cased, starts, ends)
    import numpy as np  # only for long fields (a check of short examples never loads it)

    is_word = np.zeros(len(raw) + 2, dtype=np.int8)
    is_word[1:-1] = np.frombuffer(raw.translate(_ASCII_IS_WORD), dtype=np.int8)
    edges = is_word[1:] - is_word[:-1]  # 1 where a word starts, -1 just past its end
    starts = np.flatnonzero(edges == 1).tolist()
    ends = np.flatnonzero(edges == -1).tolist()
    return _build(text, texts, cased, starts, ends)


def _general(text: str) -> NormText:
    texts: list[str] = []
    cased: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cur_f: list[str] = []
    cur_c: list[str] = []
    cur_start = cur_end = -1

    def flush() -> None:
        nonlocal cur_start
        if cur_f:
            texts.append("".join(cur_f))
            cased.append("".join(cur_c))
            starts.append(cur_start)
            ends.append(cur_end)
            cur_f.clear()
            cur_c.clear()
        cur_start = -1

    for i, ch in enumerate(text):
        out = _CACHE.get(ch)
        if out is None:
            out = _char_out(ch)
            if len(_CACHE) < 100_000:
                _CACHE[ch] = out
        for kind, c, f in out:
            if kind == 1:
                if cur_start < 0:
                    cur_start = i
                cur_end = i + 1
                cur_c.append(c)
                cur_f.append(f)
            else:
                flush()
                if kind == 2:
                    texts.append(f)
                    cased.append(c)
                    starts.append(i)
                    ends.append(i + 1)
    flush()
    return _build(text, texts, cased, starts, ends)


def normalize(text: str) -> NormText:
    """Split ``text`` into normalised words with offsets into ``text`` (SPEC rule 1)."""
    if text.isascii():
        return _ascii(text)
    return _general(text)


def normalize_general(text: str) -> NormText:
    """The general path alone (tests check the ASCII fast path against it)."""
    return _general(text)
