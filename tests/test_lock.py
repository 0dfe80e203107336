"""Tests for watchlist.daemon.lock: one daemon per state file, checked with real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from watchlist.daemon.lock import AlreadyRunning, StateLock, lock_path, read_pid

_HOLDER = textwrap.dedent(
    """
    import sys, time
    from watchlist.daemon.lock import StateLock
    with StateLock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.readline()
    """
)
_SECOND = textwrap.dedent(
    """
    import sys
    from watchlist.daemon.lock import AlreadyRunning, StateLock
    try:
        StateLock(sys.argv[1]).acquire()
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        sys.exit(3)
    print("got it")
    """
)


def _hold(state: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_process_is_refused_with_pid_and_path(tmp_path: Path) -> None:
    """A second process on the same state fails, naming the state file and the holder's PID."""
    state = tmp_path / "watchlist.db"
    holder = _hold(state)
    try:
        second = subprocess.run(
            [sys.executable, "-c", _SECOND, str(state)], capture_output=True, text=True, timeout=30
        )
        assert second.returncode == 3
        assert str(state) in second.stderr
        assert f"PID {holder.pid}" in second.stderr
    finally:
        holder.communicate("\n", timeout=10)


def test_lock_in_this_process_refused_while_other_holds(tmp_path: Path) -> None:
    """AlreadyRunning carries the holder's pid and the state path."""
    state = tmp_path / "s.db"
    holder = _hold(state)
    try:
        with pytest.raises(AlreadyRunning) as info:
            StateLock(state).acquire()
        assert info.value.pid == holder.pid
        assert info.value.state_path == state
    finally:
        holder.communicate("\n", timeout=10)


def test_lock_freed_when_holder_is_killed(tmp_path: Path) -> None:
    """A killed daemon leaves no stale lock: the next one starts."""
    state = tmp_path / "s.db"
    holder = _hold(state)
    holder.kill()
    holder.wait(10)
    with StateLock(state) as lock:
        assert lock.held
        assert read_pid(lock_path(state)) is not None


def test_release_allows_next_and_is_idempotent(tmp_path: Path) -> None:
    """After release another holder can take it; releasing twice is harmless."""
    state = tmp_path / "s.db"
    first = StateLock(state).acquire()
    with pytest.raises(AlreadyRunning):
        StateLock(state).acquire()  # a second open file description conflicts too
    first.release()
    first.release()
    with StateLock(state):
        pass


def test_different_states_do_not_conflict(tmp_path: Path) -> None:
    """Two daemons on two state files both run."""
    with StateLock(tmp_path / "a.db"), StateLock(tmp_path / "b.db"):
        assert lock_path(tmp_path / "a.db").name == "a.db.lock"


@pytest.mark.parametrize(("content", "pid"), [("123\n", 123), ("", None), ("junk", None)])
def test_read_pid(tmp_path: Path, content: str, pid: int | None) -> None:
    """read_pid reads a PID and tolerates empty or junk lock files."""
    p = tmp_path / "x.lock"
    p.write_text(content)
    assert read_pid(p) == pid


def test_message_without_pid(tmp_path: Path) -> None:
    """Without a readable PID the message still names the state file."""
    assert "another process" in str(AlreadyRunning(tmp_path / "s.db", None))
