"""Parsing the small values users write in YAML: durations, sizes, rates, timeouts, addresses.

``parse_duration("1h30m")``, ``parse_size("10MB")``, ``parse_rate("10/1m")``,
``seconds(30)``, ``parse_listen("127.0.0.1:8787")`` and the others raise
``ValueError`` with a message fit to show the user.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Any

from watchlist.config.errors import describe

_UNITS: dict[str, float] = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_UNIT_WORDS: dict[str, str] = {
    "sec": "s",
    "secs": "s",
    "second": "s",
    "seconds": "s",
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
    "week": "w",
    "weeks": "w",
}
DURATION_HINT = "write a number with a unit, such as 30s, 15m, 6h, 1d or 1h30m"

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")
_SIZE_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}


def parse_duration(text: str) -> timedelta:
    """A duration such as ``30s``, ``15m``, ``6h``, ``1d``, ``2w`` or ``1h30m``.

    A bare number has no unit and is refused: "90" could mean seconds or minutes.
    """
    s = str(text).strip().lower()
    if not s:
        raise ValueError(f"empty duration; {DURATION_HINT}")
    if re.fullmatch(r"\d+(?:\.\d+)?", s):
        raise ValueError(f"duration '{text}' has no unit; {DURATION_HINT}")
    total = 0.0
    pos = 0
    for m in _PART.finditer(s):
        if s[pos : m.start()].strip():
            break
        unit = _UNIT_WORDS.get(m.group(2), m.group(2))
        if unit not in _UNITS:
            raise ValueError(f"unknown unit '{m.group(2)}' in duration '{text}'; {DURATION_HINT}")
        total += float(m.group(1)) * _UNITS[unit]
        pos = m.end()
    if pos == 0 or s[pos:].strip():
        raise ValueError(f"'{text}' is not a duration; {DURATION_HINT}")
    return timedelta(seconds=total)


def parse_size(text: str | int) -> int:
    """Bytes from ``10MB``, ``512KB``, ``1GB`` or a plain number (units are 1024-based)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"size {text} is negative")
        return text
    s = str(text).strip().lower().replace(" ", "")
    m = _SIZE.fullmatch(s)
    if not m or m.group(2) not in _SIZE_UNITS:
        raise ValueError(
            f"'{text}' is not a size; write a number of bytes or e.g. 512KB, 10MB, 1GB"
        )
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])


def parse_rate(text: str) -> tuple[int, timedelta]:
    """A rate limit ``N/duration`` such as ``10/1m``, ``10/m`` or ``100/1h``: (count, window)."""
    count_s, sep, window_s = str(text).partition("/")
    hint = "write it as N/duration, such as 10/1m or 100/1h"
    if not sep or not count_s.strip().isdigit():
        raise ValueError(f"'{text}' is not a rate limit; {hint}")
    window_s = window_s.strip()
    if window_s and not window_s[0].isdigit():
        window_s = "1" + window_s
    try:
        window = parse_duration(window_s)
    except ValueError:
        raise ValueError(f"'{text}' is not a rate limit; {hint}") from None
    count = int(count_s)
    if count < 1 or window <= timedelta(0):
        raise ValueError(f"rate limit '{text}' must allow at least 1 message per non-zero window")
    return count, window


def seconds(value: Any) -> float:
    """A timeout: a duration such as ``30s`` or a plain number of seconds; more than zero."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = parse_duration(value).total_seconds()
    else:
        raise ValueError(f"expected a duration such as 30s, found {describe(value)}")
    if seconds <= 0:
        raise ValueError("must be more than zero")
    return seconds


def positive_duration(value: Any) -> timedelta:
    """A duration text such as ``15m`` that is more than zero."""
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 15m, found {describe(value)}")
    d = parse_duration(value)
    if d <= timedelta(0):
        raise ValueError("must be more than zero")
    return d


def parse_archive(value: Any) -> timedelta | None:
    """``archive:``: how long article text is kept (``30d``), or None for ``off``."""
    if value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none")):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 30d, or off; found {describe(value)}")
    try:
        return positive_duration(value)
    except ValueError as exc:
        raise ValueError(f"{exc} (or write off to keep no article text)") from None


def parse_listen(value: Any) -> str:
    """``host:port`` (a bare port number means 127.0.0.1)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"127.0.0.1:{value}"
    if not isinstance(value, str):
        raise ValueError(f"expected host:port such as 127.0.0.1:8787, found {describe(value)}")
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port such as 127.0.0.1:8787, found '{value}'")
    return value


def listen_is_loopback(listen: str) -> bool:
    """Whether ``host:port`` listens on this machine only (127.0.0.0/8, ::1, localhost).

    An empty host, 0.0.0.0, :: and every other name or address count as reachable
    from elsewhere.
    """
    host = listen.rpartition(":")[0].strip().strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def size(value: Any) -> int:
    """A size (``10MB`` or bytes) that is more than zero."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected a size such as 10MB, found {describe(value)}")
    n = parse_size(value)
    if n <= 0:
        raise ValueError("must be more than zero")
    return n
