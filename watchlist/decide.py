"""The decide stage: when may an alert go out? Pure functions; ``now`` and the zone are passed in.

Four rules shape delivery (docs/delivery.md explains them to users):

* cooldown - a rule sends at most one message per cooldown window. A match that
  arrives inside the window is held until the window ends, and every match held
  to that moment goes out as one message (folded, never dropped).
* quiet hours - ``(start, end)`` in the configured zone, may cross midnight. A
  match inside them is deferred to their end, unless the rule's priority is
  ``high``. Local wall-clock times are used, so DST changes move the UTC instant;
  in the repeated hour of a fall-back night the end is its second occurrence when
  ``now`` is already past the first.
* digest - a cron schedule (in the configured zone); every match is held for the
  next fire time and all matches held to it go out as one message. The schedule
  runs on naive wall-clock time: a time repeated by a fall-back fires once (its
  first occurrence), a time skipped by a spring-forward fires at the same wall
  time plus the gap (02:30 becomes 03:30).
* rate limit - per channel, at most N messages per window; the overflow is folded
  into one "and K more" message (``plan_rate_limit``, applied when delivering).

Held matches of one rule that share a due time share a ``fold_key``: the outbox
sends them as one message.

Before all of these, a mute (``find_mute``): a match of a muted rule, or of a muted
story of it, is recorded and shown as muted, and never sent.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from watchlist.models import Article, Mute, Rule

STORY_SIMILARITY = 0.92  # title keys this alike are one story (as the store judges copies)


@dataclass(frozen=True, slots=True)
class Decision:
    """When an alert becomes due, why, and which held message it joins (if any)."""

    due: datetime  # aware UTC
    reason: str = ""  # empty: send now; else why it is held, in words
    fold_key: str | None = None  # alerts with the same key go out as one message

    @property
    def held(self) -> bool:
        """True when the alert waits (digest, cooldown or quiet hours)."""
        return bool(self.reason)


@dataclass(frozen=True, slots=True)
class RatePlan:
    """How many due messages a rate-limited channel may send now."""

    single: int  # send this many messages as they are
    fold: int  # fold this many further messages into one "and K more" message
    wait_until: datetime | None  # when the rest may go (None: nothing waits)


def _local(now: datetime, tz: ZoneInfo) -> datetime:
    return now.astimezone(tz)


def _to_utc(day: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day``'s date in ``tz`` (gap times move forward)."""
    local = datetime.combine(day.date(), at, tzinfo=tz)
    return local.astimezone(UTC)


def _instants(day: datetime, at: time, tz: ZoneInfo) -> list[datetime]:
    """Every UTC instant of wall-clock ``at`` on ``day``'s date: two in a repeated hour."""
    first = _to_utc(day, at, tz)
    second = datetime.combine(day.date(), at, tzinfo=tz).replace(fold=1).astimezone(UTC)
    return [first, second] if second > first else [first]  # a gap time has fold=1 earlier


def in_quiet_hours(quiet: tuple[time, time], now: datetime, tz: ZoneInfo) -> bool:
    """True when ``now`` falls inside the quiet hours ``[start, end)`` in zone ``tz``."""
    start, end = quiet
    t = _local(now, tz).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end  # crosses midnight


def quiet_hours_end(quiet: tuple[time, time], now: datetime, tz: ZoneInfo) -> datetime:
    """The first end of quiet hours after ``now`` (UTC); ``now`` itself when not quiet."""
    if not in_quiet_hours(quiet, now, tz):
        return now
    local = _local(now, tz)
    end = quiet[1]
    for days in (0, 1, 2):
        for candidate in _instants(local + timedelta(days=days), end, tz):
            if candidate > now:
                return candidate
    return now  # pragma: no cover - unreachable: an end always comes within two days


def next_digest(cron: str, now: datetime, tz: ZoneInfo) -> datetime:
    """The next fire time of the 5-field ``cron`` strictly after ``now``, in ``tz``, as UTC.

    Runs on naive wall-clock time, so a repeated local time fires once (fold=0) and a
    skipped one moves forward by the gap.
    """
    it = croniter(cron, _local(now, tz).replace(tzinfo=None, fold=0))
    while True:
        wall: datetime = it.get_next(datetime)
        nxt = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
        if nxt > now:  # in the repeated hour, the first occurrence may already be past
            return nxt


def decide(rule: Rule, now: datetime, tz: ZoneInfo, last_due: datetime | None = None) -> Decision:
    """When a new match of ``rule`` is due, given the due time of its latest message.

    ``last_due`` is when the rule's most recent message was (or will be) sent.
    """
    due = now
    reason = ""
    if rule.digest:
        due = next_digest(rule.digest, now, tz)
        reason = f"digest at {_fmt(due, tz)}"
    elif rule.cooldown and last_due is not None:
        if last_due > now:  # a held message of this rule is already waiting: join it
            due, reason = last_due, f"cooldown until {_fmt(last_due, tz)}"
        elif last_due + rule.cooldown > now:
            due = last_due + rule.cooldown
            reason = f"cooldown until {_fmt(due, tz)}"
    if rule.quiet_hours and rule.priority != "high" and in_quiet_hours(rule.quiet_hours, due, tz):
        due = quiet_hours_end(rule.quiet_hours, due, tz)
        reason = f"quiet hours until {_fmt(due, tz)}"
    if not reason:
        return Decision(due=now)
    return Decision(due=due, reason=reason, fold_key=f"{rule.name}@{due.isoformat()}")


def plan_rate_limit(
    messages: int,
    sent_at: Sequence[datetime],
    limit: tuple[int, timedelta] | None,
    now: datetime,
) -> RatePlan:
    """Split ``messages`` due on one channel under ``limit`` = (N, window).

    ``sent_at`` are the channel's recent send times. When more are due than the
    window allows, all but one allowed slot go singly and the last slot carries
    one message folding the rest; with no slot free, everything waits.
    """
    if limit is None or messages == 0:
        return RatePlan(single=messages, fold=0, wait_until=None)
    n, window = limit
    recent = sorted(t for t in sent_at if now - window < t <= now)
    free = max(0, n - len(recent))
    if messages <= free:
        return RatePlan(single=messages, fold=0, wait_until=None)
    if free == 0:
        oldest = recent[len(recent) - n] if len(recent) >= n else now
        return RatePlan(single=0, fold=0, wait_until=oldest + window)
    return RatePlan(single=free - 1, fold=messages - (free - 1), wait_until=None)


def _fmt(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name (the config loader has already validated it)."""
    return ZoneInfo(name or "UTC")


def same_story(mute: Mute, article: Article, key: str) -> bool:
    """Whether ``article`` (``key``: its title key) is the story a story mute names.

    The same marks the store uses for copies of a story: the same URL, the same
    shared id (a URL, ``urn:``/``tag:`` URI or hash), or a near-identical title.
    """
    if mute.story_url and article.url == mute.story_url:
        return True
    if mute.story_id and article.id == mute.story_id and ":" in article.id:
        return True
    if not mute.story_key or len(key) < 12:
        return mute.story_key == key and bool(key)
    sm = difflib.SequenceMatcher(None, key, mute.story_key, autojunk=False)
    return sm.quick_ratio() >= STORY_SIMILARITY and sm.ratio() >= STORY_SIMILARITY


def find_mute(
    mutes: Sequence[Mute], rule: str, article: Article, key: str, now: datetime
) -> Mute | None:
    """The first mute in force at ``now`` that silences a new match of ``rule`` on ``article``."""
    for mute in mutes:
        if (mute.rule == rule and mute.active(now)) and (
            mute.story is None or same_story(mute, article, key)
        ):
            return mute
    return None
