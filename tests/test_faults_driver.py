"""Helpers for the delivery tests, and the crash driver run as a real subprocess.

As a script: ``python tests/test_faults_driver.py DB URL N [CONCURRENCY]`` opens the
Store at DB, records N matches for a rule whose channel posts json:// to URL (skipped
if those articles were already recorded), then runs ``deliver_due``. ``WATCHLIST_CRASH_AT``
in the environment makes it SIGKILL itself at that point. It defines no tests.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from watchlist.models import (
    Article,
    ChannelConfig,
    Config,
    DeliveryConfig,
    Hit,
    Match,
    Rule,
    Templates,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def article(
    n: int,
    *,
    source: str = "wire",
    url: str | None = None,
    title: str | None = None,
    published: datetime | None = None,
) -> Article:
    """A small article numbered ``n`` mentioning Acme."""
    return Article(
        id=f"a{n}-{source}",
        title=title if title is not None else f"Acme story number {n} about widgets",
        summary=f"Summary {n}.",
        body=f"Long ago, before story {n}, Acme Corp announced a listing of new shares.",
        url=url if url is not None else f"https://news.example/{n}",
        published=published or T0,
        source=source,
    )


def match(a: Article, rule: str = "acme") -> Match:
    """A match of ``rule`` on ``a`` with one hit on 'Acme' in the body."""
    start = a.body.index("Acme")
    return Match(
        rule=rule,
        article_id=a.id,
        hits=(Hit("companies", "Acme", "Acme", "Acme", "body", start, start + 4, 100.0),),
    )


def config(
    channels: dict[str, tuple[str, ...]],
    *,
    rules: tuple[Rule, ...] | None = None,
    tz: str = "UTC",
    horizon: timedelta = timedelta(hours=24),
    timeout: float = 5.0,
    rate: dict[str, tuple[int, timedelta]] | None = None,
    templates: Templates | None = None,
    fmt: str | None = "text",
    secrets: tuple[str, ...] = (),
    concurrency: int = 8,
) -> Config:
    """A Config with the given channels and rules (default: rule 'acme' to every channel)."""
    chans = tuple(
        ChannelConfig(
            name=n, urls=u, rate_limit=(rate or {}).get(n), format=fmt, concurrency=concurrency
        )
        for n, u in channels.items()
    )
    if rules is None:
        rules = (Rule(name="acme", notify=tuple(channels)),)
    return Config(
        path="/tmp/config.yaml",
        timezone=tz,
        rules=rules,
        channels=chans,
        delivery=DeliveryConfig(retry_horizon=horizon, timeout=timeout),
        templates=templates or Templates(),
        secrets=secrets,
    )


def rule(**kw: object) -> Rule:
    """Rule 'acme' notifying channel 'hook', with overrides."""
    base: dict[str, object] = {"name": "acme", "notify": ("hook",)}
    base.update(kw)
    return Rule(**base)  # type: ignore[arg-type]


def quiet(a: str, b: str) -> tuple[time, time]:
    """Quiet hours from 'HH:MM' strings."""
    return time.fromisoformat(a), time.fromisoformat(b)


def main(argv: list[str]) -> int:
    """Record N matches for the json:// receiver and deliver them (crash hook honoured)."""
    from watchlist.delivery.worker import deliver_due
    from watchlist.store.sqlite import Store, crash_point

    db, url, n = argv[0], argv[1], int(argv[2])
    concurrency = int(argv[3]) if len(argv) > 3 else 8
    store = Store(db)
    cfg = config({"hook": (url,)}, concurrency=concurrency)
    arts = [article(i) for i in range(n)]
    fresh = store.filter_unseen(arts)
    crash_point("after-fetch")
    store.record(fresh, [match(a) for a in fresh], cfg, datetime.now(UTC))  # after-commit
    stats = deliver_due(store, cfg, datetime.now(UTC))
    print(stats)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
