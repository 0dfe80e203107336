"""Property tests: the fast matcher gives exactly the oracle's output on generated input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchlist.match import build_matcher, oracle_match
from watchlist.match.normalize import normalize, normalize_general
from watchlist.models import Article, Entry, Rule

VOCAB = [
    "open", "openai", "anthropic", "shanghai", "stock", "exchange", "star", "market",
    "ai", "who", "sse", "nasdaq", "科", "创", "板", "apple", "inc", "tesla", "goldman",
    "sachs", "bdc", "3m", "x1", "quantum", "computing", "bank", "of", "america", "said",
    "interest", "pinterest", "orange", "range", "fusion", "société", "générale", "co",
    "target", "corp", "ipo", "ipos", "batteries", "battery", "wal", "mart", "walmart",
    "moodys", "u.s.", "a.i.", "opec", "set", "gap", "unit", "<TGT>", "(NYSE: GPS)", "$UNT",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "-", "\n", "/", ", ", "'s ", "’s ", "\t", "  ", "—", ". ", "s "]

word = st.one_of(
    st.sampled_from(VOCAB),
    st.text(alphabet="abcdeinorst0", min_size=1, max_size=9),
)


@st.composite
def styled(draw: st.DrawFn, w: str) -> str:
    """The word with a typo, a case style or an accent."""
    kind = draw(st.sampled_from(["same", "same", "upper", "title", "typo", "accent"]))
    if kind == "upper":
        return w.upper()
    if kind == "title":
        return w.title()
    if kind == "accent":
        return w.replace("e", "é").replace("a", "à")
    if kind == "typo" and len(w) > 1:
        i = draw(st.integers(0, len(w) - 1))
        op = draw(st.sampled_from(["del", "sub", "ins", "swap"]))
        c = draw(st.sampled_from("aeilnors"))
        if op == "del":
            return w[:i] + w[i + 1 :]
        if op == "sub":
            return w[:i] + c + w[i + 1 :]
        if op == "ins":
            return w[:i] + c + w[i:]
        if i + 1 < len(w):
            return w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    return w


@st.composite
def term(draw: st.DrawFn) -> str:
    """A name of 1-4 words in some case style."""
    words = draw(st.lists(word, min_size=1, max_size=4))
    style = draw(st.sampled_from([str.lower, str.title, str.upper]))
    return style(" ".join(words))


@st.composite
def entry(draw: st.DrawFn) -> Entry:
    """An entry with aliases and options."""
    return Entry(
        name=draw(term()),
        aliases=tuple(draw(st.lists(term(), max_size=2))),
        exact=draw(st.booleans().filter(lambda _: True)) and draw(st.booleans()),
        case_sensitive=draw(st.integers(0, 5)) == 0,
        threshold=draw(st.sampled_from([None, None, 70.0, 80.0, 90.0])),
        tickers=tuple(draw(st.lists(st.sampled_from(["TGT", "GPS", "UNT", "AI"]), max_size=2))),
        context=tuple(draw(st.lists(st.sampled_from(["stock", "said", "ipo"]), max_size=1))),
        not_context=tuple(draw(st.lists(st.sampled_from(["orange", "bank of"]), max_size=1))),
        ambiguous=draw(st.sampled_from([None, None, True, False])),
    )


@st.composite
def rule_set(draw: st.DrawFn) -> list[Rule]:
    """One to three rules over all groups."""
    rules = []
    for n in range(draw(st.integers(1, 3))):
        groups = {
            g: tuple(draw(st.lists(entry(), max_size=3)))
            for g in ("topics", "companies", "exchanges", "keywords", "exclude")
        }
        if not any(groups[g] for g in ("topics", "companies", "exchanges", "keywords")):
            groups["topics"] = (draw(entry()),)
        rules.append(
            Rule(
                name=f"r{n}",
                require=draw(st.sampled_from(["all", "any"])),
                threshold=draw(st.sampled_from([60.0, 75.0, 80.0, 85.0, 88.0, 90.0, 95.0])),
                fields=draw(st.sampled_from([("title", "summary", "body"), ("body",)])),
                enabled=draw(st.integers(0, 6)) > 0,
                **groups,
            )
        )
    return rules


@st.composite
def text_for(draw: st.DrawFn, rules: list[Rule]) -> str:
    """Text mixing random words with the rules' terms, mangled."""
    pool = [t for r in rules for _, es in r.groups() for e in es for t in e.terms]
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        if pool and draw(st.booleans()):
            source = draw(st.sampled_from(pool)).split()
        else:
            source = [draw(word)]
        for w in source:
            parts.append(draw(styled(w)))
            parts.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(parts)


@st.composite
def case(draw: st.DrawFn) -> tuple[list[Rule], Article]:
    """Rules and an article written from their terms."""
    rules = draw(rule_set())
    art = Article(
        id="a",
        title=draw(text_for(rules)),
        summary=draw(text_for(rules)),
        body=draw(text_for(rules)),
    )
    return rules, art


def _check(data: tuple[list[Rule], Article]) -> None:
    rules, art = data
    assert build_matcher(rules).match(art) == oracle_match(rules, art)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_fast_equals_oracle(data: tuple[list[Rule], Article]) -> None:
    """On generated rules and texts (typos, case, accents, hyphens, CJK) fast == oracle."""
    _check(data)


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_fast_equals_oracle_long_run(data: tuple[list[Rule], Article]) -> None:
    """The same property over many more examples."""
    _check(data)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_fast_path_equals_general_path(text: str) -> None:
    """Normalising pure-ASCII text by regex gives what the per-character path gives."""
    assert normalize(text) == normalize_general(text)
