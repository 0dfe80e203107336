"""Backtests: which articles would each rule have alerted for, and what a rule change alters.

``backtest(rules, articles)`` runs the daemon's matcher (``build_matcher``: disabled
rules match nothing, as in the daemon) over articles, typically the store's archive,
and returns, per rule, every article it matches with its ``Match``. These are the
matches the daemon would have recorded; cooldown, quiet hours, digests and the
same-story fold decide *when* and *how often* a match is sent, not whether it is one,
and are not applied. ``diff(old, new)`` says, per rule, which articles the new rules
add and which they drop. Pure: nothing is recorded, nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from watchlist.match.fast import build_matcher
from watchlist.models import Article, Match, Rule

PROGRESS_EVERY = 200  # articles between calls of ``progress``


@dataclass(frozen=True, slots=True)
class ArticleMatch:
    """One article a rule matched, with the match (its hits)."""

    article: Article
    match: Match

    @property
    def key(self) -> tuple[str, str]:
        """(source, id): what names an article across two backtests."""
        return (self.article.source, self.article.id)


@dataclass(frozen=True, slots=True)
class RuleBacktest:
    """What one rule would have alerted for, in the order the articles came."""

    rule: str
    matches: tuple[ArticleMatch, ...]


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Every rule given (in their order, matched or not) and the articles it matched."""

    rules: tuple[RuleBacktest, ...]
    articles: int  # how many articles were run

    def get(self, rule: str) -> RuleBacktest | None:
        """The result of the rule called ``rule`` (None if it was not run)."""
        return next((r for r in self.rules if r.rule == rule), None)

    @property
    def total(self) -> int:
        """All (article, rule) matches."""
        return sum(len(r.matches) for r in self.rules)


@dataclass(frozen=True, slots=True)
class RuleDiff:
    """What the new version of a rule adds and drops against the old one."""

    rule: str
    added: tuple[ArticleMatch, ...]  # matched now, not before (the new rule's match)
    dropped: tuple[ArticleMatch, ...]  # matched before, not now (the old rule's match)
    in_old: bool  # the rule is among the old rules
    in_new: bool  # the rule is among the new rules
    kept: int  # articles both versions match


@dataclass(frozen=True, slots=True)
class BacktestDiff:
    """Per rule (new rules first, in order, then rules only the old set has): added, dropped."""

    rules: tuple[RuleDiff, ...]

    def get(self, rule: str) -> RuleDiff | None:
        """The diff of the rule called ``rule`` (None if neither side had it)."""
        return next((r for r in self.rules if r.rule == rule), None)

    @property
    def changed(self) -> tuple[RuleDiff, ...]:
        """Only the rules whose matches differ."""
        return tuple(r for r in self.rules if r.added or r.dropped)


def backtest(
    rules: Sequence[Rule],
    articles: Iterable[Article],
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Run ``rules`` over ``articles`` (consumed once, lazily).

    ``progress`` is called with the number of articles done so far, every
    ``PROGRESS_EVERY`` articles and once at the end.
    """
    matcher = build_matcher(rules)
    found: dict[str, list[ArticleMatch]] = {r.name: [] for r in rules}
    done = 0
    for article in articles:
        for m in matcher.match(article):
            found.setdefault(m.rule, []).append(ArticleMatch(article, m))
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    if progress is not None:
        progress(done)
    return BacktestResult(
        rules=tuple(RuleBacktest(name, tuple(ms)) for name, ms in found.items()), articles=done
    )


def diff(old: BacktestResult, new: BacktestResult) -> BacktestDiff:
    """Per rule name: the articles ``new`` matches and ``old`` does not, and the reverse."""
    olds = {r.rule: r for r in old.rules}
    news = {r.rule: r for r in new.rules}
    out: list[RuleDiff] = []
    for name in [*news, *(n for n in olds if n not in news)]:
        before = olds[name].matches if name in olds else ()
        after = news[name].matches if name in news else ()
        before_keys = {m.key for m in before}
        after_keys = {m.key for m in after}
        out.append(
            RuleDiff(
                rule=name,
                added=tuple(m for m in after if m.key not in before_keys),
                dropped=tuple(m for m in before if m.key not in after_keys),
                in_old=name in olds,
                in_new=name in news,
                kept=len(before_keys & after_keys),
            )
        )
    return BacktestDiff(tuple(out))
