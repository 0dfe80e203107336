"""Rule ``examples``: read with their positions, run by check and test, failures pinpointed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from watchlist.config.errors import ConfigErrors
from watchlist.config.loader import load_rules
from watchlist.match.examples import count_examples, run_examples

REPO = Path(__file__).resolve().parent.parent

RULES = """\
rules:
  - name: star
    exchanges: [STAR Market]
    keywords: [{name: IPO, aliases: [IPOs]}, listing]
    exclude: [opinion]
    examples:
      match:
        - title: Quantum computing start-up files for STAR Market IPO
        - title: Shanghai bourse sees record listings
        - STAR Market welcomes a listing
      no_match:
        - title: "Opinion: the STAR Market is overheated"
          body: A column on IPO valuations.
        - {id: wrong-way, title: STAR Market IPO surge}
  - name: plain
    keywords: [copper]
"""


def rules_file(tmp_path: Path, text: str = RULES) -> Path:
    """``text`` written to tmp_path/rules/r.yaml."""
    (tmp_path / "rules").mkdir(exist_ok=True)
    path = tmp_path / "rules" / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_examples_are_read_with_their_positions(tmp_path: Path) -> None:
    """Each example keeps its list, 1-based index, line and column, and its article text."""
    path = rules_file(tmp_path)
    star = load_rules([path])[0]
    got = [(e.expect, e.index, e.line, e.column, e.article.title) for e in star.examples]
    assert got == [
        (True, 1, 8, 11, "Quantum computing start-up files for STAR Market IPO"),
        (True, 2, 9, 11, "Shanghai bourse sees record listings"),
        (True, 3, 10, 11, "STAR Market welcomes a listing"),
        (False, 1, 12, 11, "Opinion: the STAR Market is overheated"),
        (False, 2, 14, 11, "STAR Market IPO surge"),
    ]
    assert star.examples[3].article.body == "A column on IPO valuations."
    assert star.examples[4].article.id == "wrong-way"
    assert star.examples[0].path == str(path)
    assert count_examples(load_rules([path])) == 5


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("[a]", "9:15: examples: expected a mapping with match: and no_match: lists of articles"),
        ("{matches: [a]}", "9:16: unknown key 'matches' in examples (did you mean 'match'?)"),
        ("{match: a}", "9:23: match: expected a list of articles, found the text 'a'"),
        ("{match: [{titel: a}]}", "9:25: unknown key 'titel' in an example of examples.match"),
        ("{match: [{id: x}]}", "9:24: an example of examples.match needs a title, summary or body"),
        ("{no_match: [3]}", "9:27: examples.no_match: expected an article"),
        ("{}", "9:15: examples: give match:, no_match: or both"),
    ],
)
def test_a_wrong_example_is_an_error_at_its_place(
    tmp_path: Path, examples: str, message: str
) -> None:
    """Malformed examples are config errors at path:line:column."""
    text = (
        f"rules:\n  - name: r\n    keywords: [x]\n{' ' * 4}# c\n\n\n\n\n    examples: {examples}\n"
    )
    path = rules_file(tmp_path, text)
    with pytest.raises(ConfigErrors) as info:
        load_rules([path])
    assert any(f"{path}:{message}" in str(e) for e in info.value.errors), info.value.errors


def test_failing_examples_are_pinpointed_with_the_reason(tmp_path: Path) -> None:
    """A wrong-way example reports its line and column and why, in both directions."""
    path = rules_file(tmp_path)
    failures = run_examples(load_rules([path]))
    assert [(f.line, f.column, f.index, f.expected) for f in failures] == [
        (9, 11, 2, True),
        (14, 11, 2, False),
    ]
    miss, hit = (str(f) for f in failures)
    assert miss.startswith(f"{path}:9:11: example 2 of rule star should match but did not: ")
    assert "group exchanges has no match" in miss
    assert "entry STAR Market: no run of words to compare" in miss  # v2: S is not STAR's word
    assert hit.startswith(f"{path}:14:11: example 2 of rule star should not match but did: ")
    assert "entry STAR Market: hit 'STAR Market' at title 0–11" in hit
    assert "entry IPO: hit 'IPO' at title 12–15" in hit


def test_excluded_example_names_the_exclude_hit(tmp_path: Path) -> None:
    """A match example stopped by exclude names the exclude entry and its hit."""
    text = RULES.replace("- STAR Market welcomes a listing", "- Opinion on a STAR Market IPO")
    failures = run_examples(load_rules([rules_file(tmp_path, text)]))
    excluded = [f for f in failures if f.index == 3]
    assert excluded and excluded[0].reason == "exclude entry opinion: hit 'Opinion' at title 0–7"


def test_a_disabled_rule_is_tested_as_written(tmp_path: Path) -> None:
    """Examples say what a rule does once enabled: a disabled rule's examples still run."""
    rules = load_rules([rules_file(tmp_path)])
    off = tuple(replace(r, enabled=False) for r in rules)
    assert [(f.line, f.expected) for f in run_examples(off)] == [(9, True), (14, False)]


def watchlist(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m watchlist ARGS`` in ``cwd``, a clean environment, output captured."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_reports_each_failing_example_and_exits_1(tmp_path: Path) -> None:
    """`watchlist check` prints path:line:column for each failing example; exit 1."""
    rules_file(tmp_path)
    (tmp_path / "config.yaml").write_text("rules: rules/\n", encoding="utf-8")
    done = watchlist(tmp_path, "check")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0].startswith("rules/r.yaml:9:11: example 2 of rule star should match but did not")
    assert lines[1].startswith("rules/r.yaml:14:11: example 2 of rule star should not match")
    assert lines[2] == "watchlist check: 2 errors"


def test_test_command_prints_failures_and_a_summary(tmp_path: Path) -> None:
    """`watchlist test` runs the examples alone: failures, then the summary line; exit 1."""
    rules_file(tmp_path)
    (tmp_path / "config.yaml").write_text("rules: rules/\n", encoding="utf-8")
    done = watchlist(tmp_path, "test")
    assert done.returncode == 1, done.stderr
    out = done.stdout.splitlines()
    assert [line.split(": example")[0] for line in out[:2]] == [
        "rules/r.yaml:9:11",
        "rules/r.yaml:14:11",
    ]
    assert out[2] == "5 examples in 1 rule: 3 passed, 2 failed"


def test_test_command_takes_files_and_folders_without_a_config(tmp_path: Path) -> None:
    """RULES may be files or folders; all passing examples exit 0."""
    good = RULES.replace("        - title: Shanghai bourse sees record listings\n", "").replace(
        "        - {id: wrong-way, title: STAR Market IPO surge}\n", ""
    )
    rules_file(tmp_path, good)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "m.yml").write_text(
        "- name: copper\n  keywords: [copper]\n  examples: {match: [Copper rises]}\n",
        encoding="utf-8",
    )
    for args in (["rules/r.yaml", "more"], ["rules", "more/m.yml"]):
        done = watchlist(tmp_path, "test", *args)
        assert (done.returncode, done.stdout) == (0, "4 examples in 2 rules: 4 passed, 0 failed\n")


def test_test_command_reports_rule_file_errors(tmp_path: Path) -> None:
    """A rule file with errors is reported as check would (exit 1); no rules at all is usage."""
    rules_file(tmp_path, "rules:\n  - name: r\n    keywords: [x]\n    examples: {match: [{}]}\n")
    done = watchlist(tmp_path, "test", "rules")
    assert done.returncode == 1
    assert "rules/r.yaml:4:24: an example of examples.match needs a title" in done.stderr
    assert watchlist(tmp_path, "test").returncode == 2  # no config.yaml, no RULES


def test_the_seed_rule_carries_passing_examples() -> None:
    """rules/star-market.yaml: the seed story matches, the opinion column does not."""
    rules = load_rules([REPO / "rules" / "star-market.yaml"])
    seed = rules[0]
    assert {e.expect for e in seed.examples} == {True, False}
    assert run_examples(rules) == []
