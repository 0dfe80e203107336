"""Table tests of SPEC "Matching" behaviour, run through both the oracle and the fast matcher."""
# ruff: noqa: E501  (table rows read best one per line)

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from watchlist.match import build_matcher, oracle_match
from watchlist.models import Article, Entry, Match, Rule

Matchers = Callable[[Sequence[Rule], Article], list[Match]]
BOTH: list[Matchers] = [lambda rules, a: build_matcher(rules).match(a), oracle_match]
IDS = ["fast", "oracle"]


def one(group: str, entry: Entry, threshold: float = 88.0) -> list[Rule]:
    """A rule with one entry in one group."""
    return [Rule(name="r", threshold=threshold, **{group: (entry,)})]  # type: ignore[arg-type]


CASES = [
    # (group, entry, threshold, text, expected matched text or None); SPEC Matching (v2)
    ("companies", Entry("Anthropic"), 88, "Anthropic's model", "Anthropic"),
    ("companies", Entry("Anthropic"), 88, "Anthropic’s model", "Anthropic"),
    ("exchanges", Entry("Shanghai Stock Exchange"), 88, "Shanghai stock-exchange", "Shanghai stock-exchange"),
    # one word: exact, never fuzzy
    ("companies", Entry("OpenAI"), 80, "says OpenAl today", None),
    ("companies", Entry("Entergy Corp"), 80, "Energy prices", None),
    ("companies", Entry("Energy"), 80, "Entergy said", None),
    ("topics", Entry("AI"), 88, "he said so", None),
    ("topics", Entry("AI"), 88, "new AI rules", "AI"),
    ("topics", Entry("AI"), 88, "new ai rules", None),
    ("topics", Entry("AI"), 88, "new A.I. rules", "A.I."),
    ("topics", Entry("US"), 88, "the U.S. said", "U.S."),
    ("topics", Entry("Tesla"), 88, "TESLA shares", "TESLA"),
    ("topics", Entry("WHO"), 88, "people who said", None),
    ("topics", Entry("WHO"), 88, "the WHO said", "WHO"),
    ("exchanges", Entry("OPEC"), 88, "prices set by Opec", "Opec"),
    ("exchanges", Entry("OPEC"), 88, "Opec said", None),
    ("exchanges", Entry("COMEX"), 88, "gold on Comex", "Comex"),
    ("exchanges", Entry("SSE"), 88, "on the Sse", None),
    ("exchanges", Entry("科创板"), 88, "公司计划在科创板上市", "科创板"),
    ("exchanges", Entry("STAR Market", aliases=("科创板",)), 88, "在科创板上市", "科创板"),
    ("companies", Entry("Goldman Sachs"), 88, "shares of Goldman\nSachs rose", "Goldman\nSachs"),
    ("companies", Entry("GOLDMAN SACHS GROUP INC"), 88, "analyst at Goldman Sachs said", "Goldman Sachs"),
    ("companies", Entry("INTEL CORP"), 88, "shares of Intel rose", "Intel"),
    ("companies", Entry("INTEL CORP"), 88, "Intel Corp said", "Intel"),
    # ambiguous names (rule 6): "intel" is a common word, so a hit needs evidence
    ("companies", Entry("INTEL CORP"), 88, "Intel said", None),
    ("companies", Entry("INTEL CORP", ambiguous=False), 88, "Intel said", "Intel"),
    ("companies", Entry("Target"), 88, "Target said it would. the target is", None),
    ("companies", Entry("Target", tickers=("TGT",)), 88, "Target said it would", None),
    ("companies", Entry("Target", context=("retailer",)), 88, "Target said. The retailer", "Target"),
    ("companies", Entry("Gap"), 88, "Gap Widens Between Rich and Poor", None),
    ("companies", Entry("Gap"), 88, "shares of The Gap rose", "Gap"),
    ("companies", Entry("Box"), 88, "shares of Metal Box rose", None),
    ("companies", Entry("Apple", not_context=("apple pie",)), 88, "a recipe: Apple pie is good", None),
    ("companies", Entry("UNIT CORP"), 88, "CSX UNIT SETS DIVIDEND", None),
    ("exchanges", Entry("SET"), 88, "DIVIDEND SET", None),
    ("exchanges", Entry("NYMEX"), 88, "NYMEX PALLADIUM VOL", "NYMEX"),
    ("companies", Entry("MOODYS CORP /DE/"), 88, "rated by Moody's", "Moody"),
    ("exchanges", Entry("NASDAQ"), 88, "listed on Nasdaq", "Nasdaq"),
    ("companies", Entry("Apple Inc."), 88, "Apple Inc said", "Apple"),
    ("companies", Entry("ALPHABET INC /DE/"), 88, "shares of Alphabet rose", "Alphabet"),
    ("companies", Entry("Meta Platforms, Inc."), 88, "Meta Platforms said", "Meta Platforms"),
    ("companies", Entry("Orange"), 80, "a range of goods", None),
    ("topics", Entry("Orange"), 80, "orange juice", "orange"),
    ("companies", Entry("Orange"), 80, "orange juice", None),
    ("companies", Entry("Pinterest"), 80, "keen interest in", None),
    ("companies", Entry("Goldman Sachs BDC"), 80, "Goldman Sachs and others", None),
    ("companies", Entry("Goldman Sachs BDC"), 88, "Goldman Sachs BDC Inc", "Goldman Sachs BDC"),
    ("topics", Entry("Boeing 737"), 80, "the Boeing 747 fleet", None),
    ("topics", Entry("Société Générale"), 88, "SOCIETE GENERALE said", "SOCIETE GENERALE"),
    ("topics", Entry("quantum computing"), 88, "Quantum-Computing firms", "Quantum-Computing"),
    ("topics", Entry("quantum computing"), 88, "quantum  computng", "quantum  computng"),
    ("topics", Entry("quantum computing", exact=True), 80, "quantum  computng", None),
    ("topics", Entry("brain-computer interface"), 88, "brain computer interfaces", "brain computer interfaces"),
    ("exchanges", Entry("New York Stock Exchange"), 88, "the New York Stock Excange", "New York Stock Excange"),
    # word forms: plural/singular in topics and keywords only; spacing and hyphenation
    ("topics", Entry("Tesla"), 88, "Teslas sold", "Teslas"),
    ("companies", Entry("Tesla"), 88, "Teslas sold", None),
    ("keywords", Entry("IPO"), 88, "backs IPOs of AI startups", "IPOs"),
    ("keywords", Entry("rate cut"), 88, "two rate cuts", "rate cuts"),
    ("topics", Entry("battery"), 88, "new batteries", "batteries"),
    ("topics", Entry("listing", exact=True), 70, "new listings", "listings"),
    ("topics", Entry("listing", exact=True), 70, "a new listing", "listing"),
    ("topics", Entry("Listing", case_sensitive=True, exact=True), 70, "a new listing", None),
    ("companies", Entry("Walmart"), 88, "shares of Wal-Mart rose", "Wal-Mart"),
    ("companies", Entry("Walmart"), 88, "shares of Wal Mart rose", "Wal Mart"),
    ("companies", Entry("OpenAI"), 88, "says Open AI", "Open AI"),
    ("companies", Entry("World Bank"), 88, "the WORLDBANK said", "WORLDBANK"),
    ("topics", Entry("ＡＩ"), 88, "new AI rules", "AI"),
    ("topics", Entry("AI"), 88, "new ＡＩ rules", "ＡＩ"),
    # plain text is not HTML: Reuters-style brackets stay text
    ("companies", Entry("Montedison SpA"), 88, "said <Montedison SpA> had", "Montedison"),
    # capital rule for companies-only terms, the same term in topics
    ("companies", Entry("Pacific Gateway Properties"), 85, "the Pacific Gatway Properties deal", "Pacific Gatway Properties"),
    ("companies", Entry("Pacific Gateway Properties"), 85, "the pacific gatway properties deal", None),
    ("topics", Entry("Pacific Gateway Properties"), 85, "the pacific gatway properties deal", "pacific gatway properties"),
    ("exchanges", Entry("Pacific Gateway Properties"), 85, "the 3Pacific Gatway Properties", None),
    # several words: as many words, each unchanged (short) or fuzzy (long)
    ("topics", Entry("Amerityre Holdings"), 85, "Ameri tyre Holdings said", "Ameri tyre Holdings"),
    ("topics", Entry("Amerityre Holdings"), 85, "Ameri tyr Holdings said", None),
    ("topics", Entry("Amerityre Holdings"), 85, "Amerityr Holdings said", "Amerityr Holdings"),
]  # fmt: skip


@pytest.mark.parametrize("matcher", BOTH, ids=IDS)
@pytest.mark.parametrize(("group", "entry", "threshold", "text", "expected"), CASES)
def test_behaviour_table(
    matcher: Matchers, group: str, entry: Entry, threshold: float, text: str, expected: str | None
) -> None:
    """Each SPEC example matches (with the article's own text) or not, as the table says."""
    art = Article(id="a", body=text)
    got = matcher(one(group, entry, threshold), art)
    texts = [h.text for m in got for h in m.hits]
    assert texts == ([] if expected is None else [expected])
    for m in got:
        for h in m.hits:
            assert text[h.start : h.end] == h.text


def test_hit_fields_and_offsets() -> None:
    """A hit records group, entry, term, text, field, offsets into that field and score."""
    rules = [Rule(name="r", exchanges=(Entry("STAR Market", aliases=("Sci-Tech Board",)),))]
    art = Article(id="x", title="IPOs", body="Listed on the\nSci-Tech  Board today")
    [m] = build_matcher(rules).match(art)
    [h] = m.hits
    assert (m.rule, m.article_id) == ("r", "x")
    assert (h.group, h.entry, h.term, h.field) == (
        "exchanges",
        "STAR Market",
        "Sci-Tech Board",
        "body",
    )
    assert (h.start, h.end, h.text, h.score) == (14, 29, "Sci-Tech  Board", 100.0)


RULE_CASES = [
    # (rule kwargs, text, matches?)
    ({"topics": (Entry("fusion"),), "companies": (Entry("Helion"),)}, "fusion at Helion", True),
    ({"topics": (Entry("fusion"),), "companies": (Entry("Helion"),)}, "fusion power", False),
    ({"topics": (Entry("fusion"),), "keywords": (Entry("IPO"),), "require": "any"}, "fusion power", True),
    ({"topics": (Entry("fusion"),), "exclude": (Entry("opinion"),)}, "Opinion: fusion", False),
    ({"topics": (Entry("fusion"),), "exclude": (Entry("opinion"),)}, "fusion news", True),
    ({"topics": (Entry("fusion"),), "enabled": False}, "fusion news", False),
    ({"topics": (Entry("fusion"),), "fields": ("title",)}, "fusion news", False),
    ({"topics": (Entry("fusiom power", threshold=80.0),), "threshold": 95.0}, "fusion power news", True),
    ({"topics": (Entry("fusiom power"),), "threshold": 95.0}, "fusion power news", False),
]  # fmt: skip


@pytest.mark.parametrize("matcher", BOTH, ids=IDS)
@pytest.mark.parametrize(("kwargs", "body", "expected"), RULE_CASES)
def test_rule_logic(
    matcher: Matchers, kwargs: dict[str, object], body: str, expected: bool
) -> None:
    """Groups per require, exclude, enabled, fields and entry thresholds decide a rule (rule 6)."""
    rules = [Rule(name="r", **kwargs)]  # type: ignore[arg-type]
    got = matcher(rules, Article(id="a", title="news", body=body))
    assert bool(got) is expected


def test_rules_in_order_and_hit_selection() -> None:
    """Matches come in rule order; per entry and field, overlapping runs keep only the best."""
    rules = [
        Rule(name="b", topics=(Entry("stock exchange", aliases=("exchange",)),)),
        Rule(name="a", topics=(Entry("stock"),)),
    ]
    art = Article(id="a", body="stock exchange news; the exchange and the stock")
    fast = build_matcher(rules).match(art)
    assert fast == oracle_match(rules, art)
    assert [m.rule for m in fast] == ["b", "a"]
    assert [(h.term, h.start) for h in fast[0].hits] == [("stock exchange", 0), ("exchange", 25)]
    assert [h.start for h in fast[1].hits] == [0, 42]


@pytest.mark.parametrize("matcher", BOTH, ids=IDS)
def test_term_shared_by_companies_and_topics_keeps_lowercase_topic_hits(matcher: Matchers) -> None:
    """A term in both companies and topics still matches lower-case text, as a topic only."""
    term = Entry("Pacific Gateway Properties")
    rules = [Rule(name="r", threshold=85.0, companies=(term,), topics=(term,))]
    art = Article(
        id="a", body="shares of pacific gatway properties rose; Pacific Gateway Properties said"
    )
    hits = [(h.group, h.text) for m in matcher(rules, art) for h in m.hits]
    assert hits == [
        ("topics", "pacific gatway properties"),
        ("topics", "Pacific Gateway Properties"),
        ("companies", "Pacific Gateway Properties"),
    ]
