"""Durations, sizes, rate limits, timeouts and listen addresses as users write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from watchlist.config.durations import parse_duration, parse_listen, parse_rate, parse_size, seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("6h", timedelta(hours=6)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("10 minutes", timedelta(minutes=10)),
        (" 0s ", timedelta(0)),
    ],
)
def test_parse_duration_accepts(text: str, expected: timedelta) -> None:
    """Numbers with units, combined or spelled out, give the right timedelta."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("90", "duration '90' has no unit"),
        ("", "empty duration"),
        ("6y", "unknown unit 'y' in duration '6y'"),
        ("soon", "'soon' is not a duration"),
        ("1h and 5m", "'1h and 5m' is not a duration"),
        ("h", "'h' is not a duration"),
    ],
)
def test_parse_duration_refuses(text: str, message: str) -> None:
    """Bare numbers, unknown units and junk are refused with a hint on how to write one."""
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value).startswith(message)
    assert "such as 30s, 15m, 6h, 1d or 1h30m" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10MB", 10 * 1024**2), ("512KB", 512 * 1024), ("1GB", 1024**3), ("100", 100), (7, 7)],
)
def test_parse_size(text: str | int, expected: int) -> None:
    """Sizes in B/KB/MB/GB are 1024-based; a bare number is bytes."""
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["10XB", "big", "-5"])
def test_parse_size_refuses(text: str) -> None:
    """Unknown size units and junk are refused."""
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/1m", (10, timedelta(minutes=1))),
        ("10/m", (10, timedelta(minutes=1))),
        ("100/1h", (100, timedelta(hours=1))),
    ],
)
def test_parse_rate(text: str, expected: tuple[int, timedelta]) -> None:
    """Rate limits are N/duration; a bare unit means one of it."""
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["10", "ten/1m", "10/forever", "0/1m", "5/0s"])
def test_parse_rate_refuses(text: str) -> None:
    """Rate limits without a count, with a bad window or allowing nothing are refused."""
    with pytest.raises(ValueError, match="rate limit"):
        parse_rate(text)


@pytest.mark.parametrize(("value", "expected"), [(30, 30.0), (2.5, 2.5), ("1m", 60.0)])
def test_seconds(value: object, expected: float) -> None:
    """Timeouts are a plain number of seconds or a duration."""
    assert seconds(value) == expected


@pytest.mark.parametrize(("value", "message"), [(0, "more than zero"), (True, "found true")])
def test_seconds_refuses(value: object, message: str) -> None:
    """Zero and non-numbers are not timeouts."""
    with pytest.raises(ValueError, match=message):
        seconds(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("127.0.0.1:8787", "127.0.0.1:8787"), (9100, "127.0.0.1:9100"), ("[::1]:80", "[::1]:80")],
)
def test_parse_listen(value: object, expected: str) -> None:
    """host:port is kept; a bare port listens on 127.0.0.1."""
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["localhost", ":80", "host:99999", "host:http", None])
def test_parse_listen_refuses(value: object) -> None:
    """Addresses without a host or a valid port are refused."""
    with pytest.raises(ValueError, match="host:port"):
        parse_listen(value)
