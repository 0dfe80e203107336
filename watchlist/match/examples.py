"""Running rules' ``examples``: does each rule match what it must, and only that?

``run_examples(rules)`` matches every example with the matcher the daemon uses
(``build_matcher``; a disabled rule is tested as if enabled, since its examples say
what it would do once turned on) and returns one ``ExampleFailure`` per example
that went the wrong way, with the reason ``explain`` gives. ``watchlist check``,
``watchlist test``, hot reload and the web page's rule tester all call it. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from watchlist.config.errors import ConfigError
from watchlist.match.explain import Explanation, Span, explain
from watchlist.match.fast import build_matcher
from watchlist.models import Example, Hit, Rule


@dataclass(frozen=True, slots=True)
class ExampleFailure:
    """An example that a rule matched but must not, or must match but did not."""

    path: str
    line: int
    column: int
    rule: str
    index: int  # 1-based within its list (match or no_match)
    expected: bool  # True: it should have matched
    reason: str

    @property
    def message(self) -> str:
        """``example 2 of rule R should match but did not: <reason>``."""
        what = "should match but did not" if self.expected else "should not match but did"
        return f"example {self.index} of rule {self.rule} {what}: {self.reason}"

    def error(self) -> ConfigError:
        """The failure as a config error, as ``check`` and a reload report it."""
        return ConfigError(self.path, self.line, self.column, self.message)

    def __str__(self) -> str:
        return str(self.error())  # path:line:column: message, the path as the user knows it


def count_examples(rules: Sequence[Rule]) -> int:
    """How many examples ``rules`` carry in all."""
    return sum(len(r.examples) for r in rules)


def run_examples(rules: Sequence[Rule]) -> list[ExampleFailure]:
    """Every example of ``rules`` that went the wrong way, in rule and file order."""
    tested = [replace(r, enabled=True) for r in rules if r.examples]
    if not tested:
        return []
    matcher = build_matcher(tested)
    failures: list[ExampleFailure] = []
    for rule in tested:
        for ex in rule.examples:
            found = next((m for m in matcher.match(ex.article) if m.rule == rule.name), None)
            if (found is not None) == ex.expect:
                continue
            reason = (
                _why_not(explain(rule, ex.article)) if found is None else _why(found.hits, rule)
            )
            failures.append(_failure(ex, rule.name, reason))
    return failures


def _failure(ex: Example, rule: str, reason: str) -> ExampleFailure:
    return ExampleFailure(ex.path, ex.line, ex.column, rule, ex.index, ex.expect, reason)


def _where(field: str, start: int, end: int) -> str:
    return f"{field} {start}–{end}"


def _why(hits: Sequence[Hit], rule: Rule) -> str:
    """Why it matched: every hit that counted, as ``entry IPO: hit 'IPO' at title 40–43``."""
    parts = [f"entry {h.entry}: hit {h.text!r} at {_where(h.field, h.start, h.end)}" for h in hits]
    need = "every group matched" if rule.require == "all" else "a group matched"
    return f"{need} and no exclude entry did; " + "; ".join(parts)


def _span(name: str, span: Span) -> str:
    said = f"entry {name}: hit {span.text!r} at {_where(span.field, span.start, span.end)}"
    return said + (f" did not count: {', '.join(span.reasons)}" if span.reasons else " counted")


def _why_not(ex: Explanation) -> str:
    """Why it did not match: the verdict, then the best try of each entry that decided it."""
    excluded = [
        (e.name, e.hits[0]) for g in ex.groups if g.group == "exclude" for e in g.entries if e.hits
    ]
    if excluded:
        name, span = excluded[0]
        where = _where(span.field, span.start, span.end)
        return f"exclude entry {name}: hit {span.text!r} at {where}"
    missing = [g for g in ex.groups if g.group != "exclude" and not g.matched]
    details: list[str] = []
    for g in missing:
        for e in g.entries:
            if e.best is None:
                details.append(f"entry {e.name}: no run of words to compare")
            else:
                details.append(_span(e.name, e.best))
    return "; ".join([ex.why, *details[:3]]) + ("; ..." if len(details) > 3 else "")
