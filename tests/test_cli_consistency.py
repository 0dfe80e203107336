"""The command line behaves alike everywhere: -c anywhere, --rules, --article, -V, completion."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_faults_driver import article
from test_outbox_commands import setup  # noqa: F401  (a fixture)

from watchlist import __version__
from watchlist.cli import main

RULES = "- name: fusion\n  topics: [nuclear fusion]\n"
ARTICLES = (
    '{"id": "one", "title": "Bakery opens"}\n'
    '{"id": "two", "title": "Nuclear fusion start-up lists"}\n'
)


def _setup(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "news.jsonl").write_text(ARTICLES)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("state: ./s.db\nrules: rules.yaml\n")
    return cfg


def _watchlist(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_option_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """`watchlist -c FILE check` works as well as `watchlist check -c FILE`."""
    cfg = str(_setup(tmp_path))
    argv = ["-c", cfg, "check"] if where == "before" else ["check", "-c", cfg]
    assert main(argv) == 0
    assert "OK — 1 rule" in capsys.readouterr().out


def test_explain_takes_rules_like_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`explain --rules PATH` needs no config, as `scan --rules` does."""
    _setup(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no config.yaml here
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    rules, news = str(tmp_path / "rules.yaml"), str(tmp_path / "news.jsonl")
    assert main(["explain", "--rules", rules, "--article", "two", "fusion", news]) == 0
    out = capsys.readouterr().out
    assert "MATCHED" in out and "NOT MATCHED" not in out


def test_explain_article_picks_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--article ID` explains one article of a multi-article file; JSON names it `article`."""
    cfg = str(_setup(tmp_path))
    news = str(tmp_path / "news.jsonl")
    assert main(["explain", "-c", cfg, "--json", "--article", "two", "fusion", news]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["article"] == "two" and "article_id" not in obj and obj["matched"] is True
    assert main(["explain", "-c", cfg, "--article", "three", "fusion", news]) == 1
    assert "no article 'three'; its ids: one, two" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_is_cheap(tmp_path: Path, flag: str) -> None:
    """`-V` and `--version` print the version without importing Apprise or any command."""
    code = (
        f"import sys; from watchlist.cli import main; rc = main([{flag!r}]); "
        "print(rc, 'apprise' in sys.modules, 'watchlist.commands.run' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.stdout.splitlines() == [f"watchlist {__version__}", "0 False False"]


def test_shell_completion(tmp_path: Path) -> None:
    """argcomplete completes subcommands (what `register-python-argcomplete watchlist` uses)."""
    out = tmp_path / "completions"
    env = {
        "_ARGCOMPLETE": "1",
        "COMP_LINE": "watchlist sta",
        "COMP_POINT": "13",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    done = _watchlist(cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert out.read_text().split() == ["status"]


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    """An http source on a port already in use: one clear line, no traceback; the daemon runs on."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        (tmp_path / "rules.yaml").write_text(RULES)
        (tmp_path / "config.yaml").write_text(
            "state: ./s.db\nrules: rules.yaml\nsources:\n"
            f"  - {{name: in, type: http, listen: '127.0.0.1:{port}'}}\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "watchlist", "run"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if f"127.0.0.1:{port}" in line and "in use" in line:
                    break
            assert proc.poll() is None  # the other sources and the outbox keep going
        finally:
            proc.send_signal(signal.SIGTERM)
            rest, _ = proc.communicate(timeout=60)
    text = "".join(lines) + rest
    assert "Traceback" not in text
    assert any(f"127.0.0.1:{port}" in ln and "in use" in ln for ln in lines)


def test_check_http_source_and_server_on_one_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check reports an http source and server.listen on the same address."""
    (tmp_path / "rules.yaml").write_text(RULES)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "rules: rules.yaml\nserver:\n  listen: 127.0.0.1:8787\nsources:\n"
        "  - {name: in, type: http, listen: '0.0.0.0:8787', token: t}\n"
    )
    assert main(["check", "-c", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "config.yaml:3:11: server.listen 127.0.0.1:8787 is also where source 'in'" in err


def test_article_key_in_status_and_outbox_json(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """status --json and outbox list --json name the article under `article`, as scan does."""
    cfg, _ = setup
    assert main(["outbox", "list", "-c", str(cfg), "--json"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["article"] == article(1).id and row["alert"] >= 1
    assert main(["status", "-c", str(cfg), "--json"]) == 0
    (alert,) = json.loads(capsys.readouterr().out)["recent_alerts"]
    assert alert["article"] == article(1).id


@pytest.mark.parametrize(
    "argv",
    [
        ["-c", "CFG", "outbox", "list"],
        ["outbox", "-c", "CFG", "list"],
        ["outbox", "list", "-c", "CFG"],
    ],
)
def test_outbox_config_option_anywhere(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    """`-c FILE` works before `outbox`, after it, and after `list`."""
    cfg, bad = setup
    assert main([str(cfg) if a == "CFG" else a for a in argv]) == 0
    assert f"#{bad} failed" in capsys.readouterr().out
