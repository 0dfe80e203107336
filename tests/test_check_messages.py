"""`watchlist check` messages a new user meets: hints, no follow-on errors, one file, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watchlist.cli import main

CONFIG = "channels:\n  team: json://localhost/hook\n"


def _check(
    tmp_path: Path, rules: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    (tmp_path / "rules").mkdir(exist_ok=True)
    (tmp_path / "rules" / "r.yaml").write_text(rules, encoding="utf-8")
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    code = main(["check", "-c", str(tmp_path / "config.yaml"), *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_notify_empty_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`notify: []` would swallow every alert: check names the line and the fix."""
    code, _, err = _check(tmp_path, "- name: a\n  keywords: [IPO]\n  notify: []\n", capsys)
    assert code == 1
    assert "r.yaml:3:11: notify: [] would record matches and send them nowhere" in err


def test_company_string_suggests_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`companies: Tesla` says a string names a watchlist and suggests [Tesla]."""
    code, _, err = _check(tmp_path, "- name: a\n  companies: Tesla\n", capsys)
    assert code == 1 and "write companies: [Tesla]" in err


def test_one_mapping_rule_file_suggests_a_dash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule file that is one mapping gets one error suggesting '- ', nothing else."""
    code, _, err = _check(tmp_path, "name: a\nkeywords: [IPO]\n", capsys)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 2, err
    assert "start the rule with '- '" in lines[0]


def test_a_typo_gives_one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`topic:` for `topics:` is one error (did you mean), not also 'needs at least one group'."""
    code, _, err = _check(tmp_path, "- name: a\n  topic: [fusion]\n", capsys)
    assert code == 1
    assert "did you mean 'topics'?" in err
    assert "needs at least one of" not in err
    assert "watchlist check: 1 error" in err


def test_check_one_rules_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check FILE` reports that file's errors only, with the config's channels known."""
    _check(tmp_path, "- name: a\n  topic: [x]\n", capsys)  # a broken file beside it
    new = tmp_path / "new.yaml"
    new.write_text("- name: b\n  keywords: [IPO]\n  notify: [team]\n")
    cfg = str(tmp_path / "config.yaml")
    assert main(["check", "-c", cfg, str(new)]) == 0
    assert capsys.readouterr().out.strip().endswith("new.yaml: OK — 1 rule")
    new.write_text("- name: b\n  keywords: [IPO]\n  notify: [teem]\n")
    assert main(["check", "-c", cfg, str(new)]) == 1
    err = capsys.readouterr().err
    assert "new.yaml:3:12: unknown channel 'teem'" in err and "r.yaml" not in err


def test_check_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check --json` prints one object with ok, each error's place and message, a summary."""
    code, out, _ = _check(tmp_path, "- name: a\n  topic: [x]\n", capsys, "--json")
    obj = json.loads(out)
    assert code == 1 and obj["ok"] is False and obj["summary"] is None
    (error,) = obj["errors"]
    assert error["line"] == 2 and error["column"] == 3 and "topics" in error["message"]
    assert error["path"].endswith("r.yaml")
    code, out, _ = _check(tmp_path, "- name: a\n  topics: [x]\n", capsys, "--json")
    obj = json.loads(out)
    assert code == 0 and obj == {"ok": True, "errors": [], "summary": obj["summary"]}
    assert "OK — 1 rule from 1 file" in obj["summary"]
