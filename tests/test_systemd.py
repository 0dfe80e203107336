"""Tests for watchlist.daemon.systemd: sd_notify over a real AF_UNIX datagram socket."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from watchlist.daemon import systemd


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A real datagram socket standing in for systemd, named in NOTIFY_SOCKET."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (systemd.ready, "READY=1"),
        (systemd.stopping, "STOPPING=1"),
        (systemd.watchdog, "WATCHDOG=1"),
        (lambda: systemd.status("polling 3\nsources"), "STATUS=polling 3 sources"),
        (lambda: systemd.ready("up"), "READY=1\nSTATUS=up"),
    ],
)
def test_messages(notify_socket: socket.socket, call: Callable[[], bool], expected: str) -> None:
    """Each helper sends its sd_notify message."""
    assert call() is True
    assert notify_socket.recv(4096).decode() == expected


def test_reloading_carries_monotonic_usec(notify_socket: socket.socket) -> None:
    """RELOADING=1 comes with MONOTONIC_USEC from CLOCK_MONOTONIC, as systemd requires."""
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert systemd.reloading()
    lines = notify_socket.recv(4096).decode().split("\n")
    assert lines[0] == "RELOADING=1"
    key, value = lines[1].split("=")
    assert key == "MONOTONIC_USEC"
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert before <= int(value) <= after


def test_status_masks_secrets(notify_socket: socket.socket) -> None:
    """A status line never shows a URL password."""
    systemd.status("failing json://u:pw-secret9@host/x")
    assert "pw-secret9" not in notify_socket.recv(4096).decode()


def test_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """A NOTIFY_SOCKET starting with '@' is an abstract socket."""
    name = f"watchlist-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.ready()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


@pytest.mark.parametrize("value", [None, "", "relative/path"])
def test_noop_without_socket(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    """Without a usable NOTIFY_SOCKET every call is a no-op returning False."""
    if value is None:
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    else:
        monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert systemd.ready() is False


def test_dead_socket_returns_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket path nobody listens on gives False, not an exception."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    assert systemd.notify("READY=1") is False


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [("10000000", None, 5.0), ("", None, None), ("10000000", "1", None), ("0", None, None)],
)
def test_watchdog_interval(
    monkeypatch: pytest.MonkeyPatch, usec: str, pid: str | None, expected: float | None
) -> None:
    """The ping interval is half of WATCHDOG_USEC, only for the PID it names."""
    monkeypatch.setenv("WATCHDOG_USEC", usec)
    if pid is None:
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
    else:
        monkeypatch.setenv("WATCHDOG_PID", pid)
    assert systemd.watchdog_interval() == expected
