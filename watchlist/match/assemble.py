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
    groups = dict(rule_groups(rule))
    order = {g: n for n, g in enumerate(groups)}
    fields = rule_fields(rule)
    keys = sorted(
        (k for k, v in found.items() if v and k[0] in order and k[2] in fields),
        key=lambda k: (order[k[0]], k[1], FIELDS.index(k[2])),
    )
    hit_groups = {k[0] for k in keys}
    matched = [g in hit_groups for g in groups if g != "exclude"]
    ok = all(matched) if rule.require == "all" else any(matched)
    if not matched or not ok or "exclude" in hit_groups:
        return None
    hits: list[Hit] = []
    for group, ei, fname in keys:
        if group == "exclude":
            continue
        entry = groups[group][ei]
        norm = norms[fname]
        for score, i, j, ti in select(found[(group, ei, fname)]):
            start, end, text = norm.original(i, j)
            hits.append(Hit(group, entry.name, entry.terms[ti], text, fname, start, end, score))
    return Match(rule.name, article.id, tuple(hits))
