"""`watchlist check` as a real subprocess: errors on stderr with exit 1, a summary on success."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_RULES = """\
watchlists:
  ai-labs: [OpenAI, {name: Anthropic, aliases: [Anthropic PBC]}]
rules:
  - name: star-market
    exchanges: [STAR Market]
    keywords: [IPO]
    notify: [team]
  - name: us-ai-labs
    companies: ai-labs
"""
GOOD_CONFIG = """\
timezone: Asia/Shanghai
rules: rules/
sources:
  - {name: feed, type: rss, url: https://example.com/a.xml}
channels:
  team: json://localhost/${HOOK_TOKEN}
"""


def check(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m watchlist check ARGS`` in ``cwd`` with a clean environment plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    base["XDG_CONFIG_HOME"] = str(cwd / "xdg")  # never pick up a real user config
    return subprocess.run(
        [sys.executable, "-m", "watchlist", "check", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(folder: Path, config: str, rules: str) -> None:
    """config.yaml and rules/r.yaml in ``folder``."""
    (folder / "rules").mkdir(exist_ok=True)
    (folder / "rules" / "r.yaml").write_text(rules, encoding="utf-8")
    (folder / "config.yaml").write_text(config, encoding="utf-8")


def test_valid_config_prints_summary_and_exits_0(tmp_path: Path) -> None:
    """A valid config prints one summary line on stdout and exits 0."""
    write(tmp_path, GOOD_CONFIG, GOOD_RULES)
    done = check(tmp_path, env={"HOOK_TOKEN": "s3cret-hook"})
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "config.yaml: OK — 2 rules from 1 file, 1 source, 2 channels\n"


def test_every_error_on_stderr_and_exit_1(tmp_path: Path) -> None:
    """Each error is one `path:line:column: message` line on stderr; the exit code is 1."""
    write(
        tmp_path,
        GOOD_CONFIG + "logging: {level: loud}\n",
        GOOD_RULES.replace("notify: [team]", "notify: [teem]").replace("keywords", "keyword"),
    )
    done = check(tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "config.yaml:6:9: environment variable HOOK_TOKEN is not set; set it, or write "
        "${HOOK_TOKEN:-default}",
        "config.yaml:7:18: level must be 'debug', 'info', 'warning' or 'error', not 'loud'",
        "rules/r.yaml:6:5: unknown key 'keyword' in a rule (did you mean 'keywords'?)",
        "rules/r.yaml:7:14: unknown channel 'teem' (did you mean 'team'?)",
        "watchlist check: 4 errors",
    ]


def test_secret_values_are_not_printed(tmp_path: Path) -> None:
    """A secret from the environment never shows in check's output, good or bad."""
    write(tmp_path, GOOD_CONFIG + "delivery: {timeout: '${HOOK_TOKEN}'}\n", GOOD_RULES)
    done = check(tmp_path, env={"HOOK_TOKEN": "s3cret-hook"})
    assert done.returncode == 1
    assert "s3cret-hook" not in done.stdout + done.stderr
    assert "config.yaml:7:21: timeout: '***' is not a duration" in done.stderr


@pytest.mark.parametrize("how", ["-c", "--config"])
def test_config_option_names_the_file(tmp_path: Path, how: str) -> None:
    """-c / --config FILE checks that file, with paths shown relative to the working folder."""
    (tmp_path / "site").mkdir()
    write(tmp_path / "site", GOOD_CONFIG, GOOD_RULES)
    done = check(tmp_path, how, "site/config.yaml", env={"HOOK_TOKEN": "x"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("site/config.yaml: OK — 2 rules")


def test_missing_config_says_how_to_start(tmp_path: Path) -> None:
    """Without a config file, check exits 1 and says to run `watchlist init`."""
    done = check(tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "config.yaml: config file not found; to start, run `watchlist init` (a starter "
        "config.yaml and rules/ here), or pass -c FILE"
    )


def test_malformed_yaml_reports_position(tmp_path: Path) -> None:
    """A rule file that is not YAML is reported at the parser's position, not a traceback."""
    write(tmp_path, "rules: rules/\n", "- name: r\n  keywords: [IPO\n")
    done = check(tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith("rules/r.yaml:3:1: invalid YAML:")


def test_duplicate_key_does_not_hide_other_errors(tmp_path: Path) -> None:
    """A duplicate key or refused tag is one error among all the others, in every file."""
    config = "channels:\n  console: console://\n  console: console://\ntimezon: UTC\n"
    rules = "- name: r\n  keywords: [IPO]\n  keyword: [IPOs]\n  priority: !!python/name:os.system\n"
    write(tmp_path, config, rules)
    done = check(tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "config.yaml:3:3: duplicate key 'console' (first at line 2, column 3); remove one of them",
        "config.yaml:4:1: unknown key 'timezon' in config (did you mean 'timezone'?)",
        "rules/r.yaml:3:3: unknown key 'keyword' in a rule (did you mean 'keywords'?)",
        "rules/r.yaml:4:13: tag '!!python/name:os.system' is not allowed; remove it",
        "watchlist check: 4 errors",
    ]


def test_unreadable_config_still_checks_the_rules_folder(tmp_path: Path) -> None:
    """Config YAML that cannot be read is reported, and rules/ beside it is checked too."""
    write(tmp_path, "timezone: [UTC\n", "- name: r\n  keyword: [IPO]\n")
    done = check(tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 1
    assert lines[0].startswith("config.yaml:2:1: invalid YAML:")
    assert "rules/r.yaml:2:3: unknown key 'keyword' in a rule (did you mean 'keywords'?)" in lines


def test_rss_source_with_missing_local_file(tmp_path: Path) -> None:
    """An rss source whose url is a local path that does not exist is an error at that url."""
    config = (
        "sources:\n"
        "  - {name: here, type: rss, url: feeds/here.xml}\n"
        "  - {name: gone, type: rss, url: feeds/gone.xml}\n"
        "  - {name: web, type: rss, url: 'https://example.com/a.xml'}\n"
    )
    write(tmp_path, config, "- name: r\n  keywords: [IPO]\n")
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "here.xml").write_text("<rss/>", encoding="utf-8")
    done = check(tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "config.yaml:3:34: url: no feed file at feeds/gone.xml; check the path, "
        "or give an http(s) URL",
        "watchlist check: 1 error",
    ]
