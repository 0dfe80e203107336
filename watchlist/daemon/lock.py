"""One daemon per state file: an exclusive, non-blocking flock on ``<state>.lock``.

The lock file holds the PID of the daemon that holds it, so a second daemon
started on the same state fails at once with ``AlreadyRunning`` naming the state
file and that PID. The lock dies with the process (the kernel drops it), so a
crashed daemon never leaves a stale lock behind; the file itself stays.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType


class AlreadyRunning(RuntimeError):
    """Another process holds the lock on this state file."""

    def __init__(self, state_path: Path, pid: int | None) -> None:
        self.state_path = state_path
        self.pid = pid
        who = f"PID {pid}" if pid else "another process"
        super().__init__(
            f"{state_path}: another watchlist daemon ({who}) is already running on this "
            f"state file; stop it first{f' (kill {pid})' if pid else ''} or give this one "
            "its own `state:` in config.yaml"
        )


def lock_path(state_path: str | Path) -> Path:
    """The lock file that guards ``state_path``: ``<state>.lock`` next to it."""
    p = Path(state_path)
    return p.with_name(p.name + ".lock")


def read_pid(path: Path) -> int | None:
    """The PID written in a lock file, or None when there is none readable."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


class StateLock:
    """``with StateLock(state):`` holds the state file's lock; ``acquire``/``release`` too."""

    def __init__(self, state_path: str | Path) -> None:
        self.state_path = Path(state_path)
        self.path = lock_path(state_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> StateLock:
        """Take the lock or raise ``AlreadyRunning`` (never waits)."""
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise AlreadyRunning(self.state_path, read_pid(self.path)) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (the file stays; it is reused next time)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
