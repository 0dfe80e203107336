"""Word forms and the readings of an entry as written: SPEC "Matching (v2)" rules 2, 5 and 6.

* ``word_forms``: a word with its regular plural and singular (``ipo``/``ipos``,
  ``battery``/``batteries``, ``cuts``/``cut``), used in topics and keywords.
* ``is_acronym``: one word in capitals of at most 5 characters, as the user wrote it
  (``SSE``, ``OPEC``, ``AT&T``; not ``INTEL CORP``).
* ``is_common_word``: the word-frequency test behind ambiguous names (rule 6).
"""

from __future__ import annotations

import math
from functools import cache

# Zipf frequency (log10 of occurrences per billion words, wordfreq's English list) from
# which a one-word company or exchange name counts as a common English word. Chosen on
# the development set: docs/matching.md, "Ambiguous names".
COMMON_ZIPF = 3.5
ACRONYM_MAX = 5  # characters, as written
_SIBILANT = ("s", "x", "z", "ch", "sh")
_VOWELS = frozenset("aeiou")


def _plurals(w: str, upper: bool) -> set[str]:
    s = "S" if upper else "s"
    out = {w + s}
    low = w.lower()
    if low.endswith(_SIBILANT):
        out.add(w + ("ES" if upper else "es"))
    if len(low) > 1 and low.endswith("y") and low[-2] not in _VOWELS:
        out.add(w[:-1] + ("IES" if upper else "ies"))
    return out


def _singulars(w: str) -> set[str]:
    low = w.lower()
    out: set[str] = set()
    if len(low) > 3 and low.endswith("ies"):
        out.add(w[:-3] + ("Y" if w[-1].isupper() else "y"))
    if len(low) > 3 and low.endswith("es") and low[:-2].endswith(_SIBILANT):
        out.add(w[:-2])
    if len(low) > 2 and low.endswith("s") and not low.endswith("ss"):
        out.add(w[:-1])
    return out


@cache
def word_forms(w: str) -> frozenset[str]:
    """``w`` with its regular plural and singular forms (SPEC rule 2, topics and keywords).

    Words with digits, and words of one character, have no other form. An upper-case word
    (an acronym) takes both ``s`` and ``S``: ``IPO`` matches ``IPOs`` and ``IPOS``.
    """
    if len(w) < 2 or any(c.isdigit() for c in w):
        return frozenset({w})
    out = {w}
    upper = w.isupper()
    out |= _plurals(w, False)
    if upper:
        out |= _plurals(w, True)
    out |= _singulars(w)
    return frozenset(out)


def is_acronym(raw: str) -> bool:
    """SPEC rule 5: one word (no space) of at most 5 characters, its letters in capitals."""
    raw = raw.strip()
    if not raw or len(raw) > ACRONYM_MAX or any(c.isspace() for c in raw):
        return False
    return raw.upper() == raw and raw.lower() != raw


def acronym_letters(raw: str) -> int:
    """How many letters an acronym has (``OPEC`` 4, ``AT&T`` 3)."""
    return sum(1 for c in raw if c.isalpha())


@cache
def _english() -> dict[str, float]:
    """wordfreq's English frequencies of every word of Zipf 3 or more, read once.

    That is wordfreq's "small" list, whose values are those of its full list (it stops
    at Zipf 3); nothing rarer is needed (``COMMON_ZIPF`` is 3.5, and the anchor choice in
    ``fast`` is a speed choice). It is read straight from wordfreq's data file, about
    10 ms, where importing wordfreq and its full list costs half a second, which every
    ``watchlist check`` and every matching worker would pay; if that file cannot be read
    as expected, wordfreq reads it.
    """
    try:
        return _read_small_list()
    except Exception:  # another wordfreq release: ask wordfreq itself
        from wordfreq import get_frequency_dict

        return dict(get_frequency_dict("en", wordlist="small"))


def _read_small_list() -> dict[str, float]:
    """wordfreq's ``small_en`` cBpack file: a gzipped msgpack list, a header and then one
    list of words per centibel of frequency (index n: 10 ** (-n / 100))."""
    import gzip
    import importlib.util
    from pathlib import Path

    import msgpack

    spec = importlib.util.find_spec("wordfreq")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("wordfreq is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "small_en.msgpack.gz"
    with gzip.open(path, "rb") as f:
        pack = msgpack.load(f, raw=False)
    header = pack[0]
    if not isinstance(header, dict) or header.get("format") != "cB" or header.get("version") != 1:
        raise ValueError(f"{path}: not a cBpack file of version 1")
    return {word: 10 ** (-n / 100) for n, bucket in enumerate(pack[1:]) for word in bucket}


@cache
def zipf(word: str) -> float:
    """The word's Zipf frequency in English (wordfreq), 0 when unknown.

    A plain lower-case ASCII word without digits is looked up directly in wordfreq's
    table (its tokenizer leaves such a word as it is, so this equals
    ``zipf_frequency(word, "en")`` from Zipf 3 up, and 0 below, and costs a dict lookup
    instead of ~90 us); any other word goes through ``zipf_frequency``.
    """
    if word.isascii() and word.isalpha() and word.islower():
        return zipf_listed(word)
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def zipf_listed(word: str) -> float:
    """``zipf`` from the table alone: 0 for a word it does not hold as written (a speed
    reading for choices that only order words, never for rule 6)."""
    f = _english().get(word, 0.0)
    return round(math.log10(f) + 9, 2) if f > 0 else 0.0


def is_common_word(word: str) -> bool:
    """True when ``word`` (folded, one word) is a common English word (SPEC rule 6)."""
    return zipf(word) >= COMMON_ZIPF
