"""Terms and the run test: SPEC "Matching (v2)" rules 2-5 as one predicate.

``prepare_term`` turns an entry's name or alias into a ``TermKey``: its normalised
words (legal forms dropped in companies), how they are compared (case as written,
word forms, fuzziness) and whether the name is an acronym or ambiguous.
``match_run`` says whether a run of article words matches a term, with its score and
the reading that made it match. The oracle and the fast matcher both call it, so they
can only differ in *which* runs they try.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from rapidfuzz import fuzz

from watchlist.match.forms import acronym_letters, is_acronym, is_common_word, word_forms
from watchlist.match.normalize import DOTTED, NormText, normalize
from watchlist.match.textctx import at_sentence_start
from watchlist.models import Entry

_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")

MAX_PIECES = 3  # a term written together or apart matches runs of at most this many words
SHORT = 5  # SPEC rule 3: words of 5 characters or fewer stand unchanged
CAPITALISED_GROUPS = frozenset({"companies", "exchanges"})  # SPEC rule 5
FORM_GROUPS = frozenset({"topics", "keywords"})  # SPEC rule 2: plural and singular
LEGAL_FORMS = frozenset(
    "inc corp corporation co company ltd limited llc lp plc ag sa nv se gmbh".split()  # noqa: SIM905
)
# beyond SPEC's list: the same forms in other jurisdictions, and the SEC's ``/ADR`` tag
OTHER_LEGAL_FORMS = frozenset("spa oy oyj ab asa bv kk pty bhd adr".split())  # noqa: SIM905
GROUP_WORDS = frozenset({"group", "holdings", "holding"})
DROPPED = LEGAL_FORMS | OTHER_LEGAL_FORMS | GROUP_WORDS
_NOT_ASCII_DIGIT = {c: None for c in range(128) if not chr(c).isdigit()}
_JURISDICTION = re.compile(r"(?<![A-Za-z0-9])/[A-Za-z]{2,3}/?(?![A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class TermKey:
    """A term ready to compare: the words it is compared with and how."""

    words: tuple[str, ...]  # folded words, or as written when ``cased``
    cased: bool  # compared un-folded: an acronym, or a case_sensitive entry
    exact: bool  # ``exact: true``: no fuzziness
    plural: bool  # topics and keywords: words also match their plural or singular
    acronym: bool  # SPEC rule 5: one word in capitals of at most 5 characters
    title_case: bool  # an acronym of 4-5 letters: also Title case, not at a sentence start
    ambiguous: bool  # SPEC rule 6: a hit needs evidence
    common: bool = False  # an acronym that is also a common word (``SET``, ``WHO``)
    forms: tuple[frozenset[str], ...] = field(init=False, compare=False)  # () unless plural
    fuzzy: tuple[bool, ...] = field(init=False, compare=False)
    compact: frozenset[str] = field(init=False, compare=False)
    title: str = field(init=False, compare=False)
    k: int = field(init=False, compare=False)  # the term's word count
    cmax: int = field(init=False, compare=False)  # ``compact_max``

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        words = self.words
        k = len(words)
        set_(self, "k", k)
        set_(self, "cmax", min(k + 1, MAX_PIECES))
        joined = "".join(words)
        if self.plural:
            forms = tuple(map(word_forms, words))
            set_(self, "compact", frozenset(joined[: -len(words[-1])] + f for f in forms[-1]))
        else:
            forms = ()  # a word's only form is itself
            set_(self, "compact", frozenset((joined,)))
        set_(self, "forms", forms)
        # words are letters and digits only: "no digit" is isalpha
        if self.exact or k == 1:
            set_(self, "fuzzy", (False,) * k)
        else:
            set_(self, "fuzzy", tuple([len(w) > SHORT and w.isalpha() for w in words]))
        set_(self, "title", joined[:1] + joined[1:].lower() if self.title_case else "")

    @property
    def text(self) -> str:
        """The words joined by single spaces."""
        return " ".join(self.words)


def digits_of(text: str) -> str:
    """The digits of ``text`` in order."""
    if text.isascii():
        return text.translate(_NOT_ASCII_DIGIT)
    return "".join(filter(str.isdigit, text))


def strip_legal(folded: list[str], cased: list[str]) -> int:
    """How many leading words remain once trailing legal forms, group words (and a
    dangling ``and``) are dropped; keeps at least one word (SPEC rule 4)."""
    n = len(folded)
    while n > 1 and (folded[n - 1] in DROPPED or (folded[n - 1] == "and" and n < len(folded))):
        n -= 1
    return n


def term_words(raw: str) -> tuple[list[str], list[str]]:
    """(folded, cased) words of a term: ``normalize``'s, cheaper for plain-ASCII names.

    Without an apostrophe or dotted letters no possessive is dropped and no letters merge,
    and ASCII letters and digits are exactly the word characters, so the words are the
    regex's runs (tests check this).
    """
    if raw.isascii() and "'" not in raw and ("." not in raw or not DOTTED.search(raw)):
        return _ASCII_WORD.findall(raw.lower()), _ASCII_WORD.findall(raw)
    norm = normalize(raw)
    return list(norm.texts), list(norm.cased)


@cache
def prepare_term(term: str, group: str, entry: Entry) -> TermKey | None:
    """The TermKey for one name or alias of ``entry`` in ``group``; None without words."""
    raw = _JURISDICTION.sub(" ", term) if group == "companies" and "/" in term else term
    folded, cased = term_words(raw)
    if not folded:
        return None
    if group == "companies":
        n = strip_legal(folded, cased)
        folded, cased = folded[:n], cased[:n]
    acronym = is_acronym(raw)
    cs = entry.case_sensitive or acronym
    ambiguous = (
        group in CAPITALISED_GROUPS
        and len(folded) == 1
        and not acronym
        and entry.ambiguous is not False
        and (entry.ambiguous is True or is_common_word(folded[0]))
    )
    return TermKey(
        words=tuple(cased if cs else folded),
        cased=cs,
        exact=entry.exact,
        plural=group in FORM_GROUPS,
        acronym=acronym,
        title_case=acronym and 4 <= acronym_letters(raw) <= 5,
        ambiguous=ambiguous,
        common=acronym and is_common_word("".join(folded).casefold()),
    )


def compact_max(key: TermKey) -> int:
    """The most words a run may have to match the term written together or apart: one
    more than the term, at most MAX_PIECES (``Walmart``/``Wal Mart``, ``WORLDBANK``)."""
    return key.cmax


def max_run(key: TermKey) -> int:
    """The longest run (in words) that can match the term."""
    return max(key.k, compact_max(key))


def match_run(
    key: TermKey, norm: NormText, i: int, j: int, threshold: float
) -> tuple[float, str] | None:
    """(score, reading) when words ``i..j-1`` match ``key`` by SPEC rules 2-3, else None.

    Word by word (a run of the term's word count): each word one of the term word's forms,
    or, for a word the term allows to be fuzzy, one beginning with the same character and
    scoring at least ``threshold``; a 4-5 letter acronym also in Title case where it is not
    the first word of a sentence. Else the run written together or apart (1..``compact_max``
    words) equals the term's words written together. The score is the lowest word score.
    """
    words = norm.cased if key.cased else norm.texts
    fuzzy: tuple[float, str] | None = None
    if j - i == key.k:
        score, reading = 100.0, "exact"
        for p in range(key.k):
            w = words[i + p]
            t = key.words[p]
            if w == t:
                continue
            if key.plural and w in key.forms[p]:
                reading = "plural or singular" if reading == "exact" else reading
                continue
            if i + p in norm.poss and len(t) > SHORT and (w + "s" == t or w + "S" == t):
                reading = "possessive written without apostrophe"
                continue
            if (
                key.k == 1
                and key.title
                and w == key.title
                and not at_sentence_start(norm.source, norm.starts[i])
            ):
                reading = "acronym in title case"
                continue
            if key.fuzzy[p] and w[:1] == t[:1]:
                r = float(fuzz.ratio(w, t))
                if r >= threshold:
                    score, reading = min(score, r), "fuzzy"
                    continue
            break
        else:
            if score == 100.0:
                return score, reading
            fuzzy = (score, reading)
    if j - i <= key.cmax and "".join(words[i:j]) in key.compact:
        return 100.0, "written together or apart"
    return fuzzy


def capitalised(norm: NormText, i: int) -> bool:
    """SPEC rule 5: the run starting at word ``i`` begins with a capital, digit or caseless char."""
    return not norm.source[norm.starts[i]].islower()
