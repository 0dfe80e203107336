"""From accepted runs to Matches: evidence, hit selection and SPEC rule 7 (groups, require,
exclude).

Both matchers hand over, per rule, the runs that passed ``match_run``, the
threshold and the capital rule, keyed by (group, entry index, field). The rest is
the same code for both: ``evidence.judge`` decides, per entry, which runs count
(all-caps text, ambiguous names, ``not_context``); runs that cross a run of another
entry of the same group are dropped (``uncross``); then, for each entry and field,
the counting runs (over all the entry's terms and tickers) are taken best first --
highest score, then earliest start, then fewest words, then the earlier term -- and
each one that overlaps no run kept before it is kept. Kept runs are reported in
text order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from watchlist.match.evidence import Judged, judge
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
    """The threshold and the capital rule (SPEC rule 5) for a run ``match_run`` scored ``score``."""
    if score < entry_threshold(rule, entry):
        return False
    return group not in CAPITALISED_GROUPS or capitalised(norm, i)


def select(cands: Sequence[Candidate]) -> list[Candidate]:
    """Every non-overlapping best run, in text order (see the module docstring); ``cands``
    holds distinct runs."""
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


def term_name(entry: Entry, ti: int) -> str:
    """The name, alias or ticker with index ``ti`` (tickers follow the terms)."""
    terms = entry.terms
    return terms[ti] if ti < len(terms) else entry.tickers[ti - len(terms)]


def uncross(
    counted: dict[tuple[str, int, str], list[Candidate]],
) -> dict[tuple[str, int, str], list[Candidate]]:
    """Without the runs that cross a run of another entry of the same group in the same
    field ("First National" and "National Bank" in "First National Bank of Chicago"):
    the text names something longer than either entry."""
    spans: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
    for (g, ei, f), cands in counted.items():
        spans.setdefault((g, f), []).extend((c[1], c[2], ei) for c in cands)
    crossed: set[tuple[str, str, int, int, int]] = set()
    for (g, f), runs in spans.items():
        if len(runs) < 2:
            continue
        runs.sort()
        for n, (a, b, e) in enumerate(runs):
            for a2, b2, e2 in runs[n + 1 :]:
                if a2 >= b:
                    break
                if e2 != e and a < a2 < b < b2:
                    crossed.update({(g, f, a, b, e), (g, f, a2, b2, e2)})
    if not crossed:
        return counted
    out: dict[tuple[str, int, str], list[Candidate]] = {}
    for (g, ei, f), cands in counted.items():
        kept = [c for c in cands if (g, f, c[1], c[2], ei) not in crossed]
        if kept:
            out[(g, ei, f)] = kept
    return out


def judged_entry(
    rule: Rule, group: str, entry: Entry, found: Found, ei: int, norms: Mapping[str, NormText]
) -> list[Judged]:
    """Every accepted run of one entry over the rule's fields, judged (``evidence.judge``)."""
    fields = rule_fields(rule)
    runs = [
        (f, c[0], c[1], c[2], c[3])
        for f in fields
        for c in sorted(set(found.get((group, ei, f), ())), key=lambda c: (c[1], c[2], c[3]))
    ]
    return judge(entry, group, runs, {f: norms[f] for f in fields}) if runs else []


def assemble(
    rule: Rule, article: Article, found: Found, norms: Mapping[str, NormText]
) -> Match | None:
    """The Match for ``rule`` given its accepted runs, or None when it does not match."""
    groups = rule_groups(rule)
    counted: dict[tuple[str, int, str], list[Candidate]] = {}
    evidence: dict[tuple[str, int, str, int, int, int], str] = {}
    present = {(g, ei) for g, ei, _ in found}
    for group, entries in groups:
        for ei, entry in enumerate(entries):
            if (group, ei) not in present:
                continue
            for jd in judged_entry(rule, group, entry, found, ei, norms):
                if jd.counts:
                    counted.setdefault((group, ei, jd.field), []).append(
                        (jd.score, jd.i, jd.j, jd.ti)
                    )
                    evidence[(group, ei, jd.field, jd.i, jd.j, jd.ti)] = jd.evidence
    counted = uncross(counted)
    hit_groups = {k[0] for k in counted}
    matched = [g in hit_groups for g, _ in groups if g != "exclude"]
    ok = all(matched) if rule.require == "all" else any(matched)
    if not matched or not ok or "exclude" in hit_groups:
        return None
    entries_of = dict(groups)
    hits: list[Hit] = []
    for group, ei, fname in counted:  # in group, entry, field order (built so)
        if group == "exclude":
            continue
        entry = entries_of[group][ei]
        norm = norms[fname]
        for score, i, j, ti in select(counted[(group, ei, fname)]):
            start, end, text = norm.original(i, j)
            ev = evidence[(group, ei, fname, i, j, ti)]
            hits.append(
                Hit(group, entry.name, term_name(entry, ti), text, fname, start, end, score, ev)
            )
    return Match(rule.name, article.id, tuple(hits))
