"""One daemon per state file: an exclusive, non-blocking flock on ``<state>.lock``.

The lock file holds the PID of the daemon that holds it, so a second daemon
started on the same state fails at once with ``AlreadyRunning`` naming the state
file and that PID. The lock dies with the process (the kernel drops it), so a
crashed daemon never leaves a stale lock behind; the file itself stays.

A path can lie: a hard link (or a second bind mount) names the same file under
another path, with another ``.lock`` beside it. So the daemon also takes a flock
on the state file itself, which belongs to the file's identity (device and
inode), whatever path reached it. (SQLite's own locks are POSIX record locks;
Linux keeps flock apart from them.) The PID of a holder found that way comes
from ``/proc/locks``.
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


def _lock_identity(state_path: Path) -> int | None:
    """An fd holding a flock on the state file itself (created 0600 if missing); None for
    a state that is no file (``:memory:``, a database URL)."""
    if str(state_path) == ":memory:" or "://" in str(state_path):
        return None
    fd = os.open(state_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        st = os.fstat(fd)
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise AlreadyRunning(state_path, flock_holder(st.st_dev, st.st_ino)) from None
        raise
    return fd


def flock_holder(dev: int, ino: int) -> int | None:
    """The PID holding a flock on the file (dev, ino), from ``/proc/locks``; None if unknown."""
    want = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    try:
        lines = Path("/proc/locks").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == want:
            return int(parts[4]) if parts[4].isdigit() else None
    return None


class StateLock:
    """``with StateLock(state):`` holds the state file's lock; ``acquire``/``release`` too."""

    def __init__(self, state_path: str | Path) -> None:
        self.state_path = Path(state_path)
        self.path = lock_path(state_path)
        self._fd: int | None = None
        self._state_fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(self) -> StateLock:
        """Take the lock or raise ``AlreadyRunning`` (never waits)."""
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise AlreadyRunning(self.state_path, read_pid(self.path)) from None
            raise
        try:
            self._state_fd = _lock_identity(self.state_path)
        except BaseException:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
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
        state_fd, self._state_fd = self._state_fd, None
        if state_fd is not None:
            os.close(state_fd)  # drops its flock
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
