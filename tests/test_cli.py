"""The command line as a real subprocess: closed pipes, usage errors, input errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FEED = REPO / "examples" / "star-market-news.xml"
CONFIG = REPO / "config.example.yaml"


def watchlist(
    *args: str, cwd: Path = REPO, stdout: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m watchlist ARGS`` in ``cwd``; stderr captured as text."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "PYTHONPATH", "LANG")}
    env["XDG_CONFIG_HOME"] = str(cwd / "xdg")  # never pick up a real user config
    return subprocess.run(
        [sys.executable, "-m", "watchlist", *args],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["scan", "-c", str(CONFIG), "--json", str(FEED)],
        ["scan", "-c", str(CONFIG), str(FEED)],
        ["explain", "-c", str(CONFIG), "star-market-future-industries", str(FEED)],
    ],
)
def test_closed_pipe_exits_quietly(args: list[str]) -> None:
    """Output into a pipe whose reader has gone (`| head`) ends without a traceback, exit 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        done = watchlist(*args, stdout=write_end)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == 1


def test_output_reaches_an_open_pipe() -> None:
    """With a reader present the same scan prints its matches and exits 0."""
    done = watchlist("scan", "-c", str(CONFIG), "--json", str(FEED))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('{"article": ')


@pytest.mark.parametrize("command", ["check", "status", "notify-test console", "scan x.xml"])
def test_missing_config_given_with_c_is_a_usage_error(tmp_path: Path, command: str) -> None:
    """-c naming a file that does not exist exits 2 with one line naming the option and file."""
    done = watchlist(*command.split(), "-c", "nope.yaml", cwd=tmp_path)
    name = command.split()[0]
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"watchlist {name}: -c nope.yaml: no such file; check the path "
        "(without -c, ./config.yaml is used)\n"
    )


def test_config_option_naming_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    """-c naming a folder exits 2 and suggests the config file inside it."""
    (tmp_path / "site").mkdir()
    done = watchlist("check", "-c", "site", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "watchlist check: -c site: is a folder; name the config file in it, "
        "such as site/config.yaml\n"
    )


@pytest.mark.parametrize("command", ["scan", "explain star-market-future-industries"])
def test_missing_input_is_named_once(tmp_path: Path, command: str) -> None:
    """An input file that does not exist is named once in the error, and the exit code is 1."""
    missing = str(tmp_path / "missing.xml")
    done = watchlist(*command.split(), "-c", str(CONFIG), missing)
    name = command.split()[0]
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == f"watchlist {name}: {missing}: no such file"


HEAVY = ("apprise", "numpy", "rapidfuzz", "apscheduler", "uvicorn", "starlette", "httpx")


def _imported_after(code: str) -> set[str]:
    """The heavy top-level packages in sys.modules after running ``code`` in a new process."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split()) & set(HEAVY)


def test_cli_import_loads_no_heavy_package() -> None:
    """`import watchlist.cli` and building every subcommand's parser load no heavy package."""
    assert _imported_after("import watchlist.cli") == set()
    assert _imported_after("import watchlist.cli as c; c.build_parser()") == set()


def test_version_loads_nothing_heavy_and_check_loads_no_apprise() -> None:
    """`--version` loads no heavy package; `check` on the example needs rapidfuzz (its
    examples run), not Apprise, numpy (short texts), wordfreq itself (its small list is
    read directly) nor another command's module."""
    version = "from watchlist.cli import main\ntry: main(['--version'])\nexcept SystemExit: pass"
    assert _imported_after(version) == set()
    check = f"from watchlist.cli import main\nassert main(['check', '-c', {str(CONFIG)!r}]) == 0"
    assert _imported_after(check) <= {"rapidfuzz"}
    probe = check + "\nimport sys\nprint(sorted(m for m in sys.modules if m.startswith(("
    probe += "'wordfreq', 'watchlist.commands.'))))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines()[-1] == "['watchlist.commands.check']", done.stderr


def test_help_lists_every_command_and_each_builds_its_own() -> None:
    """`--help` names every subcommand with its line; `X --help` shows X's options."""
    from watchlist.cli import COMMANDS, build_parser

    text = build_parser(["--help"]).format_help()
    for name, (_, line) in COMMANDS.items():
        assert name in text and line[:30] in text
    scan = build_parser(["scan", "x"])
    assert scan.parse_args(["scan", "--json", "x"]).json is True
    assert scan.parse_args(["-c", "c.yaml", "scan", "x"]).top_config.name == "c.yaml"
