"""From accepted runs to Matches: hit selection and SPEC rule 6 (groups, require, exclude).

Both matchers hand over, per rule, the runs that passed ``window_score``, the
threshold and rule 5, keyed by (group, entry index, field). Hit selection is
then the same code for both:

for each entry and field, take the candidate runs (over all the entry's terms)
best first -- highest score, then earliest start, then fewest words, then the
earlier term -- and keep each one that overlaps no run kept before it. The kept
runs are reported in text order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from watchlist.match.normalize import NormText
from watchlist.match.terms import CAPITALISED_GROUPS, capitalised
from watchlist.models import FIELDS, Article, Entry, Hit, Match, Rule

# (score, first word, end word, term index)
Candidate = tuple[float, int, int, int]
# (group, entry index, field) -> candidates
Found = dict[tuple[str, int, str], list[Candidate]]


def entry_threshold(rule: Rule, entry: Entry) -> float:
    """The entry's own threshold, else the rule's."""
    return rule.threshold if entry.threshold is None else entry.threshold


def accepts(rule: Rule, group: str, entry: Entry, norm: NormText, score: float, i: int) -> bool:
    """The threshold and SPEC rule 5 for a run whose ``window_score`` was ``score``."""
    if score < entry_threshold(rule, entry):
        return False
    return group not in CAPITALISED_GROUPS or capitalised(norm, i)


def select(cands: Sequence[Candidate]) -> list[Candidate]:
    """Every non-overlapping best run, in text order (see the module docstring)."""
    chosen: list[Candidate] = []
    for c in sorted(cands, key=lambda c: (-c[0], c[1], c[2] - c[1], c[3])):
        if all(c[2] <= o[1] or o[2] <= c[1] for o in chosen):
            chosen.append(c)
    chosen.sort(key=lambda c: c[1])
    return chosen


def rule_groups(rule: Rule) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
    """The rule's groups and then ``exclude`` (when it has entries)."""
    groups = rule.groups()
    return (*groups, ("exclude", rule.exclude)) if rule.exclude else groups


def rule_fields(rule: Rule) -> tuple[str, ...]:
    """The fields the rule searches, in SPEC order."""
    return tuple(f for f in FIELDS if f in rule.fields)


def assemble(
    rule: Rule, article: Article, found: Found, norms: Mapping[str, NormText]
) -> Match | None:
    """The Match for ``rule`` given its accepted runs, or None when it does not match."""
    hits: list[Hit] = []
    matched: list[bool] = []
    excluded = False
    fields = rule_fields(rule)
    for group, entries in rule_groups(rule):
        group_hit = False
        for ei, entry in enumerate(entries):
            for fname in fields:
                cands = found.get((group, ei, fname))
                if not cands:
                    continue
                group_hit = True
                if group == "exclude":
                    continue
                norm = norms[fname]
                for score, i, j, ti in select(cands):
                    start, end, text = norm.original(i, j)
                    hits.append(
                        Hit(group, entry.name, entry.terms[ti], text, fname, start, end, score)
                    )
        if group == "exclude":
            excluded = group_hit
        else:
            matched.append(group_hit)
    ok = all(matched) if rule.require == "all" else any(matched)
    if not matched or not ok or excluded:
        return None
    return Match(rule.name, article.id, tuple(hits))
