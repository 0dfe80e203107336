"""Terms and the window test: SPEC "Matching" rules 2-5 as one predicate.

``prepare_term`` turns an entry's name or alias into a ``TermKey`` (normalised
words, legal forms dropped for companies, exact/case-sensitive flags).
``window_score`` says whether a run of article words matches a term and with
what score. The oracle and the fast matcher both call it, so they can only
differ in *which* runs they try.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from watchlist.match.normalize import NormText, normalize

_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")

SHORT = 5  # SPEC rule 3: terms and words of 5 characters or fewer
CAPITALISED_GROUPS = frozenset({"companies", "exchanges"})  # SPEC rule 5
LEGAL_FORMS = frozenset(
    [
        "inc",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "lp",
        "plc",
        "ag",
        "sa",
        "nv",
        "se",
        "gmbh",
    ]
)
_NOT_ASCII_DIGIT = {c: None for c in range(128) if not chr(c).isdigit()}
_JURISDICTION = re.compile(r"(?<!\S)/[A-Za-z]{2,3}/(?!\S)")


@dataclass(frozen=True, slots=True)
class TermKey:
    """A term ready to compare: the words it is compared with and how."""

    words: tuple[str, ...]  # folded words, or un-folded when case_sensitive
    exact: bool  # whole words, no fuzziness (short terms and exact entries)
    case_sensitive: bool
    text: str = field(init=False, compare=False)
    first: str = field(init=False, compare=False)
    digits: str = field(init=False, compare=False)
    short_words: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        text = " ".join(self.words)
        setattr_ = object.__setattr__
        setattr_(self, "text", text)
        setattr_(self, "first", text[:1])
        setattr_(self, "digits", digits_of(text))
        shorts = [w for w in self.words if len(w) <= SHORT]
        setattr_(self, "short_words", tuple(dict.fromkeys(shorts) if len(shorts) > 1 else shorts))

    @property
    def k(self) -> int:
        """The term's word count."""
        return len(self.words)

    def run_lengths(self, n_words: int) -> range:
        """The run lengths (in words) to try: k for exact terms, k-1..k+1 otherwise."""
        if self.exact:
            return range(self.k, min(self.k, n_words) + 1)
        return range(max(1, self.k - 1), min(self.k + 1, n_words) + 1)


def digits_of(text: str) -> str:
    """The digits of ``text`` in order."""
    if text.isascii():
        return text.translate(_NOT_ASCII_DIGIT)
    return "".join(filter(str.isdigit, text))


def strip_legal(folded: list[str], cased: list[str]) -> int:
    """How many trailing words are legal forms ("Inc", "S.A.") to drop; keeps one word."""
    n = len(folded)
    if n > 1 and len(folded[-1]) > 1 and folded[-1] not in LEGAL_FORMS:
        return n  # the common case: no legal form at the end
    while n > 1:
        for size in (1, 2, 3):
            tail = folded[n - size : n]
            if size > n - 1 or (size > 1 and any(len(w) != 1 for w in tail)):
                continue
            if "".join(tail) in LEGAL_FORMS:
                n -= size
                break
        else:
            break
    return n


def term_words(raw: str) -> tuple[list[str], list[str]]:
    """(folded, cased) words of a term: ``normalize``'s, cheaper for plain-ASCII names.

    Without an apostrophe no possessive can be dropped, and ASCII letters and digits are
    exactly the word characters, so the words are the regex's runs (tests check this).
    """
    if raw.isascii() and "'" not in raw:
        return _ASCII_WORD.findall(raw.lower()), _ASCII_WORD.findall(raw)
    norm = normalize(raw)
    return list(norm.texts), list(norm.cased)


def prepare_term(term: str, group: str, exact: bool, case_sensitive: bool) -> TermKey | None:
    """The TermKey for one name or alias of an entry in ``group``; None if it has no words."""
    raw = _JURISDICTION.sub(" ", term) if group == "companies" and "/" in term else term
    folded, cased = term_words(raw)
    if not folded:
        return None
    if group == "companies":
        n = strip_legal(folded, cased)
        folded, cased = folded[:n], cased[:n]
    text = " ".join(folded)
    short = len(text) <= SHORT
    ctext = " ".join(cased)
    capitals = ctext.upper() == ctext and ctext.lower() != ctext
    cs = case_sensitive or (short and capitals)
    return TermKey(tuple(cased if cs else folded), exact or short, cs)


def window_score(key: TermKey, norm: NormText, i: int, j: int) -> float | None:
    """The score of words ``i..j-1`` against ``key`` if SPEC rules 2-3 allow a match, else None.

    The caller compares the score with the threshold and applies rule 5.
    """
    words: Sequence[str] = norm.cased if key.case_sensitive else norm.texts
    run = tuple(words[i:j])
    if key.exact:
        return 100.0 if run == key.words else None
    text = " ".join(run)
    if text[:1] != key.first or digits_of(text) != key.digits:
        return None
    if any(w not in run for w in key.short_words):
        return None
    return float(fuzz.ratio(text, key.text))


def capitalised(norm: NormText, i: int) -> bool:
    """SPEC rule 5: the run starting at word ``i`` begins with a capital, digit or caseless char."""
    return not norm.source[norm.starts[i]].islower()
