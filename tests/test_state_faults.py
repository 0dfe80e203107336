"""The state file under faults: a hard link past the lock, damage, a full disk, its mode."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from localserver import LocalServer, Route
from test_lock import _hold

from watchlist.daemon.lock import AlreadyRunning, StateLock
from watchlist.models import Config, StateError
from watchlist.store.sqlite import Store


def test_hard_link_to_a_locked_state_is_refused(tmp_path: Path) -> None:
    """A second daemon reaching the same state file through a hard link is refused with the PID."""
    state = tmp_path / "state.db"
    Store(state).close()
    link = tmp_path / "other" / "linked.db"
    link.parent.mkdir()
    os.link(state, link)
    holder = _hold(state)
    try:
        with pytest.raises(AlreadyRunning) as exc:
            StateLock(link).acquire()
        assert exc.value.pid == holder.pid
        assert str(link) in str(exc.value)
    finally:
        holder.communicate("\n", timeout=10)
    StateLock(link).acquire().release()  # free again once the holder is gone


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_state_file_is_created_owner_only(tmp_path: Path, umask: int) -> None:
    """The state file (and the lock file) are created 0600 whatever the umask."""
    old = os.umask(umask)
    try:
        with StateLock(tmp_path / "s.db"):
            Store(tmp_path / "s.db").close()
        Store(tmp_path / "direct.db").close()
    finally:
        os.umask(old)
    for name in ("s.db", "s.db.lock", "direct.db"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_state_file_gets_one_clear_line(tmp_path: Path, damage: str) -> None:
    """A damaged state file names the file and what to do, in the store, status and run."""
    state = tmp_path / "state.db"
    s = Store(state)
    s.close()
    if damage == "garbage":
        state.write_bytes(b"this is not a database at all\n" * 200)
    else:
        data = state.read_bytes()
        state.write_bytes(data[:100])  # the header cut short
    with pytest.raises(StateError, match=r"state\.db: the state file is damaged.*mv .*broken"):
        Store(state)
    (tmp_path / "rules.yaml").write_text("- name: r\n  keywords: [x]\n  notify: [c]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text("state: ./state.db\nrules: rules.yaml\nchannels:\n  c: console://\n")
    for args in (["status"], ["run", "--once"], ["outbox", "list"]):
        out = subprocess.run(
            [sys.executable, "-m", "watchlist", *args, "-c", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr, out.stderr
        assert f"{state}: the state file is damaged" in out.stderr, out.stderr


LIMIT = 65536  # bytes: the -shm file (32 KiB) fits, the WAL cannot take a big poll


def _feed(n: int) -> str:
    now = format_datetime(datetime.now(UTC))
    text = "A long report on the reactor. " * 40
    items = "".join(
        f"<item><guid>g{i}</guid><title>Nuclear fusion story {i}</title>"
        f"<link>https://n.example/{i}</link><pubDate>{now}</pubDate>"
        f"<description>{text}</description></item>"
        for i in range(n)
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>"


def _limit_file_size() -> None:
    """In the child: no file may grow past 64 KiB (as if the disk filled up)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_full_disk_gives_one_line_per_poll_and_exit_1(
    tmp_path: Path, http_server: LocalServer
) -> None:
    """When the state cannot grow: a one-line error per source, no traceback, exit 1."""
    http_server.routes["/feed.xml"] = Route(
        200, _feed(300), {"Content-Type": "application/rss+xml"}
    )
    (tmp_path / "rules.yaml").write_text(
        "- name: fusion\n  topics: [nuclear fusion]\n  notify: [hook]\n"
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        textwrap.dedent(
            f"""\
            state: ./state.db
            rules: rules.yaml
            sources:
              - name: wire
                type: rss
                url: {http_server.url("/feed.xml")}
            channels:
              hook: json://127.0.0.1:{http_server.port}/hook
            """
        )
    )
    Store(tmp_path / "state.db").close()  # the schema is in place; the disk then "fills"
    assert (tmp_path / "state.db").stat().st_size > LIMIT // 2
    run = subprocess.run(
        [sys.executable, "-m", "watchlist", "run", "--once", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    [line] = [ln for ln in run.stderr.splitlines() if "source wire" in ln]
    assert "cannot write the state file" in line and "state.db" in line, line
    assert "every source failed to poll" in run.stderr
    status = subprocess.run(
        [sys.executable, "-m", "watchlist", "status", "--json", "-c", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    obj = json.loads(status.stdout)
    assert obj["outbox"]["counts"]["alerts"] == 0  # nothing half-written
    [wire] = obj["sources"]
    assert "cannot write the state file" in wire["last_error"] and wire["failures"] == 1


def test_status_names_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`status` says when the state's disk is full (disk_usage faked: no full disk here)."""
    from collections import namedtuple

    from watchlist.commands import statusview
    from watchlist.commands.status import render_status, snapshot_to_json

    state = tmp_path / "state.db"
    Store(state).close()
    cfg = Config(path=str(tmp_path / "config.yaml"), state=str(state))
    s = Store(state)
    try:
        assert statusview.collect_snapshot(cfg, s, datetime.now(UTC)).state_problem == ""
        usage = namedtuple("usage", "total used free")
        monkeypatch.setattr(statusview.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 512))
        snap = statusview.collect_snapshot(cfg, s, datetime.now(UTC))
    finally:
        s.close()
    assert "the disk is full (512 bytes free)" in render_status(snap)
    assert "disk is full" in snapshot_to_json(snap)["state_problem"]
