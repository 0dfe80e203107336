"""``explain``: why a rule did or did not match an article, entry by entry.

For each group and entry it reports the runs that matched and counted (the same
hits the matchers report) with the reading that matched them (word form, case) and
the evidence that made them count; runs that matched but did not count (all-caps
text, an ambiguous name without evidence, a ``not_context`` veto) with the reason;
and, with no hit, the best run of the term's word count with every reason it fails.
The verdict comes from the oracle, so the explanation never disagrees with the
matcher.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from rapidfuzz import fuzz

from watchlist.match.assemble import (
    entry_threshold,
    judged_entry,
    rule_fields,
    rule_groups,
    select,
    term_name,
)
from watchlist.match.evidence import entry_keys
from watchlist.match.normalize import NormText, normalize
from watchlist.match.oracle import entry_runs, oracle_rule
from watchlist.match.terms import (
    CAPITALISED_GROUPS,
    TermKey,
    capitalised,
    digits_of,
    match_run,
)
from watchlist.match.textctx import caseless_at
from watchlist.models import FIELDS, Article, Entry, Rule

NEAR = 5.0  # near misses: up to this many points below the threshold
MAX_NEAR = 5  # near misses shown per entry


@dataclass(frozen=True, slots=True)
class Span:
    """One run of words tried against one term, and whether it passed."""

    term: str
    field: str
    text: str  # as it stands in the article
    start: int
    end: int
    score: float
    reasons: tuple[str, ...]  # empty: it matched and counted
    reading: str = ""  # the word form and case reading that matched
    evidence: str = ""  # what made it count, where evidence was needed (SPEC rule 6)

    @property
    def ok(self) -> bool:
        """True when the run matched."""
        return not self.reasons

    def line(self, threshold: float) -> str:
        """``88.2 >= 85 'Shanghai stock-exchange' body [4:27] term 'SSE'``, with any reasons."""
        sign = ">=" if self.score >= threshold else "<"
        out = f"{self.score:5.1f} {sign} {threshold:g}  {self.text!r} in {self.field} "
        out += f"[{self.start}:{self.end}] as {self.term!r}"
        if self.reading:
            out += f" ({self.reading})"
        if self.evidence:
            out += f" evidence: {self.evidence}"
        elif not self.reasons and "ambiguous" in self.reading:
            out += " evidence: none needed"
        return out + (f": {'; '.join(self.reasons)}" if self.reasons else "")


@dataclass(frozen=True, slots=True)
class EntryReport:
    """What was found for one entry."""

    name: str
    threshold: float
    hits: tuple[Span, ...]  # the runs reported as hits
    best: Span | None  # the best-scoring run tried, matched or not
    near: tuple[Span, ...]  # near misses

    @property
    def matched(self) -> bool:
        """True when the entry has a hit."""
        return bool(self.hits)


@dataclass(frozen=True, slots=True)
class GroupReport:
    """One group (or ``exclude``) of the rule."""

    group: str
    entries: tuple[EntryReport, ...]

    @property
    def matched(self) -> bool:
        """True when any entry matched."""
        return any(e.matched for e in self.entries)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why ``rule`` did or did not match ``article``."""

    rule: str
    article_id: str
    matched: bool
    why: str
    require: str
    fields: tuple[str, ...]
    groups: tuple[GroupReport, ...]

    def format(self) -> str:
        """A readable report for the terminal."""
        verdict = "MATCHED" if self.matched else "NOT MATCHED"
        lines = [
            f"rule {self.rule!r} on article {self.article_id!r}: {verdict}",
            f"  {self.why}",
            f"  (require {self.require}; fields {', '.join(self.fields)})",
        ]
        for g in self.groups:
            lines.append(f"{g.group}: {'matched' if g.matched else 'no match'}")
            for e in g.entries:
                mark = "+" if e.matched else "-"
                lines.append(f"  {mark} {e.name} (threshold {e.threshold:g})")
                for h in e.hits:
                    lines.append(f"      hit   {h.line(e.threshold)}")
                if not e.hits:
                    if e.best is None:
                        lines.append("      no run of words to compare")
                    else:
                        lines.append(f"      best  {e.best.line(e.threshold)}")
                for s in e.near:
                    lines.append(f"      near  {s.line(e.threshold)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        out = asdict(self)
        for g, gd in zip(self.groups, out["groups"], strict=True):
            gd["matched"] = g.matched
            for e, ed in zip(g.entries, gd["entries"], strict=True):
                ed["matched"] = e.matched
        return out


def _why_not(
    key: TermKey, group: str, threshold: float, norm: NormText, i: int, j: int
) -> list[str]:
    """Every reason the run of the term's word count does not match it (SPEC rules 2-5)."""
    words = norm.cased if key.cased else norm.texts
    run = words[i:j]
    reasons: list[str] = []
    if key.k == 1 and match_run(key, norm, i, j, threshold) is None:
        case = " in the same capitals" if key.cased else ""
        reasons.append(f"one-word term: needs the very word {key.text!r}{case} or its forms")
    elif "".join(c for c in " ".join(run) if c.isdigit()) != digits_of(key.text):
        reasons.append("its digits differ from the term's")
    for w, t, fz in zip(run, key.words, key.fuzzy, strict=False):
        if w == t or key.k == 1:
            continue
        if not fz:
            why = "the entry is exact" if key.exact else "a short word must stand unchanged"
            reasons.append(f"word {t!r} of the term is not there unchanged ({why})")
        elif w[:1] != t[:1]:
            reasons.append(f"{w!r} does not start with {t[:1]!r} like {t!r}")
        elif (r := fuzz.ratio(w, t)) < threshold:
            reasons.append(
                f"score {r:.1f} of {w!r} against {t!r} is below the threshold {threshold:g}"
            )
    if group in CAPITALISED_GROUPS and not capitalised(norm, i):
        reasons.append(f"{group} are names: the match must start with a capital letter")
    return reasons


def _entry(
    rule: Rule, group: str, ei: int, entry: Entry, norms: dict[str, NormText]
) -> EntryReport:
    threshold = entry_threshold(rule, entry)
    found = entry_runs(rule, group, ei, entry, norms)
    judged = judged_entry(rule, group, entry, found, ei, norms)
    keys = entry_keys(entry, group)
    nt = len(entry.terms)

    def span(f: str, i: int, j: int, ti: int, score: float, reasons: tuple[str, ...]) -> Span:
        start, end, text = norms[f].original(i, j)
        key = keys[ti] if ti < nt else None
        reading = "written as a ticker" if key is None else _reading(key, norms[f], i, j)
        return Span(term_name(entry, ti), f, text, start, end, score, reasons, reading)

    hits: list[Span] = []
    evidence = {(jd.field, jd.i, jd.j, jd.ti): jd.evidence for jd in judged if jd.counts}
    for f in rule_fields(rule):
        counted = [(jd.score, jd.i, jd.j, jd.ti) for jd in judged if jd.counts and jd.field == f]
        for score, i, j, ti in select(counted):
            s = span(f, i, j, ti, score, ())
            hits.append(replace(s, evidence=evidence[(f, i, j, ti)]))
    near = [
        span(jd.field, jd.i, jd.j, jd.ti, jd.score, (jd.reason,)) for jd in judged if not jd.counts
    ]
    best: Span | None = None
    if not hits:
        tried: list[Span] = []
        for ti, key in enumerate(keys):
            if key is None:
                continue
            for f in rule_fields(rule):
                norm = norms[f]
                for i in range(len(norm.texts) - key.k + 1):
                    j = i + key.k
                    got = match_run(key, norm, i, j, 0.0)
                    score = (
                        got[0]
                        if got
                        else float(fuzz.ratio(" ".join(norm.texts[i:j]), key.text.casefold()))
                    )
                    if score >= threshold - 30:
                        reasons = _why_not(key, group, threshold, norm, i, j)
                        if reasons:
                            tried.append(span(f, i, j, ti, score, tuple(reasons)))
        tried.sort(key=lambda s: (-s.score, FIELDS.index(s.field), s.start))
        if near:
            best, near = near[0], near[1:]
        elif tried:
            best, tried = tried[0], tried[1:]
        near.extend(s for s in tried if s.score >= threshold - NEAR)
    return EntryReport(entry.name, threshold, tuple(hits), best, tuple(near[:MAX_NEAR]))


def _reading(key: TermKey, norm: NormText, i: int, j: int) -> str:
    """How the run matched the term: exact, a word form, fuzzy, written apart; the case."""
    got = match_run(key, norm, i, j, 0.0)
    reading = got[1] if got else "exact"
    if key.acronym:
        reading += "; acronym: same capitals" if "title" not in reading else ""
    elif key.cased:
        reading += "; case-sensitive"
    if key.ambiguous:
        reading += "; ambiguous name (also a common word)"
    if caseless_at(norm.source, norm.starts[i]):
        reading += "; text without lower case says nothing about case"
    return reading


def explain(rule: Rule, article: Article) -> Explanation:
    """Explain, group by group and entry by entry, whether ``rule`` matches ``article``."""
    norms = {f: normalize(article.field(f)) for f in FIELDS}
    groups = tuple(
        GroupReport(group, tuple(_entry(rule, group, ei, e, norms) for ei, e in enumerate(entries)))
        for group, entries in rule_groups(rule)
    )
    matched = rule.enabled and oracle_rule(rule, article, norms) is not None
    main = [g for g in groups if g.group != "exclude"]
    excluded = [e.name for g in groups if g.group == "exclude" for e in g.entries if e.matched]
    missing = [g.group for g in main if not g.matched]
    if not rule.enabled:
        why = "the rule is disabled (enabled: false)"
    elif excluded:
        why = f"exclude entry {excluded[0]!r} matched"
    elif rule.require == "any":
        why = (
            f"group {next(g.group for g in main if g.matched)} matched (require any)"
            if matched
            else "no group matched (require any)"
        )
    elif missing:
        why = f"group {missing[0]} has no match (require all: every group must match)"
    else:
        why = "every group matched and no exclude entry did"
    return Explanation(rule.name, article.id, matched, why, rule.require, rule_fields(rule), groups)
