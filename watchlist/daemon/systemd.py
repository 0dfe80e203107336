"""systemd's sd_notify protocol, without libsystemd: datagrams to ``$NOTIFY_SOCKET``.

``ready()`` once the daemon serves, ``reloading()`` then ``ready()`` around a
reload (with MONOTONIC_USEC, as systemd requires for RELOADING=1), ``stopping()``
on shutdown, ``status(text)`` for ``systemctl status``, ``watchdog()`` to pet
``WatchdogSec=``. Without ``NOTIFY_SOCKET`` (not under systemd) each call is a
no-op that returns False; a send error is logged, never raised.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from watchlist.daemon.logs import mask

log = logging.getLogger("watchlist.systemd")


def _address(raw: str) -> str | bytes:
    # "@name" is an abstract socket: a leading NUL byte in the address.
    return b"\0" + raw[1:].encode() if raw.startswith("@") else raw


def notify(message: str) -> bool:
    """Send ``message`` (``KEY=VALUE`` lines) to systemd; True when it was sent."""
    raw = os.environ.get("NOTIFY_SOCKET", "")
    if not raw or raw[0] not in "/@":
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.settimeout(1.0)
            sock.sendto(message.encode("utf-8"), _address(raw))
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", raw, exc)
        return False
    return True


def monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds, the clock systemd compares MONOTONIC_USEC with."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def ready(status_text: str = "") -> bool:
    """The daemon is up (also sent after a reload finishes)."""
    return notify("READY=1" + (f"\nSTATUS={_one_line(status_text)}" if status_text else ""))


def reloading() -> bool:
    """A reload starts; follow with ``ready()`` when it is done."""
    return notify(f"RELOADING=1\nMONOTONIC_USEC={monotonic_usec()}")


def stopping() -> bool:
    """The daemon is shutting down."""
    return notify("STOPPING=1")


def status(text: str) -> bool:
    """A one-line status shown by ``systemctl status`` (secrets masked)."""
    return notify(f"STATUS={_one_line(text)}")


def watchdog() -> bool:
    """Keep-alive for ``WatchdogSec=``."""
    return notify("WATCHDOG=1")


def watchdog_interval() -> float | None:
    """Seconds between watchdog pings that systemd expects (half WATCHDOG_USEC), or None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1e6 / 2


def _one_line(text: str) -> str:
    return mask(" ".join(text.split()))
