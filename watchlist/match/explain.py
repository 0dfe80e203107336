"""``explain``: why a rule did or did not match an article, entry by entry.

For each group and entry it reports the runs that matched (the same hits the
matchers report), the best run and its score against the threshold, near misses
(runs scoring up to 5 points below the threshold, or at or above it but failing
another rule), each with the reason it failed. The verdict comes from the oracle,
so the explanation can never disagree with the matcher.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rapidfuzz import fuzz

from watchlist.match.assemble import entry_threshold, rule_fields, rule_groups, select
from watchlist.match.normalize import NormText, normalize
from watchlist.match.oracle import oracle_rule
from watchlist.match.terms import CAPITALISED_GROUPS, TermKey, capitalised, prepare_term
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
    reasons: tuple[str, ...]  # empty: it matched

    @property
    def ok(self) -> bool:
        """True when the run matched."""
        return not self.reasons

    def line(self, threshold: float) -> str:
        """``88.2 >= 85 'Shanghai stock-exchange' body [4:27] term 'SSE'``, with any reasons."""
        sign = ">=" if self.score >= threshold else "<"
        out = f"{self.score:5.1f} {sign} {threshold:g}  {self.text!r} in {self.field} "
        out += f"[{self.start}:{self.end}] as {self.term!r}"
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


def _try(
    key: TermKey, group: str, threshold: float, norm: NormText, i: int, j: int
) -> tuple[float, list[str]]:
    """The run's score against the term and every reason it does not match."""
    words = norm.cased if key.case_sensitive else norm.texts
    run = tuple(words[i:j])
    text = " ".join(run)
    score = float(fuzz.ratio(text, key.text))
    reasons: list[str] = []
    if key.exact:
        if run != key.words:
            case = " in the same case" if key.case_sensitive else ""
            reasons.append(f"short or exact term: needs the very words {key.text!r}{case}")
        else:
            score = 100.0
    else:
        if score < threshold:
            reasons.append(f"score {score:.1f} is below the threshold {threshold:g}")
        if text[:1] != key.first:
            reasons.append(f"does not start with {key.first!r} like the term")
        if "".join(c for c in text if c.isdigit()) != key.digits:
            reasons.append("its digits differ from the term's")
        missing = [w for w in key.short_words if w not in run]
        if missing:
            reasons.append(f"short word {missing[0]!r} of the term is not there unchanged")
    if group in CAPITALISED_GROUPS and not capitalised(norm, i):
        reasons.append(f"{group} are names: the match must start with a capital letter")
    return score, reasons


def _entry(rule: Rule, group: str, entry: Entry, norms: dict[str, NormText]) -> EntryReport:
    threshold = entry_threshold(rule, entry)
    tried: list[Span] = []
    cands: dict[str, list[tuple[float, int, int, int]]] = {}
    for ti, term in enumerate(entry.terms):
        key = prepare_term(term, group, entry.exact, entry.case_sensitive)
        if key is None:
            continue
        for fname in rule_fields(rule):
            norm = norms[fname]
            n = len(norm.texts)
            for length in key.run_lengths(n):
                for i in range(n - length + 1):
                    score, reasons = _try(key, group, threshold, norm, i, i + length)
                    start, end, text = norm.original(i, i + length)
                    tried.append(Span(term, fname, text, start, end, score, tuple(reasons)))
                    if not reasons:
                        cands.setdefault(fname, []).append((score, i, i + length, ti))
    hits: list[Span] = []
    for fname in rule_fields(rule):
        norm = norms[fname]
        for score, i, j, ti in select(cands.get(fname, [])):
            start, end, text = norm.original(i, j)
            hits.append(Span(entry.terms[ti], fname, text, start, end, score, ()))
    order = sorted(tried, key=lambda s: (-s.score, FIELDS.index(s.field), s.start, s.end))
    best = order[0] if order else None
    near: list[Span] = []
    seen: set[tuple[str, int, int]] = set()
    for s in order:
        if len(near) >= MAX_NEAR or s.score < threshold - NEAR:
            break
        if s.ok or (s.field, s.start, s.end) in seen or (s is best and not hits):
            continue
        seen.add((s.field, s.start, s.end))
        near.append(s)
    return EntryReport(entry.name, threshold, tuple(hits), best, tuple(near))


def explain(rule: Rule, article: Article) -> Explanation:
    """Explain, group by group and entry by entry, whether ``rule`` matches ``article``."""
    norms = {f: normalize(article.field(f)) for f in FIELDS}
    groups = tuple(
        GroupReport(group, tuple(_entry(rule, group, e, norms) for e in entries))
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
