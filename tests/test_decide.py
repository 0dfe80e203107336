"""The decide stage: cooldown, quiet hours across midnight and DST, digests, rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_faults_driver import quiet, rule

from watchlist.decide import (
    decide,
    in_quiet_hours,
    next_digest,
    plan_rate_limit,
    quiet_hours_end,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
UTCZ = ZoneInfo("UTC")


def utc(*args: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("hours", "local", "expected"),
    [
        (("22:00", "07:00"), (2026, 1, 5, 23, 30), True),
        (("22:00", "07:00"), (2026, 1, 5, 6, 59), True),
        (("22:00", "07:00"), (2026, 1, 5, 7, 0), False),
        (("22:00", "07:00"), (2026, 1, 5, 21, 59), False),
        (("22:00", "07:00"), (2026, 1, 5, 22, 0), True),
        (("12:00", "13:00"), (2026, 1, 5, 12, 30), True),
        (("12:00", "13:00"), (2026, 1, 5, 13, 30), False),
        (("09:00", "09:00"), (2026, 1, 5, 9, 0), False),
    ],
)
def test_in_quiet_hours(hours: tuple[str, str], local: tuple[int, ...], expected: bool) -> None:
    """Quiet hours are [start, end) in local time and may cross midnight."""
    now = datetime(*local, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]
    assert in_quiet_hours(quiet(*hours), now, SH) is expected


@pytest.mark.parametrize(
    ("local_now", "zone", "expected_local"),
    [
        # across midnight: 23:30 -> 07:00 next day
        ((2026, 1, 5, 23, 30), SH, (2026, 1, 6, 7, 0)),
        # after midnight: 03:00 -> 07:00 same day
        ((2026, 1, 6, 3, 0), SH, (2026, 1, 6, 7, 0)),
        # New York spring forward (2026-03-08 02:00 -> 03:00): still 07:00 local
        ((2026, 3, 7, 23, 0), NY, (2026, 3, 8, 7, 0)),
        # New York fall back (2026-11-01): still 07:00 local
        ((2026, 10, 31, 23, 0), NY, (2026, 11, 1, 7, 0)),
    ],
)
def test_quiet_hours_end_is_local_wall_clock(
    local_now: tuple[int, ...], zone: ZoneInfo, expected_local: tuple[int, ...]
) -> None:
    """Deferred alerts come out at the local end of quiet hours, also across midnight and DST."""
    now = datetime(*local_now, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]
    end = quiet_hours_end(quiet("22:00", "07:00"), now, zone)
    assert end.astimezone(zone).replace(tzinfo=None) == datetime(*expected_local)  # type: ignore[misc]
    assert end > now


def test_dst_night_lengths_differ() -> None:
    """The DST night in New York is an hour shorter in UTC than an ordinary one."""
    q = quiet("22:00", "07:00")
    ordinary = datetime(2026, 3, 1, 22, 0, tzinfo=NY).astimezone(UTC)
    spring = datetime(2026, 3, 7, 22, 0, tzinfo=NY).astimezone(UTC)
    assert quiet_hours_end(q, ordinary, NY) - ordinary == timedelta(hours=9)
    assert quiet_hours_end(q, spring, NY) - spring == timedelta(hours=8)


@pytest.mark.parametrize(
    ("cron", "local_now", "zone", "expected_local"),
    [
        ("0 8 * * *", (2026, 1, 5, 7, 0), SH, (2026, 1, 5, 8, 0)),
        ("0 8 * * *", (2026, 1, 5, 8, 0), SH, (2026, 1, 6, 8, 0)),
        ("0 8 * * 1", (2026, 1, 6, 9, 0), SH, (2026, 1, 12, 8, 0)),
        ("0 8 * * *", (2026, 3, 7, 9, 0), NY, (2026, 3, 8, 8, 0)),
    ],
)
def test_next_digest(
    cron: str, local_now: tuple[int, ...], zone: ZoneInfo, expected_local: tuple[int, ...]
) -> None:
    """A digest fires at the next cron time in the configured zone, strictly after now."""
    now = datetime(*local_now, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]
    got = next_digest(cron, now, zone)
    assert got.tzinfo is not None
    assert got.astimezone(zone).replace(tzinfo=None) == datetime(*expected_local)  # type: ignore[misc]


NOW = utc(2026, 1, 5, 12, 0)


@pytest.mark.parametrize(
    ("kw", "last_due", "due", "held_word"),
    [
        ({}, None, NOW, ""),
        ({"cooldown": timedelta(hours=6)}, None, NOW, ""),
        ({"cooldown": timedelta(hours=6)}, NOW - timedelta(hours=7), NOW, ""),
        (
            {"cooldown": timedelta(hours=6)},
            NOW - timedelta(hours=1),
            NOW + timedelta(hours=5),
            "cooldown",
        ),
        # a held cooldown message is waiting: join it
        (
            {"cooldown": timedelta(hours=6)},
            NOW + timedelta(hours=2),
            NOW + timedelta(hours=2),
            "cooldown",
        ),
        ({"quiet_hours": quiet("11:00", "13:00")}, None, utc(2026, 1, 5, 13, 0), "quiet hours"),
        ({"quiet_hours": quiet("11:00", "13:00"), "priority": "high"}, None, NOW, ""),
        ({"digest": "0 18 * * *"}, None, utc(2026, 1, 5, 18, 0), "digest"),
        (
            {"digest": "0 12 * * *", "quiet_hours": quiet("11:00", "13:00")},
            None,
            utc(2026, 1, 6, 13, 0),
            "quiet hours",
        ),
    ],
)
def test_decide(
    kw: dict[str, object], last_due: datetime | None, due: datetime, held_word: str
) -> None:
    """decide() returns the due time and the reason it waits, if it does."""
    d = decide(rule(**kw), NOW, UTCZ, last_due)
    assert d.due == due
    assert d.held is bool(held_word)
    assert held_word in d.reason
    assert (d.fold_key is not None) is bool(held_word)


def test_decide_folds_held_matches_of_one_rule() -> None:
    """Two matches held to the same moment share a fold key; another rule does not."""
    r = rule(cooldown=timedelta(hours=1))
    a = decide(r, NOW, UTCZ, NOW - timedelta(minutes=10))
    b = decide(r, NOW + timedelta(minutes=5), UTCZ, a.due)
    other = decide(
        rule(name="other", cooldown=timedelta(hours=1)), NOW, UTCZ, NOW - timedelta(minutes=10)
    )
    assert a.fold_key == b.fold_key
    assert other.fold_key != a.fold_key


@pytest.mark.parametrize(
    ("messages", "sent_ago", "limit", "single", "fold", "wait"),
    [
        (3, [], None, 3, 0, None),
        (3, [], (5, 60), 3, 0, None),
        (10, [], (5, 60), 4, 6, None),
        (10, [10, 20, 30, 40], (5, 60), 0, 10, None),
        (10, [10, 20, 30, 40, 50], (5, 60), 0, 0, 10),
        (2, [30, 40, 50, 70, 80, 90], (5, 60), 2, 0, None),  # 70-90 s ago: outside the window
        (0, [], (1, 60), 0, 0, None),
    ],
)
def test_plan_rate_limit(
    messages: int,
    sent_ago: list[int],
    limit: tuple[int, int] | None,
    single: int,
    fold: int,
    wait: int | None,
) -> None:
    """At most N per window; the overflow folds into the last free slot or waits for one."""
    lim = (limit[0], timedelta(seconds=limit[1])) if limit else None
    sent = [NOW - timedelta(seconds=s) for s in sent_ago]
    plan = plan_rate_limit(messages, sent, lim, NOW)
    assert (plan.single, plan.fold) == (single, fold)
    expected = None if wait is None else NOW + timedelta(seconds=wait)
    assert plan.wait_until == expected


BERLIN = ZoneInfo("Europe/Berlin")  # 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 -> 02:00


@pytest.mark.parametrize(
    ("cron", "now", "expected"),
    [
        # fall back: 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET); fire once
        ("30 2 * * *", utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 0, 30)),
        ("30 2 * * *", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
        ("30 2 * * *", utc(2026, 10, 25, 0, 45), utc(2026, 10, 26, 1, 30)),
        ("30 2 * * *", utc(2026, 10, 25, 1, 10), utc(2026, 10, 26, 1, 30)),  # 02:10 CET, repeat
        ("0 3 * * *", utc(2026, 10, 25, 0, 45), utc(2026, 10, 25, 2, 0)),  # 03:00 CET
        # spring forward: 02:30 does not exist; it fires at 03:30 CEST, once
        ("30 2 * * *", utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 30)),
        ("30 2 * * *", utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)),
        ("0 3 * * *", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 0)),  # 03:00 CEST
    ],
)
def test_next_digest_across_dst(cron: str, now: datetime, expected: datetime) -> None:
    """A digest fires once at a repeated local time and after the gap at a skipped one."""
    assert next_digest(cron, now, BERLIN) == expected


@pytest.mark.parametrize(
    ("hours", "now", "expected"),
    [
        # fall back, first 02:10 (CEST): ends at the first 02:30
        (("02:00", "02:30"), utc(2026, 10, 25, 0, 10), utc(2026, 10, 25, 0, 30)),
        # fall back, the repeated 02:10 (CET): ends at the second 02:30, not a day later
        (("02:00", "02:30"), utc(2026, 10, 25, 1, 10), utc(2026, 10, 25, 1, 30)),
        # between the two 02:00-02:30 windows: not quiet
        (("02:00", "02:30"), utc(2026, 10, 25, 0, 40), utc(2026, 10, 25, 0, 40)),
        (("22:00", "07:00"), utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 6, 0)),  # 07:00 CET
        # spring forward: an end inside the gap (02:30) moves forward by the gap, 03:30 CEST
        (("01:00", "02:30"), utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30)),
        (("22:00", "07:00"), utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 5, 0)),  # 07:00 CEST
    ],
)
def test_quiet_hours_end_across_dst(
    hours: tuple[str, str], now: datetime, expected: datetime
) -> None:
    """Quiet hours end at their next local end, the repeated hour's second one included."""
    assert quiet_hours_end(quiet(*hours), now, BERLIN) == expected
