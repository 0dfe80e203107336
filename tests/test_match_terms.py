"""Term compilation: the cheap ASCII path gives the general path's words; compiling is tidy."""

from __future__ import annotations

import gc
import json
import random

import pytest
from conftest import corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from watchlist.match import build_matcher
from watchlist.match.normalize import normalize_general
from watchlist.match.terms import strip_legal, term_words
from watchlist.models import Entry, Rule

SEC = corpus("sec-company-tickers.json")
DECOR = ["", " Inc", " Inc.", ", Inc.", " /DE/", " S.A.", " Co", "'s", " & Co.", "-B", " (The)"]


def general_words(raw: str) -> tuple[list[str], list[str]]:
    """The words the general (per-character Unicode) path gives."""
    norm = normalize_general(raw)
    return list(norm.texts), list(norm.cased)


def variants(name: str, rng: random.Random) -> list[str]:
    """The name as written, decorated, re-cased, and with punctuation and digits added."""
    out = [name, name.lower(), name.title(), name + rng.choice(DECOR)]
    out.append(name.replace(" ", rng.choice(["-", "/", "  ", ".", "'", "&"])))
    out.append(f"{name} {rng.randint(0, 999)}")
    return out


def test_ascii_term_words_equal_general_path_on_sec_names() -> None:
    """Every SEC name and ticker, plain and varied, splits the same on the cheap ASCII path."""
    if not SEC.exists():
        pytest.skip(f"SEC company list not available: {SEC}")
    rng = random.Random(3)
    rows = json.loads(SEC.read_text(encoding="utf-8")).values()
    checked = 0
    for row in rows:
        for name in (row["title"], row["ticker"]):
            for raw in variants(name, rng):
                assert term_words(raw) == general_words(raw), raw
                checked += 1
    assert checked > 50_000


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aZ09 .,-/&'’é\u00a0\n", max_size=30))
def test_term_words_equal_general_path(raw: str) -> None:
    """On generated names (apostrophes, separators, accents too) term_words is normalize's."""
    assert term_words(raw) == general_words(raw)


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("amazon com inc", "amazon com"),
        ("acme holdings", "acme"),
        ("goldman sachs group inc", "goldman sachs"),
        ("merrill lynch and co", "merrill lynch"),
        ("banco sa", "banco"),
        ("x co ltd", "x"),
        ("inc", "inc"),
        ("acme b", "acme b"),
        ("nestle sa ag", "nestle"),
    ],
)
def test_strip_legal_drops_trailing_legal_forms(name: str, kept: str) -> None:
    """Trailing legal forms and group words go (SPEC v2 rule 4), at least one word stays."""
    words = name.split()
    assert " ".join(words[: strip_legal(words, words)]) == kept


@pytest.mark.parametrize("enabled", [True, False])
def test_build_matcher_leaves_the_collector_as_it_was(enabled: bool) -> None:
    """Compiling pauses the cyclic garbage collector and restores its state afterwards."""
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        build_matcher([Rule(name="r", companies=(Entry("Acme Holdings Inc"),))])
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_the_small_word_list_is_wordfreqs() -> None:
    """The list read straight from wordfreq's data file is wordfreq's own small list, and
    every word of Zipf 3.5 or more in its full list has the same Zipf here."""
    from wordfreq import get_frequency_dict, zipf_frequency

    from watchlist.match.forms import COMMON_ZIPF, _read_small_list, zipf

    assert _read_small_list() == get_frequency_dict("en", wordlist="small")
    full = get_frequency_dict("en", wordlist="best")
    common = [w for w in list(full)[:20000] if w.isascii() and w.isalpha() and w.islower()]
    for w in common[::7]:
        want = zipf_frequency(w, "en")
        if want >= COMMON_ZIPF:
            assert zipf(w) == want, w
        else:
            assert zipf(w) < COMMON_ZIPF, w
