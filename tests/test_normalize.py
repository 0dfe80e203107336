"""Normalisation (SPEC Matching rule 1): words, folding, and the map back to the original."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchlist.match.normalize import normalize

CASES = [
    ("Hello, World!", ["hello", "world"]),
    ("Anthropic's model", ["anthropic", "model"]),
    ("Anthropic’s model", ["anthropic", "model"]),
    ("it's 's alone", ["it", "s", "alone"]),
    ("stock-exchange and/or", ["stock", "exchange", "and", "or"]),
    ("en–dash — em", ["en", "dash", "em"]),
    ("“Quoted” ‘single’", ["quoted", "single"]),
    ("line\nbreak\r\n\tand\u00a0nbsp", ["line", "break", "and", "nbsp"]),
    ("Société Générale", ["societe", "generale"]),
    ("Straße", ["strasse"]),
    ("ＡＩ ｆｕｌｌｗｉｄｔｈ", ["ai", "fullwidth"]),
    ("ﬁnance", ["finance"]),
    ("e\u0301te\u0301", ["ete"]),
    ("在科创板上市", ["在", "科", "创", "板", "上", "市"]),
    ("AI芯片maker", ["ai", "芯", "片", "maker"]),
    ("", []),
    ("  ... ", []),
]


@pytest.mark.parametrize(("text", "words"), CASES)
def test_words(text: str, words: list[str]) -> None:
    """Text splits into the folded words SPEC rule 1 describes."""
    assert list(normalize(text).texts) == words


def test_cased_forms_keep_case() -> None:
    """The un-folded form keeps the writer's case but loses accents and width."""
    assert normalize("WHO Société ＡＩ").cased == ("WHO", "Societe", "AI")


@pytest.mark.parametrize(
    ("text", "i", "j", "original"),
    [
        ("the Goldman\nSachs deal", 1, 3, "Goldman\nSachs"),
        ("ﬁnance ﬁrm", 1, 2, "ﬁrm"),
        ("Anthropic's model", 0, 1, "Anthropic"),
        ("在科创板上市", 1, 4, "科创板"),
        ("Ｓhanghai  stock-exchange", 0, 3, "Ｓhanghai  stock-exchange"),
    ],
)
def test_map_back_to_original(text: str, i: int, j: int, original: str) -> None:
    """A run of words maps back to the original text exactly as it stands."""
    assert normalize(text).original(i, j)[2] == original


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_offsets_are_ordered_and_in_range(text: str) -> None:
    """Every word maps to a non-empty, in-order span of the original text."""
    norm = normalize(text)
    assert len(norm.texts) == len(norm.cased) == len(norm.starts) == len(norm.ends)
    last = 0
    for w, s, e in zip(norm.texts, norm.starts, norm.ends, strict=True):
        assert w and " " not in w
        assert last <= s < e <= len(text)
        last = s


def test_short_and_long_ascii_paths_agree() -> None:
    """Word offsets of an ASCII field are the same below and above SHORT_TEXT (regex / numpy)."""
    from watchlist.match.normalize import SHORT_TEXT, normalize, normalize_general

    base = "Shares of U.S. Steel's unit rose 3.5% -- the IPOs (AAPL) o'clock x"
    for n in range(1, 3 * SHORT_TEXT, 7):
        text = (base * (n // len(base) + 1))[:n]
        got, want = normalize(text), normalize_general(text)
        assert (got.texts, got.cased, got.starts, got.ends) == (
            want.texts,
            want.cased,
            want.starts,
            want.ends,
        ), n
