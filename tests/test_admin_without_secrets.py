"""Admin commands from a shell without the daemon's secrets, and beside a broken rule file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from localserver import LocalServer
from test_outbox_commands import setup, write_config  # noqa: F401  (a fixture)

from watchlist.cli import main
from watchlist.config.loader import load_config
from watchlist.daemon.lock import StateLock
from watchlist.daemon.reload_status import ReloadStatus, write_reload_status
from watchlist.store.sqlite import Store


def _with_secret_channel(cfg: Path) -> None:
    """Add a channel whose URL needs ${SLACK_TOKEN}, as a systemd EnvironmentFile would set."""
    text = cfg.read_text().replace(
        "channels:\n", "channels:\n  team: slack://${SLACK_TOKEN}/B1/C1/#alerts\n"
    )
    cfg.write_text(text)


def test_status_without_secrets_shows_variables_unset(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """status works without ${SLACK_TOKEN}: exit 0, the variable shown unset, no failed reload."""
    cfg, _ = setup
    _with_secret_channel(cfg)
    monkeypatch.delenv("SLACK_TOKEN", raising=False)
    state = load_config(cfg, env={"SLACK_TOKEN": "x"}).state
    write_reload_status(state, ReloadStatus(datetime.now(UTC), True, (), 1))
    assert main(["status", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "not set in this shell: SLACK_TOKEN" in out
    assert "FAILED" not in out and "reload  ok" in out
    assert "team: slack://" in out
    assert main(["status", "--json", "-c", str(cfg)]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["unset_vars"] == ["SLACK_TOKEN"] and obj["last_reload"]["ok"] is True


def test_status_reports_the_running_daemons_reload(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With a daemon running whose later reload worked, status shows it ok, not FAILED."""
    cfg, _ = setup
    rules = cfg.parent / "rules.yaml"
    rules.write_text("- name: acme\n  companies: [Acme]\n  notify: [nowhere]\n")
    old = datetime.now(UTC) - timedelta(hours=1)
    os.utime(rules, (old.timestamp(), old.timestamp()))  # the daemon reloaded after this
    state = cfg.parent / "state.db"
    write_reload_status(state, ReloadStatus(datetime.now(UTC), True, (), 1))
    with StateLock(state):
        assert main(["status", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "reload  ok" in out and "FAILED" not in out
    assert "this shell reads 1 problem(s)" in out and "nowhere" in out


def test_outbox_list_without_secrets(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """outbox list works when a channel's ${VAR} is not set in this shell."""
    cfg, bad = setup
    _with_secret_channel(cfg)
    monkeypatch.delenv("SLACK_TOKEN", raising=False)
    assert main(["outbox", "list", "-c", str(cfg)]) == 0
    assert f"#{bad} failed" in capsys.readouterr().out


@pytest.mark.parametrize("action", ["retry", "drop"])
def test_outbox_retry_drop_beside_a_broken_rule_file(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    action: str,
) -> None:
    """outbox retry/drop work while a rule file is broken and a secret is unset."""
    cfg, bad = setup
    state = load_config(cfg).state
    _with_secret_channel(cfg)
    monkeypatch.delenv("SLACK_TOKEN", raising=False)
    (cfg.parent / "rules.yaml").write_text("- name: acme\n  companies: [Acme\n")
    assert main(["outbox", action, "-c", str(cfg), str(bad)]) == 0, capsys.readouterr().err
    store = Store(state)
    assert store.outbox_rows(ids=[bad])[0].status == ("pending" if action == "retry" else "dropped")
    store.close()


def test_notify_test_beside_a_broken_rule_file(
    tmp_path: Path,
    http_server: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """notify-test sends while a rule file is broken and another channel's secret is unset."""
    cfg = write_config(tmp_path, http_server)
    _with_secret_channel(cfg)
    monkeypatch.delenv("SLACK_TOKEN", raising=False)
    (tmp_path / "rules.yaml").write_text("- name: acme\n  companies: [Acme\n")
    assert main(["notify-test", "-c", str(cfg), "good"]) == 0, capsys.readouterr().err
    assert len(http_server.posts("/good")) == 1
    assert main(["notify-test", "-c", str(cfg), "team"]) == 1
    err = capsys.readouterr().err
    assert "needs SLACK_TOKEN, not set in this shell" in err


def test_drop_says_how_to_revive_and_retry_does_revive(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """drop says the row stays on record and names retry; retry then revives it, as promised."""
    cfg, bad = setup
    assert main(["outbox", "drop", "-c", str(cfg), str(bad)]) == 0
    out = capsys.readouterr().out
    assert f"`watchlist outbox retry {bad}` revives it" in out and "list --all" in out
    assert main(["outbox", "drop", "-c", str(cfg), str(bad)]) == 1
    assert (
        f"is dropped; only pending or failed rows can be dropped; `watchlist outbox retry {bad}`"
        in (capsys.readouterr().err)
    )
    assert main(["outbox", "retry", "-c", str(cfg), str(bad)]) == 0
    store = Store(load_config(cfg).state)
    assert store.outbox_rows(ids=[bad])[0].status == "pending"
    store.close()


def test_retry_hint_fits_whether_a_daemon_runs(
    setup: tuple[Path, int],  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With a daemon running, retry does not suggest `run --once` (it would fail on the lock)."""
    cfg, bad = setup
    state = cfg.parent / "state.db"
    with StateLock(state):
        assert main(["outbox", "retry", "-c", str(cfg), str(bad)]) == 0
    out = capsys.readouterr().out
    assert f"the running daemon (PID {os.getpid()}) sends it" in out and "--once" not in out
    assert main(["outbox", "retry", "-c", str(cfg), str(bad)]) == 0
    assert "no daemon runs on this state" in capsys.readouterr().out
