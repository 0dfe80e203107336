"""Which of an entry's runs count: SPEC "Matching (v2)" rule 5 (all-caps text), rule 6
(ambiguous names need evidence, ``not_context`` vetoes) and tickers.

Both matchers hand ``judge`` the same accepted runs (they passed ``match_run``, the
threshold and the capital rule), so this is shared code, applied per (rule, entry):

1. A run with a ``not_context`` phrase within 5 words of it never counts.
2. A run of a term that is neither an acronym nor ambiguous counts; so does a ticker.
3. A run of an ambiguous name in mixed-case text counts when the article holds
   evidence: the name followed by a legal form, one of the entry's tickers, a counting
   run of another alias that is not ambiguous, a ``context`` phrase, or the name
   capitalised in the middle of a mixed-case sentence that is not title case, and not
   inside a longer capitalised name (``in_longer_name``).
4. A run of an ambiguous name, or of an acronym that is also a common word (``SET``,
   ``WHO``), in text without lower-case letters counts only when the entry is
   confirmed in mixed-case text: a counting run there (2, 3, or
   an acronym in its capitals), or evidence of 3 found in mixed-case text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from watchlist.match.normalize import NormText
from watchlist.match.terms import LEGAL_FORMS, TermKey, match_run, prepare_term
from watchlist.match.textctx import at_sentence_start, caseless_at, title_case_at
from watchlist.models import Entry, Rule

ARTICLES = frozenset({"the", "a", "an"})  # "The Gap": an article makes no longer name
NOT_CONTEXT_WORDS = 5  # SPEC rule 6: a not_context phrase this close vetoes a hit
LEGAL_EVIDENCE = LEGAL_FORMS | {"spa", "ab", "bv", "kk", "cos"}

_EXCHANGES = (
    r"NYSE(?:\s+(?:American|Arca|MKT))?|Nasdaq|NASDAQ|AMEX|Amex|OTC|OTCQX|OTCQB|TSX|TSXV|"
    r"LSE|ASX|HKEX|SEHK|SSE|SZSE|Euronext|XETRA|Xetra|NYMEX|CBOE"
)
_SYMBOL = r"([A-Z][A-Z0-9]{0,6}(?:[.\-][A-Z0-9]{1,3})?)"
_TICKER = re.compile(
    rf"[<(]\s*(?:(?:{_EXCHANGES})\s*:\s*)?{_SYMBOL}\s*[>)]"
    rf"|\${_SYMBOL}(?![\w$])"
    rf"|\b(?:{_EXCHANGES})\s*:\s*{_SYMBOL}(?![\w])"
)


def find_tickers(source: str) -> list[tuple[str, int, int]]:
    """(symbol, start, end) of everything written as a ticker: in capitals inside ``()``
    or ``<>``, after ``$``, or after ``NYSE:``, ``Nasdaq:`` and the like."""
    out: list[tuple[str, int, int]] = []
    if not any(c in source for c in "<($:"):
        return out
    for m in _TICKER.finditer(source):
        g = next(n for n in (1, 2, 3) if m.group(n) is not None)
        out.append((m.group(g), m.start(g), m.end(g)))
    return out


def ticker_names(symbol: str) -> tuple[str, ...]:
    """The tickers a written symbol stands for: itself, and ``BP`` for ``BP.L``."""
    base = re.split(r"[.\-]", symbol, maxsplit=1)[0]
    return (symbol,) if base == symbol else (symbol, base)


@cache
def entry_keys(entry: Entry, group: str) -> tuple[TermKey | None, ...]:
    """The TermKey of each of the entry's terms (name, then aliases)."""
    return tuple(prepare_term(t, group, entry) for t in entry.terms)


@cache
def phrase_key(phrase: str) -> TermKey | None:
    """A context phrase read like an exact keyword: its words, plural or singular."""
    return prepare_term(phrase, "keywords", Entry(phrase, exact=True))


def phrase_spans(phrase: str, norm: NormText) -> list[tuple[int, int]]:
    """Every run of words of ``norm`` that reads as ``phrase``."""
    key = phrase_key(phrase)
    if key is None:
        return []
    n = len(norm.texts)
    return [
        (i, i + r)
        for r in range(1, key.k + 2)
        for i in range(n - r + 1)
        if match_run(key, norm, i, i + r, 100.0) is not None
    ]


def in_longer_name(norm: NormText, i: int, j: int, *, after: bool = True) -> bool:
    """True when the run sits inside a longer capitalised name ("North Sea", "Metal Box",
    "Dow Jones"): a capitalised word right before it (not a sentence's first word) or
    right after it (not a legal form). There a common word is capitalised as part of
    that other name, so the capital is no evidence."""
    src = norm.source
    if i > 0:
        a = norm.starts[i - 1]
        gap = src[norm.ends[i - 1] : norm.starts[i]]
        if (
            src[a].isupper()
            and norm.texts[i - 1] not in ARTICLES
            and "\n\n" not in gap
            and not any(c in ".!?:;" for c in gap)
        ):
            return True
    if after and j < len(norm.texts) and norm.texts[j] not in LEGAL_EVIDENCE:
        gap = src[norm.ends[j - 1] : norm.starts[j]]
        if src[norm.starts[j]].isupper() and not any(c in ".!?:;,(<" for c in gap):
            return True
    return False


def capitalised_mid_sentence(norm: NormText, i: int, j: int) -> bool:
    """The run begins with a capital in the middle of a sentence that is not title case,
    and not inside a longer capitalised name: where a common word would be lower case."""
    src, at = norm.source, norm.starts[i]
    return (
        src[at].isupper()
        and not at_sentence_start(src, at)
        and not in_longer_name(norm, i, j)
        and not title_case_at(src, at, norm.ends[j - 1])
    )


@dataclass(frozen=True, slots=True)
class Judged:
    """One run of an entry and whether it counts, with the evidence or the reason."""

    field: str
    score: float
    i: int
    j: int
    ti: int  # term index; len(entry.terms) + n for the entry's n-th ticker
    counts: bool
    evidence: str  # what made it count, where evidence was needed
    reason: str  # why it does not count


Run = tuple[str, float, int, int, int]  # field, score, i, j, term index


def judge(
    entry: Entry, group: str, runs: Sequence[Run], norms: Mapping[str, NormText]
) -> list[Judged]:
    """Each run of ``entry`` with whether it counts (see the module docstring)."""
    keys = entry_keys(entry, group)
    nt = len(entry.terms)

    seen: dict[tuple[str, int], bool] = {}

    def mixed(f: str, i: int) -> bool:
        got = seen.get((f, i))
        if got is None:
            got = seen[(f, i)] = not caseless_at(norms[f].source, norms[f].starts[i])
        return got

    def vetoed(f: str, i: int, j: int) -> str:
        for p in entry.not_context:
            for a, b in phrase_spans(p, norms[f]):
                if a < j + NOT_CONTEXT_WORDS and b > i - NOT_CONTEXT_WORDS:
                    return p
        return ""

    out: dict[int, Judged] = {}
    live: list[tuple[int, Run]] = []
    for n, run in enumerate(runs):
        f, s, i, j, ti = run
        veto = vetoed(f, i, j) if entry.not_context else ""
        if veto:
            out[n] = Judged(f, s, i, j, ti, False, "", f"not_context {veto!r} within 5 words")
        else:
            live.append((n, run))
    evidence: list[tuple[str, bool]] = []  # (what, found in mixed-case text)
    pending: list[tuple[int, Run, bool]] = []  # (index, run, ambiguous)
    capitals: list[tuple[str, int, int]] = []  # ambiguous runs: capital evidence to test
    for n, run in live:
        f, s, i, j, ti = run
        key = keys[ti] if ti < nt else None
        if key is None:  # a ticker
            out[n] = Judged(f, s, i, j, ti, True, "", "")
            sym = norms[f].original(i, j)[2]
            evidence.append((f"ticker {sym}", mixed(f, i)))
            continue
        if not key.acronym and not key.ambiguous:
            out[n] = Judged(f, s, i, j, ti, True, "", "")
            evidence.append((f"alias {entry.terms[ti]!r}", mixed(f, i)))
            continue
        if key.acronym and (mixed(f, i) or not key.common):
            out[n] = Judged(f, s, i, j, ti, True, "", "")
            evidence.append((f"acronym {entry.terms[ti]!r}", mixed(f, i)))
            continue
        pending.append((n, run, key.ambiguous))
        if key.ambiguous:
            norm = norms[f]
            if (
                j < len(norm.texts)
                and norm.texts[j] in LEGAL_EVIDENCE
                and not in_longer_name(norm, i, i + 1, after=False)
            ):
                evidence.append((f"followed by {norm.cased[j]!r}", mixed(f, i)))
            capitals.append((f, i, j))
    if entry.context and pending:
        for p in entry.context:
            for f, norm in norms.items():
                for a, _ in phrase_spans(p, norm):
                    evidence.append((f"context {p!r}", mixed(f, a)))
    if not any(m for _, m in evidence):  # the costliest evidence, looked for only if needed
        for f, i, j in capitals:
            if capitalised_mid_sentence(norms[f], i, j) and mixed(f, i):
                evidence.append(("capitalised mid-sentence", True))
                break
    any_ev = evidence[0][0] if evidence else ""
    mixed_ev = next((e for e, m in evidence if m), "")
    for n, (f, s, i, j, ti), ambiguous in pending:
        if mixed(f, i):  # only ambiguous names are pending in mixed-case text
            ok = bool(any_ev)
            why = "" if ok else "ambiguous name: no evidence in the article"
            out[n] = Judged(f, s, i, j, ti, ok, any_ev, why)
        else:
            ok = bool(mixed_ev)
            kind = "ambiguous name" if ambiguous else "acronym"
            why = "" if ok else f"{kind} in all-caps text, not confirmed in mixed-case text"
            ev = f"confirmed in mixed-case text: {mixed_ev}" if ok else ""
            out[n] = Judged(f, s, i, j, ti, ok, ev, why)
    return [out[n] for n in range(len(runs))]


def ambiguous_terms(rules: Sequence[Rule]) -> list[tuple[Rule, str, Entry, str]]:
    """(rule, group, entry, term) of every ambiguous name or alias in ``rules`` (rule 6)
    whose entry gives no ``tickers`` or ``context`` yet, for ``watchlist check``'s notes."""
    out: list[tuple[Rule, str, Entry, str]] = []
    for rule in rules:
        for group, entries in rule.groups():
            for entry in entries:
                for term, key in zip(entry.terms, entry_keys(entry, group), strict=True):
                    if key is not None and key.ambiguous and not (entry.tickers or entry.context):
                        out.append((rule, group, entry, term))
    return out


def ambiguity_note(entry: Entry, term: str) -> str:
    """SPEC's note for one ambiguous name."""
    return (
        f"`{term}` is also a common word: it will alert only with evidence — add "
        f"`tickers: [...]` or `context: [...]`, or `ambiguous: false`"
        + (f" (entry {entry.name!r})" if term != entry.name else "")
    )
