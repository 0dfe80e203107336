"""`explain` and `watchlist explain`: per-entry best runs, near misses, reasons and verdicts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from watchlist.match import oracle_match
from watchlist.match.explain import explain
from watchlist.models import Article, Entry, Rule


def test_near_miss_with_reason() -> None:
    """A run scoring just under the threshold is listed as a near miss, with its score."""
    rule = Rule(name="r", companies=(Entry("Pacific Gateway"),), threshold=95)
    ex = explain(rule, Article(id="a", body="says Pacific Gatway today"))
    assert not ex.matched
    [entry] = ex.groups[0].entries
    assert entry.best is not None and entry.best.text == "Pacific Gatway"
    assert entry.best.reasons == (
        "score 92.3 of 'gatway' against 'gateway' is below the threshold 95",
    )
    assert "92.3 < 95" in str(ex) and "NOT MATCHED" in str(ex)


@pytest.mark.parametrize(
    ("entry", "group", "text", "reason"),
    [
        (
            Entry("Goldman Sachs BDC"),
            "companies",
            "Goldman Sachs and",
            "word 'bdc' of the term is not there unchanged",
        ),
        (Entry("Orange"), "companies", "an orange", "must start with a capital"),
        (Entry("Boeing 737"), "topics", "Boeing 747", "digits differ"),
        (Entry("WHO"), "topics", "who", "in the same capitals"),
    ],
)
def test_reasons(entry: Entry, group: str, text: str, reason: str) -> None:
    """Each failed rule of SPEC's Matching section is named in the explanation."""
    rule = Rule(name="r", threshold=80, **{group: (entry,)})  # type: ignore[arg-type]
    ex = explain(rule, Article(id="a", body=text))
    e = ex.groups[0].entries[0]
    assert not e.matched and e.best is not None
    assert any(reason in r for r in e.best.reasons)


RULES = [
    Rule(name="all", topics=(Entry("fusion"),), companies=(Entry("Helion"),)),
    Rule(name="any", topics=(Entry("fusion"),), companies=(Entry("Helion"),), require="any"),
    Rule(name="excl", topics=(Entry("fusion"),), exclude=(Entry("opinion"),)),
    Rule(name="off", topics=(Entry("fusion"),), enabled=False),
]
TEXTS = ["fusion at Helion", "fusion power", "Opinion: fusion", "nothing here"]


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
@pytest.mark.parametrize("text", TEXTS)
def test_verdict_agrees_with_matcher(rule: Rule, text: str) -> None:
    """The explanation's verdict and hits are the matcher's, and it says why."""
    art = Article(id="a", body=text)
    ex = explain(rule, art)
    got = oracle_match([rule], art)
    assert ex.matched == bool(got)
    if got:
        hits = [(h.entry, h.start, h.end) for h in got[0].hits]
        shown = [
            (e.name, h.start, h.end)
            for g in ex.groups
            if g.group != "exclude"
            for e in g.entries
            for h in e.hits
        ]
        assert shown == hits
    assert ex.why
    json.dumps(ex.to_dict())


# --------------------------------------------------------------------------- the command


@pytest.fixture
def setup(tmp_path: Path) -> Path:
    """A config with one rule, and an article file."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "config.yaml").write_text(
        "state: ./watchlist.db\nrules: rules/\nchannels:\n  console: console://\n",
        encoding="utf-8",
    )
    (tmp_path / "rules" / "r.yaml").write_text(
        "rules:\n  - name: star-market\n    exchanges:\n      - name: STAR Market\n"
        "        aliases: [科创板]\n    notify: [console]\n",
        encoding="utf-8",
    )
    (tmp_path / "hit.json").write_text(
        json.dumps({"id": "x1", "title": "IPOs", "body": "计划在科创板上市"}), encoding="utf-8"
    )
    (tmp_path / "miss.json").write_text(
        json.dumps({"id": "x2", "title": "nothing", "body": "star market"}), encoding="utf-8"
    )
    return tmp_path


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchlist", "explain", "-c", "config.yaml", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "code", "out", "err"),
    [
        (["star-market", "hit.json"], 0, "MATCHED", ""),
        (["star-market", "miss.json"], 0, "must start with a capital", ""),
        (["star-markt", "hit.json"], 2, "", "did you mean 'star-market'"),
        (["star-market", "absent.json"], 1, "", "absent.json"),
    ],
)
def test_command(setup: Path, args: list[str], code: int, out: str, err: str) -> None:
    """`watchlist explain` exits 0 matched or not, 2 for an unknown rule, 1 for bad input."""
    proc = _cli(setup, *args)
    assert proc.returncode == code, proc.stderr
    assert out in proc.stdout
    assert err in proc.stderr


def test_command_json(setup: Path) -> None:
    """`--json` prints one object per article with the verdict and each entry's hits."""
    proc = _cli(setup, "--json", "star-market", "hit.json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["matched"] is True
    [entry] = data["groups"][0]["entries"]
    assert [h["text"] for h in entry["hits"]] == ["科创板"]


@pytest.mark.parametrize(
    ("entry", "text", "shown"),
    [
        (Entry("Target", tickers=("TGT",)), "Target said (NYSE: TGT) so", "evidence: ticker TGT"),
        (Entry("Target"), "Target said so", "ambiguous name: no evidence in the article"),
        (Entry("Apple", not_context=("pie",)), "the Apple pie", "not_context 'pie' within 5 words"),
        (Entry("OPEC"), "OPEC MEETS", "(exact; acronym: same capitals; text without lower case"),
        (Entry("IPO"), "two IPOs", "(plural or singular; acronym: same capitals)"),
    ],
)
def test_explain_shows_reading_and_evidence(entry: Entry, text: str, shown: str) -> None:
    """explain says which word form and case reading matched and which evidence counted."""
    group = "keywords" if entry.name == "IPO" else "companies"
    rule = Rule(name="r", **{group: (entry,)})  # type: ignore[arg-type]
    assert shown in explain(rule, Article(id="a", body=text)).format()
