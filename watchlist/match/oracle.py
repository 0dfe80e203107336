"""The reference matcher: SPEC's definition by brute force, every term against every run.

Deliberately plain: for each enabled rule, group, entry, term and field, try
every run of words the term allows and keep the runs that pass
``window_score``, the threshold and rule 5. The fast matcher must give exactly
this output.
"""

from __future__ import annotations

from collections.abc import Sequence

from watchlist.match.assemble import Found, accepts, assemble, rule_fields, rule_groups
from watchlist.match.normalize import NormText, normalize
from watchlist.match.terms import prepare_term, window_score
from watchlist.models import Article, Match, Rule


def oracle_rule(rule: Rule, article: Article, norms: dict[str, NormText]) -> Match | None:
    """Match one rule by brute force."""
    found: Found = {}
    for group, entries in rule_groups(rule):
        for ei, entry in enumerate(entries):
            for ti, term in enumerate(entry.terms):
                key = prepare_term(term, group, entry.exact, entry.case_sensitive)
                if key is None:
                    continue
                for fname in rule_fields(rule):
                    norm = norms[fname]
                    n = len(norm.texts)
                    for length in key.run_lengths(n):
                        for i in range(n - length + 1):
                            score = window_score(key, norm, i, i + length)
                            if score is None:
                                continue
                            if accepts(rule, group, entry, norm, score, i):
                                found.setdefault((group, ei, fname), []).append(
                                    (score, i, i + length, ti)
                                )
    return assemble(rule, article, found, norms)


def oracle_match(rules: Sequence[Rule], article: Article) -> list[Match]:
    """Every enabled rule that matches ``article``, in rule order (brute force)."""
    norms = {f: normalize(article.field(f)) for f in ("title", "summary", "body")}
    out: list[Match] = []
    for rule in rules:
        if not rule.enabled:
            continue
        m = oracle_rule(rule, article, norms)
        if m is not None:
            out.append(m)
    return out
