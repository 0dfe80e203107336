"""`watchlist outbox list/retry/drop` and `watchlist notify-test` on a real config and state."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from localserver import LocalServer, Route
from test_faults_driver import T0, article, match

from watchlist.cli import main
from watchlist.config.loader import load_config
from watchlist.delivery.worker import deliver_due
from watchlist.store.sqlite import Store


def write_config(tmp: Path, server: LocalServer) -> Path:
    """A config with channels good (200), bad (500) and console, and one rule to good+bad."""
    server.routes["/good"] = Route(200)
    server.routes["/bad"] = Route(500)
    (tmp / "rules.yaml").write_text(
        "- name: acme\n  companies: [Acme]\n  notify: [good, bad]\n", encoding="utf-8"
    )
    cfg = tmp / "config.yaml"
    cfg.write_text(
        "state: ./state.db\nrules: rules.yaml\nchannels:\n"
        f"  good: json://127.0.0.1:{server.port}/good\n"
        f"  bad: json://127.0.0.1:{server.port}/bad\n"
        "  console: console://\n"
        "delivery:\n  retry_horizon: 1m\n",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def setup(tmp_path: Path, http_server: LocalServer) -> tuple[Path, int]:
    """A config whose state holds one alert: sent on 'good', failed for good on 'bad'."""
    cfg_path = write_config(tmp_path, http_server)
    cfg = load_config(cfg_path)
    store = Store(cfg.state)
    a = article(1)
    store.record([a], [match(a)], cfg, T0)
    for minutes in range(4):  # the 1-minute horizon passes: 'bad' is given up
        deliver_due(store, cfg, T0 + timedelta(minutes=minutes))
    (bad,) = store.outbox_rows("failed")
    store.close()
    return cfg_path, bad.id


def test_list_shows_failed_rows_and_why(
    setup: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """`outbox list` shows the failed row with channel, rule, attempts and the error in words."""
    cfg, bad = setup
    assert main(["outbox", "list", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"#{bad} failed bad [acme] Acme story number 1" in out
    assert (
        "2 attempts," in out
        and "failed: failed" not in out
        and "500" in out
        and "outbox retry ID" in out
    )
    assert "good" not in out.split("\n")[0]


def test_list_json_and_all(setup: tuple[Path, int], capsys: pytest.CaptureFixture[str]) -> None:
    """`--json` prints one object per row; `--all` adds the delivered one."""
    cfg, bad = setup
    assert main(["outbox", "list", "-c", str(cfg), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["status"], r["channel"]) for r in rows] == [(bad, "failed", "bad")]
    assert main(["outbox", "list", "-c", str(cfg), "--json", "--all"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["status"] for r in rows) == ["failed", "sent"]


@pytest.mark.parametrize(
    ("argv", "code", "status", "words"),
    [
        (["retry", "{bad}"], 0, "pending", "is due now"),
        (["drop", "{bad}"], 0, "dropped", "dropped"),
        (["retry", "999"], 1, "failed", "no row #999"),
        (["drop", "{good}"], 1, "failed", "is sent"),
        (["retry", "{good}"], 1, "failed", "is sent"),
    ],
)
def test_retry_and_drop(
    setup: tuple[Path, int],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    status: str,
    words: str,
) -> None:
    """retry makes a failed row due; drop gives it up; wrong ids and sent rows are refused."""
    cfg, bad = setup
    good = bad - 1 if bad > 1 else bad + 1
    args = [a.format(bad=bad, good=good) for a in argv]
    assert main(["outbox", args[0], "-c", str(cfg), args[1]]) == code
    captured = capsys.readouterr()
    assert words in captured.out + captured.err
    store = Store(load_config(cfg).state)
    assert store.outbox_rows(ids=[bad])[0].status == status
    store.close()


def test_list_wording_for_failed_and_retried_rows(
    setup: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed row shows no stale next time; after `retry` it is due now, not 'gave up'."""
    cfg, bad = setup
    assert main(["outbox", "list", "-c", str(cfg)]) == 0
    head, why = capsys.readouterr().out.splitlines()[:2]
    assert "no more attempts until `watchlist outbox retry ID`" in head and " next " not in head
    assert "gave up after 2 attempts" in why
    assert main(["outbox", "retry", "-c", str(cfg), str(bad)]) == 0
    capsys.readouterr()
    assert main(["outbox", "list", "-c", str(cfg)]) == 0
    head, why = capsys.readouterr().out.splitlines()[:2]
    assert "pending" in head and "next attempt: now" in head
    assert why.strip().startswith("due now (attempt 3); last error:") and "500" in why
    assert "gave up" not in why


def test_outbox_without_action_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`watchlist outbox` alone exits 2 and says what to type."""
    assert main(["outbox"]) == 2
    assert "list, retry ID or drop ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("channel", "code", "words"),
    [
        ("good", 0, "good (json://127.0.0.1:{port}/good): delivered"),
        ("bad", 1, "failed: json://127.0.0.1:{port}/bad"),
        ("god", 2, "unknown channel 'god' (did you mean 'good'?)"),
    ],
)
def test_notify_test(
    tmp_path: Path,
    http_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    channel: str,
    code: int,
    words: str,
) -> None:
    """notify-test reports Apprise's result in words; exit 0 ok, 1 failed, 2 unknown channel."""
    cfg = write_config(tmp_path, http_server)
    assert main(["notify-test", "-c", str(cfg), channel]) == code
    captured = capsys.readouterr()
    assert words.format(port=http_server.port) in captured.out + captured.err
    if code == 0:
        (post,) = http_server.posts("/good")
        assert "test message" in post.json()["message"]


def test_notify_test_console_subprocess(tmp_path: Path, http_server: LocalServer) -> None:
    """`watchlist notify-test console` prints the message and the result from a real process."""
    cfg = write_config(tmp_path, http_server)
    out = subprocess.run(
        [sys.executable, "-m", "watchlist", "notify-test", "-c", str(cfg), "console"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("watchlist test: console\n")
    assert out.stdout.rstrip().endswith("console (console://): delivered")
