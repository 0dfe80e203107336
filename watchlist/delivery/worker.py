"""The delivery worker: sends due outbox rows, records every attempt, retries with backoff.

Order of events for one message (docs/delivery.md, "Crash points"):
claim the rows ('sending', attempt counted) and commit -> send through Apprise ->
commit the result ('sent', or 'pending' with the next attempt, or 'failed' once the
retry horizon is over). A crash after the claim and before the result is committed
leaves rows in 'sending'; the next run finds them (their process is gone) and
sends them again: that is the one duplicate the design permits.

Each channel sends up to its ``concurrency`` messages at once, in queue order
(``watchlist.delivery.inflight``): the next few are claimed together in one
commit, and the results of the sends that finished are committed together in one
more, before their slots take new messages. So at most ``concurrency`` messages
per channel are ever sent and not yet recorded, and a crash repeats no more.

One run is bounded (``watchlist.delivery.runguard``): a time budget, a stop flag checked
between sends (and while they are in flight), and a channel that times out or
refuses the connection gets no further sends in that run; its other rows wait for
the failed row's next attempt without an attempt counted.

``WATCHLIST_CRASH_AT`` makes the process SIGKILL itself at a named point, for the
fault-injection tests (docs/delivery.md, "Crash points"): ``before-send`` (claim
committed, request not started), ``before-record`` (a service answered, the results
are not yet committed; ``during-send`` is its older name) and ``after-send``. A kill
while requests are in flight has no hook: tests SIGKILL the process from outside.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from watchlist.decide import plan_rate_limit, zone
from watchlist.delivery import send as deliver
from watchlist.delivery.content import payload_extras, with_descriptions
from watchlist.delivery.describe import describe, format_outbox_status, outbox_status
from watchlist.delivery.inflight import InFlight
from watchlist.delivery.queue import OutboxQueue
from watchlist.delivery.runguard import RunGuard, Stop
from watchlist.delivery.templates import render, render_many, view_of
from watchlist.faults import crash_point
from watchlist.models import Article, ChannelConfig, Config, Match, OutboxRow, Rule

log = logging.getLogger("watchlist.outbox")

CRASH_ENV = "WATCHLIST_CRASH_AT"
CRASH_POINTS = (
    "after-fetch",
    "after-commit",
    "before-send",
    "before-record",
    "during-send",  # the older name of before-record
    "after-send",
)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
MIN_BUDGET = 60.0  # seconds one daemon outbox run may take at least (see run_budget)
STUCK_AFTER = timedelta(minutes=10)  # a claim this old is stale even if its pid lives on

Sender = Callable[..., deliver.SendResult]


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What one ``deliver_due`` run did (counts of messages, except ``rows``)."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0  # messages waiting: rate-limit window, or their channel did not answer
    waiting: int = 0  # messages not tried: the run's budget was spent or it was told to stop
    recovered: int = 0  # rows found stuck in 'sending' after a crash, now due again
    rows: int = 0  # outbox rows handled
    sent_by_channel: dict[str, int] = field(default_factory=dict)  # messages
    failed_by_channel: dict[str, int] = field(default_factory=dict)  # failed attempts


def claimer_id() -> str:
    """Who claims rows: ``pid@host`` (the host name is looked up once per process)."""
    return f"{os.getpid()}@{_hostname(os.getpid())}"


@functools.lru_cache(maxsize=4)
def _hostname(pid: int) -> str:
    return socket.gethostname()


def _gone(claimer: str, alive: set[str] | None = None) -> bool:
    """Whether the process that claimed a row is gone: by its pid on this host; elsewhere, by
    the cluster's heartbeats (``alive``, PostgreSQL), or at once when there are none (SQLite)."""
    pid_text, _, host = claimer.partition("@")
    if host != socket.gethostname() or not pid_text.isdigit():
        if alive is not None and claimer:
            return claimer not in alive
        return not claimer or host != socket.gethostname()
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Delay before the next attempt: 30 s doubling per attempt, at most 1 h, jittered 50-100 %."""
    base = min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(20, max(0, attempts - 1))))
    factor: float = rng.uniform(0.5, 1.0)
    return base * factor


def mask(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret value replaced by ****."""
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


def recover_interrupted(store: OutboxQueue, now: datetime) -> int:
    """Rows left in 'sending' by a process that died become due now; returns how many.

    Only rows still held by the claimer found dead change (``requeue``): with several
    daemons, another may have recovered and claimed a row since it was listed here.
    """
    alive = store.claimers_alive(now)
    stuck = [
        r
        for r in store.outbox_rows("sending")
        if _gone(r.claimed_by, alive) or r.updated <= now - STUCK_AFTER
    ]
    if not stuck:
        return 0
    return store.requeue(
        [(r.id, r.claimed_by) for r in stuck],
        now,
        "interrupted while sending (the process stopped); sent again, so it may arrive twice",
    )


def run_budget(config: Config) -> float:
    """Seconds one daemon outbox run may spend: a minute, or three send timeouts if longer."""
    return max(MIN_BUDGET, 3 * config.delivery.timeout)


def deliver_due(
    store: OutboxQueue,
    config: Config,
    now: datetime,
    *,
    rng: random.Random | None = None,
    sender: Sender | None = None,
    budget: float | None = None,
    stop: threading.Event | Stop | None = None,
) -> DeliveryStats:
    """Send every due outbox row, one message per row or per folded group, per channel.

    ``budget`` (seconds, None: no limit) and ``stop`` (an Event or a callable) end the
    run early; rows not tried stay due, with no attempt counted. Channels whose earlier
    attempts failed go last, so a dead server does not delay the healthy ones.
    """
    rng = rng or random.Random()
    send = sender or deliver.send
    guard = RunGuard.start(budget, stop)
    totals = {"sent": 0, "retrying": 0, "failed": 0, "deferred": 0, "waiting": 0, "rows": 0}
    recovered = recover_interrupted(store, now)
    by_channel: dict[str, list[OutboxRow]] = {}
    for row in store.outbox_rows("pending", due_by=now):
        by_channel.setdefault(row.channel, []).append(row)
    order = sorted(by_channel, key=lambda n: any(r.last_error for r in by_channel[n]))
    for name in order:
        rows = by_channel[name]
        try:
            channel = config.channel(name)
        except KeyError:
            store.update_rows(
                [r.id for r in rows],
                status="failed",
                last_error=f"unknown channel {name!r}: add it under channels: in config.yaml, "
                "then run `watchlist outbox retry ID`",
            )
            totals["failed"] += len(rows)
            continue
        if channel.rate_limit is None:
            _deliver_channel(store, config, channel, rows, now, rng, send, totals, guard)
            continue
        # a rate limit is one decision: one daemon at a time delivers this channel
        with store.channel_lock(name) as mine:
            if mine:
                rows = store.outbox_rows("pending", due_by=now, ids=[r.id for r in rows])
                if rows:
                    _deliver_channel(store, config, channel, rows, now, rng, send, totals, guard)
    per = {k: v for k, v in totals.items() if ":" in k}
    plain = {k: v for k, v in totals.items() if ":" not in k}
    return DeliveryStats(
        recovered=recovered,
        sent_by_channel={k[5:]: v for k, v in per.items() if k.startswith("sent:")},
        failed_by_channel={k[7:]: v for k, v in per.items() if k.startswith("failed:")},
        **plain,
    )


def _group(rows: Sequence[OutboxRow]) -> list[list[OutboxRow]]:
    groups: dict[str, list[OutboxRow]] = {}
    for r in rows:
        groups.setdefault(r.fold_key or f"#{r.id}", []).append(r)
    return list(groups.values())


def _deliver_channel(
    store: OutboxQueue,
    config: Config,
    channel: ChannelConfig,
    rows: Sequence[OutboxRow],
    now: datetime,
    rng: random.Random,
    send: Sender,
    totals: dict[str, int],
    guard: RunGuard,
) -> None:
    messages = _group(rows)
    window = channel.rate_limit[1] if channel.rate_limit else timedelta(0)
    recent = store.sends_since(channel.name, now - window) if channel.rate_limit else []
    plan = plan_rate_limit(len(messages), recent, channel.rate_limit, now)
    if plan.wait_until is not None:
        n, _ = channel.rate_limit or (0, window)
        until = plan.wait_until.astimezone(zone(config.timezone)).strftime("%H:%M:%S %Z")
        store.update_rows(
            [r.id for r in rows],
            next_attempt=plan.wait_until,
            held_reason=f"rate limit of {channel.name} ({n} per {window}) until {until}",
        )
        totals["deferred"] += len(messages)
        return
    jobs: list[tuple[list[OutboxRow], list[OutboxRow]]] = [(m, []) for m in messages[: plan.single]]
    folded = messages[plan.single : plan.single + plan.fold]
    if folded:
        jobs.append((folded[0], [r for m in folded[1:] for r in m]))
    _send_all(store, config, channel, jobs, now, rng, send, totals, guard)


def _not_tried(
    store: OutboxQueue,
    config: Config,
    channel: ChannelConfig,
    jobs: Sequence[tuple[list[OutboxRow], list[OutboxRow]]],
    guard: RunGuard,
    totals: dict[str, int],
) -> None:
    """Messages this run will not try: due again next run, or at the channel's next attempt."""
    ids = [r.id for main, more in jobs for r in (*main, *more)]
    retry_at = guard.down.get(channel.name)
    if retry_at is None:
        totals["waiting"] += len(jobs)
        return
    at = retry_at.astimezone(zone(config.timezone)).strftime("%H:%M:%S %Z")
    store.update_rows(
        ids,
        next_attempt=retry_at,
        held_reason=f"{channel.name} did not answer; waiting for its next attempt at {at}",
    )
    totals["deferred"] += len(jobs)


@dataclass(frozen=True, slots=True)
class _Message:
    """One claimed message: its rows (the first ones shown in full), URLs still to take it."""

    rows: tuple[OutboxRow, ...]
    targets: tuple[int, ...]  # indexes into the channel's URLs
    done: frozenset[int]  # URL indexes that took it on an earlier attempt
    title: str
    body: str
    data: Mapping[str, Any] | None = None  # the alert as JSON, for services that post JSON


Job = tuple[list[OutboxRow], list[OutboxRow]]  # (rows shown in full, rows folded in)


def _send_all(
    store: OutboxQueue,
    config: Config,
    channel: ChannelConfig,
    jobs: Sequence[Job],
    now: datetime,
    rng: random.Random,
    send: Sender,
    totals: dict[str, int],
    guard: RunGuard,
) -> None:
    """Send ``jobs`` in order, up to the channel's concurrency at once; results in batches.

    Each round is one commit: the results of the sends that finished, and the claim of
    the messages taking their places, before those start. So at most ``concurrency``
    messages are ever sent and not yet recorded (docs/delivery.md, "Crash points").
    """
    fmt = channel.format or deliver.preferred_format(channel.urls)
    window: InFlight[_Message, deliver.SendResult] = InFlight(channel.concurrency, guard)
    try:
        _rounds(store, config, channel, jobs, now, rng, send, totals, guard, window, fmt)
    finally:
        window.close()


def _rounds(
    store: OutboxQueue,
    config: Config,
    channel: ChannelConfig,
    jobs: Sequence[Job],
    now: datetime,
    rng: random.Random,
    send: Sender,
    totals: dict[str, int],
    guard: RunGuard,
    window: InFlight[_Message, deliver.SendResult],
    fmt: str,
) -> None:
    queue = list(jobs)
    finished: list[tuple[_Message, deliver.SendResult]] = []
    while True:
        sent, changes = _results(config, channel, finished, now, rng, totals, guard)
        if finished:
            window.went(not changes)
        batch: list[Job] = []
        if queue and window.free():
            if guard.may_send(channel.name):
                batch, queue = queue[: window.free()], queue[window.free() :]
            else:
                _not_tried(store, config, channel, queue, guard, totals)
                queue = []
        ids = [r.id for m, x in batch for r in (*m, *x)]
        if sent or changes or ids:
            claimed = store.settle(sent, changes, channel.name, ids, now, claimer_id())
        if finished:
            crash_point("after-send")
        for msg in _messages(store, config, channel, batch, set(claimed) if ids else set(), fmt):
            crash_point("before-send")
            urls = [channel.urls[i] for i in msg.targets]
            window.start(msg, functools.partial(
                send, urls, msg.title, msg.body, body_format=fmt, timeout=config.delivery.timeout,
                data=msg.data,
            ))  # fmt: skip
        if not window:
            if queue:
                finished = []
                continue
            return
        finished = window.collect()
        if finished:
            crash_point("before-record")
            crash_point("during-send")
        if guard.stopped and window:  # told to stop while requests were in flight
            abandoned = window.abandon()
            store.update_rows(
                [r.id for msg in abandoned for r in msg.rows],
                status="pending",
                next_attempt=now,
                claimed_by="",
                last_error="interrupted while sending (watchlist was stopping); sent again, "
                "so it may arrive twice",
            )
            totals["waiting"] += len(abandoned)


def _messages(
    store: OutboxQueue,
    config: Config,
    channel: ChannelConfig,
    jobs: Sequence[Job],
    claimed: set[int],
    fmt: str,
) -> list[_Message]:
    """The messages of ``jobs`` made of the rows actually claimed, rendered."""
    if not jobs:
        return []
    views = with_descriptions(
        store.alert_views(sorted({r.alert_id for m, x in jobs for r in (*m, *x)})), config
    )
    out: list[_Message] = []
    for main_rows, more_rows in jobs:
        rows = [r for r in main_rows if r.id in claimed]
        more = [r for r in more_rows if r.id in claimed]
        if not rows:
            rows, more = more[:1], more[1:]
        everything = (*rows, *more)
        if not everything:
            continue
        main = [views[r.alert_id] for r in rows if r.alert_id in views]
        extra = [f"[{v.rule}] {v.title}" for r in more if (v := views.get(r.alert_id))]
        message = render_many(main, config.templates, fmt, more=extra, tz=config.timezone)
        for problem in message.errors:
            log.warning("%s: %s", config.path, problem)
        done = frozenset(set.intersection(*(set(r.delivered_urls) for r in everything)))
        targets = tuple(i for i in range(len(channel.urls)) if i not in done)
        data = payload_extras(main)
        out.append(_Message(everything, targets, done, message.title, message.body, data))
    return out


def _results(
    config: Config,
    channel: ChannelConfig,
    finished: Sequence[tuple[_Message, deliver.SendResult]],
    now: datetime,
    rng: random.Random,
    totals: dict[str, int],
    guard: RunGuard,
) -> tuple[list[tuple[list[int], list[int]]], list[tuple[list[int], dict[str, Any]]]]:
    """What to commit for finished sends: (delivered: ids and URL indexes, failed: columns)."""
    sent: list[tuple[list[int], list[int]]] = []
    changes: list[tuple[list[int], dict[str, Any]]] = []
    for msg, result in finished:
        ids = [r.id for r in msg.rows]
        delivered = sorted(msg.done | {msg.targets[i] for i in result.delivered})
        totals["rows"] += len(ids)
        if result.ok:
            sent.append((ids, delivered))
            totals["sent"] += 1
            totals[f"sent:{channel.name}"] = totals.get(f"sent:{channel.name}", 0) + 1
        else:
            values, nxt = _failed(config, msg.rows, result, delivered, now, rng, totals)
            changes.append((ids, values))
            if result.unreachable:
                guard.down[channel.name] = nxt
            totals[f"failed:{channel.name}"] = totals.get(f"failed:{channel.name}", 0) + 1
    return sent, changes


def _failed(
    config: Config,
    rows: Sequence[OutboxRow],
    result: deliver.SendResult,
    delivered: Sequence[int],
    now: datetime,
    rng: random.Random,
    totals: dict[str, int],
) -> tuple[dict[str, Any], datetime]:
    """The columns recording a failed attempt, and the next attempt's time (``now``: given up)."""
    attempts = max(r.attempts for r in rows) + 1  # the claim counted one more
    words = mask(result.words, config.secrets)
    started = min(r.due for r in rows)
    nxt = now + backoff(attempts, rng)
    values: dict[str, Any] = {"claimed_by": "", "delivered_urls": tuple(delivered)}
    if nxt > started + config.delivery.retry_horizon:
        values |= {
            "status": "failed",
            "last_error": f"{words} (gave up after {attempts} attempts; "
            "`watchlist outbox retry ID` sends it again)",
        }
        totals["failed"] += 1
        nxt = now
    else:
        values |= {"status": "pending", "next_attempt": nxt, "last_error": words}
        totals["retrying"] += 1
    log.warning("delivery to %s failed (attempt %d): %s", rows[0].channel, attempts, words)
    return values, nxt


def send_now(
    config: Config, rule: Rule, article: Article, match: Match
) -> list[tuple[bool, str, str]]:
    """Send one match straight to its rule's channels, bypassing the outbox.

    For ``watchlist scan --notify``: nothing is recorded or retried. Returns
    (ok, result in words, channel name) per channel.
    """
    view = replace(view_of(article, match), description=rule.description)
    results: list[tuple[bool, str, str]] = []
    for name in rule.notify:
        try:
            channel = config.channel(name)
        except KeyError:
            results.append((False, f"unknown channel {name!r}", name))
            continue
        fmt = channel.format or deliver.preferred_format(channel.urls)
        message = render(view, config.templates, fmt, config.timezone)
        sent = deliver.send(
            list(channel.urls),
            message.title,
            message.body,
            body_format=fmt,
            timeout=config.delivery.timeout,
            data=payload_extras([view]),
        )
        results.append((sent.ok, sent.words, name))
    return results


__all__ = [
    "DeliveryStats",
    "backoff",
    "deliver_due",
    "describe",
    "format_outbox_status",
    "mask",
    "outbox_status",
    "recover_interrupted",
    "run_budget",
    "send_now",
]
