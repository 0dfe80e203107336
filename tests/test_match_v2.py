"""Matching v2 beyond the table: check's ambiguity notes, evidence on hits, offsets on Reuters."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from watchlist.match import build_matcher, oracle_match
from watchlist.match.evidence import ambiguous_terms
from watchlist.models import Article, Entry, Rule


def test_ambiguous_terms_listed_for_check() -> None:
    """Ambiguous names without tickers or context are listed; ambiguous: false is not."""
    rule = Rule(
        name="r",
        companies=(
            Entry("Target"),
            Entry("Gap Inc", tickers=("GPS",)),
            Entry("Apple", ambiguous=False),
            Entry("Texaco"),
        ),
    )
    assert [t for _, _, _, t in ambiguous_terms([rule])] == ["Target"]


def test_hit_carries_its_evidence() -> None:
    """A hit of an ambiguous name records what made it count."""
    rules = [Rule(name="r", companies=(Entry("Target", tickers=("TGT",)),))]
    art = Article(id="a", body="Target said (NYSE: TGT) it would")
    [m] = build_matcher(rules).match(art)
    assert [(h.text, h.evidence) for h in m.hits] == [("Target", "ticker TGT"), ("TGT", "")]
    assert [m] == oracle_match(rules, art)


def _corpora() -> Path:
    env = os.environ.get("WATCHLIST_CORPORA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpora"


def test_offsets_slice_the_field_on_reuters() -> None:
    """For every hit on a Reuters sample, field[start:end] is the hit's text."""
    path = _corpora() / "reuters21578.jsonl"
    if not path.is_file():
        pytest.skip(f"no Reuters corpus at {path} (set WATCHLIST_CORPORA)")
    sec = json.loads((_corpora() / "sec-company-tickers.json").read_text("utf-8"))
    entries = tuple(Entry(v["title"], tickers=(v["ticker"],)) for v in list(sec.values())[:3000])
    rules = [Rule(name="r", companies=entries, require="any")]
    matcher = build_matcher(rules)
    seen = 0
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f):
            if n >= 300:
                break
            d = json.loads(line)
            art = Article(id=d["id"], title=d.get("title", ""), body=d.get("body", ""))
            for m in matcher.match(art):
                for h in m.hits:
                    assert art.field(h.field)[h.start : h.end] == h.text
                    seen += 1
    assert seen > 0


def test_crossing_hits_of_two_entries_cancel() -> None:
    """Runs of two entries that cross ("First National" / "National Bank") both go."""
    rule = Rule(
        name="r",
        require="any",
        companies=(Entry("FIRST NATIONAL CORP"), Entry("NATIONAL BANK HOLDINGS CORP")),
    )
    art = Article(id="a", body="loans from First National Bank of Chicago rose")
    assert build_matcher([rule]).match(art) == oracle_match([rule], art) == []
    alone = Article(id="b", body="loans from First National rose")
    assert [h.text for m in build_matcher([rule]).match(alone) for h in m.hits] == [
        "First National"
    ]


def test_rule_files_read_the_v2_entry_keys(tmp_path: Path) -> None:
    """tickers (a string or a list), context, not_context and ambiguous are entry keys."""
    from watchlist.config.rules import load_rules

    path = tmp_path / "r.yaml"
    path.write_text(
        "- name: shops\n  companies:\n    - name: Target\n      tickers: TGT\n"
        "      context: [retailer]\n      not_context: [target price]\n"
        "    - {name: Apple, tickers: [AAPL, APC.F], ambiguous: false}\n",
        encoding="utf-8",
    )
    (rule,) = load_rules([path])
    target, apple = rule.companies
    assert (target.tickers, target.context, target.not_context) == (
        ("TGT",),
        ("retailer",),
        ("target price",),
    )
    assert (apple.tickers, apple.ambiguous, target.ambiguous) == (("AAPL", "APC.F"), False, None)
