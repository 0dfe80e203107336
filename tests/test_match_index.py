"""The index from terms to rules: only rules every needed group of which has a run are
assembled, and the output stays the oracle's."""

from __future__ import annotations

from typing import Any

import pytest

from watchlist.match import build_matcher, oracle_match
from watchlist.match import fast as fast_module
from watchlist.models import Article, Entry, Rule


def _rules(n: int) -> list[Rule]:
    return [
        Rule(
            name=f"r{i}",
            companies=(Entry(name=f"Company{i} Industries"),),
            topics=(Entry(name="crude oil"),),
        )
        for i in range(n)
    ]


def _assembled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = fast_module.assemble

    def spy(rule: Rule, *args: Any) -> Any:
        seen.append(rule.name)
        return real(rule, *args)

    monkeypatch.setattr(fast_module, "assemble", spy)
    return seen


def test_a_shared_topic_alone_assembles_no_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """ "crude oil" in 40 rules that also need a company: an article naming only the
    topic assembles none of them."""
    matcher = build_matcher(_rules(40))
    seen = _assembled(monkeypatch)
    assert matcher.match(Article(id="a", title="Crude oil prices rise")) == []
    assert seen == []


def test_only_the_rule_with_every_group_is_assembled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Topic and one rule's company: that rule alone is assembled, and it matches."""
    matcher = build_matcher(_rules(40))
    seen = _assembled(monkeypatch)
    article = Article(id="a", title="Company7 Industries sells crude oil")
    assert [m.rule for m in matcher.match(article)] == ["r7"]
    assert seen == ["r7"]


def test_require_any_needs_one_group() -> None:
    """require: any is assembled on one group's run, all on every group's."""
    rules = [
        Rule(name="any", companies=(Entry(name="Acme"),), topics=(Entry(name="oil"),),
             require="any"),
        Rule(name="all", companies=(Entry(name="Acme"),), topics=(Entry(name="oil"),)),
    ]  # fmt: skip
    matcher = build_matcher(rules)
    article = Article(id="a", title="Oil falls")
    assert [m.rule for m in matcher.match(article)] == ["any"]
    assert matcher.match(article) == oracle_match(rules, article)


def test_an_exclude_hit_alone_assembles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of an exclude entry does not make a rule worth assembling."""
    rules = [Rule(name="r", topics=(Entry(name="oil"),), exclude=(Entry(name="opinion"),))]
    matcher = build_matcher(rules)
    seen = _assembled(monkeypatch)
    assert matcher.match(Article(id="a", title="An opinion on gold")) == []
    assert seen == []
