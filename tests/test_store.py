"""The store on both backends: seen articles, alerts, outbox rows, story duplicates, sources."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_faults_driver import T0, article, config, match, rule

from watchlist.models import SourceState
from watchlist.store.schema import SCHEMA_VERSION
from watchlist.store.sqlite import Store


@pytest.fixture
def store(state: str) -> Store:
    """A fresh store: an SQLite file, or a PostgreSQL database."""
    s = Store(state)
    yield s  # type: ignore[misc]
    s.close()


def test_pragmas_and_schema_version(tmp_path: Path) -> None:
    """The file is in WAL mode, synchronous FULL, at the newest schema version."""
    s = Store(tmp_path / "s.db")
    assert s.query("PRAGMA journal_mode")[0][0] == "wal"
    assert s.query("PRAGMA synchronous")[0][0] == 2  # FULL
    assert s.query("SELECT max(version) FROM schema_version")[0][0] == SCHEMA_VERSION
    s.close()


def test_newer_schema_is_refused(state: str) -> None:
    """A state written by a newer watchlist gives a clear error instead of damage."""
    s = Store(state)
    with s.tx() as db:
        db.execute("INSERT INTO schema_version VALUES (99)")
    s.close()
    with pytest.raises(RuntimeError, match=r"schema version 99.*upgrade watchlist"):
        Store(state)


def test_filter_unseen_and_record_survive_reopen(state: str) -> None:
    """Recorded articles stay seen after the store is closed and opened again."""
    arts = [article(1), article(2), article(1)]
    s = Store(state)
    assert [a.id for a in s.filter_unseen(arts)] == ["a1-wire", "a2-wire"]
    s.record(arts[:1], [], config({}), T0)
    s.close()
    s = Store(state)
    assert [a.id for a in s.filter_unseen(arts)] == ["a2-wire"]
    s.close()


def test_record_writes_alert_and_one_row_per_channel(store: Store) -> None:
    """One match with two channels gives one alert and two pending outbox rows."""
    cfg = config({"a": ("json://x",), "b": ("json://y",)})
    a = article(1)
    res = store.record([a], [match(a)], cfg, T0)
    assert (res.seen, res.alerts, res.outbox, res.duplicates) == (1, 1, 2, 0)
    rows = store.outbox_rows()
    assert sorted(r.channel for r in rows) == ["a", "b"]
    assert {r.status for r in rows} == {"pending"}
    assert all(r.next_attempt == T0 for r in rows)


def test_record_is_idempotent(store: Store) -> None:
    """Recording the same article again writes nothing new (matched once, also across restarts)."""
    cfg = config({"a": ("json://x",)})
    a = article(1)
    store.record([a], [match(a)], cfg, T0)
    again = store.record([a], [match(a)], cfg, T0 + timedelta(hours=1))
    assert (again.seen, again.alerts, again.outbox) == (0, 0, 0)
    assert len(store.outbox_rows()) == 1


@pytest.mark.parametrize(
    ("second", "duplicate"),
    [
        (article(9, source="other", url="https://news.example/1", title="Other headline"), True),
        (
            article(
                9,
                source="other",
                url="https://elsewhere/x",
                title="ACME story number 1 about widgets!",
            ),
            True,
        ),
        (
            article(
                9,
                source="other",
                url="https://elsewhere/x",
                title="Acme story number 1 about widget",
            ),
            True,
        ),
        (
            article(
                9,
                source="other",
                url="https://elsewhere/x",
                title="Acme story number 2 about widgets",
            ),
            False,
        ),
        (
            article(
                9,
                source="other",
                url="https://elsewhere/x",
                title="Acme story number 1 about widgets",
                published=T0 + timedelta(hours=49),
            ),
            False,
        ),
        (article(9, source="other", url="https://elsewhere/x", title="Something else"), False),
    ],
)
def test_cross_source_duplicates(store: Store, second: object, duplicate: bool) -> None:
    """Same canonical URL, or a near-identical title within 48 h, alerts a rule once."""
    cfg = config({"a": ("json://x",)})
    first = article(1)
    store.record([first], [match(first)], cfg, T0)
    res = store.record([second], [match(second)], cfg, T0)  # type: ignore[list-item,arg-type]
    assert res.duplicates == int(duplicate)
    assert res.alerts == int(not duplicate)
    alerts = store.recent_alerts(5)
    if duplicate:
        assert alerts[0]["also_in"] == ["other"]


def test_duplicate_of_other_rule_still_alerts(store: Store) -> None:
    """The same story alerts each rule once: a second rule gets its own alert."""
    cfg = config({"a": ("json://x",)}, rules=(rule(notify=("a",)), rule(name="b", notify=("a",))))
    first, copy = article(1), article(1, source="other")
    store.record([first], [match(first)], cfg, T0)
    res = store.record([copy], [match(copy), match(copy, "b")], cfg, T0)
    assert (res.duplicates, res.alerts) == (1, 1)
    also = {a["rule"]: a["also_in"] for a in store.recent_alerts(5)}
    assert also == {"acme": ["other"], "b": []}


def test_unknown_channel_is_kept_as_failed(store: Store) -> None:
    """A rule naming a channel that does not exist keeps a failed row that says so."""
    cfg = config({"a": ("json://x",)}, rules=(rule(notify=("a", "nope")),))
    a = article(1)
    store.record([a], [match(a)], cfg, T0)
    failed = store.outbox_rows("failed")
    assert [r.channel for r in failed] == ["nope"]
    assert "unknown channel 'nope'" in failed[0].last_error


def test_digest_rows_are_held_with_reason(store: Store) -> None:
    """A digest rule's rows wait for the cron time, with the reason stored."""
    cfg = config({"hook": ("json://x",)}, rules=(rule(digest="0 8 * * *"),))
    a = article(1)
    res = store.record([a], [match(a)], cfg, T0)
    assert res.held == 1
    (row,) = store.outbox_rows()
    assert row.next_attempt == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert "digest" in row.held_reason
    assert store.counts()["held"] == 1


def test_record_rolls_back_on_error(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside record leaves nothing half-written: the article stays unseen."""

    def boom(*a: object, **k: object) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "_insert_alert", boom)
    a = article(1)
    with pytest.raises(RuntimeError):
        store.record([a], [match(a)], config({"a": ("json://x",)}), T0)
    assert store.filter_unseen([a]) == [a]
    assert store.outbox_rows() == []


def test_source_state_round_trip(store: Store) -> None:
    """Source state is saved and loaded with aware UTC datetimes."""
    assert store.load_source_state("feed") == SourceState()
    state = SourceState(
        etag='"x"',
        last_poll=T0,
        last_success=T0,
        last_error="boom",
        last_error_at=T0,
        failures=2,
        next_poll=T0 + timedelta(minutes=5),
        articles=7,
    )
    store.save_source_state("feed", state)
    back = store.load_source_state("feed")
    assert back == state
    assert back.last_poll is not None and back.last_poll.tzinfo is not None
    assert store.source_names() == ["feed"]


def test_retry_and_drop(store: Store) -> None:
    """retry makes a failed row due now; drop gives it up; unknown ids return False."""
    cfg = config({"a": ("json://x",)}, rules=(rule(notify=("a", "nope")),))
    a = article(1)
    store.record([a], [match(a)], cfg, T0)
    (failed,) = store.outbox_rows("failed")
    later = T0 + timedelta(hours=2)
    assert store.retry(failed.id, later)
    (row,) = store.outbox_rows(ids=[failed.id])
    assert (row.status, row.next_attempt) == ("pending", later)
    assert store.drop(failed.id, later)
    assert store.outbox_rows(ids=[failed.id])[0].status == "dropped"
    assert not store.retry(999, later)
    assert not store.drop(999, later)


def test_concurrent_records_from_threads(store: Store) -> None:
    """Many threads recording at once lose nothing and raise nothing."""
    cfg = config({"a": ("json://x",)})
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            for i in range(20):
                a = article(base * 100 + i, title=f"Distinct headline {base} {i} zz{base * i}")
                store.record([a], [match(a)], cfg, T0)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.counts()["alerts"] == 160
    assert len(store.outbox_rows()) == 160


def test_claim_takes_only_pending_rows(store: Store) -> None:
    """A row dropped by the user before the worker claims it is not sent."""
    cfg = config({"a": ("json://x",), "b": ("json://y",)})
    a = article(1)
    store.record([a], [match(a)], cfg, T0)
    first, second = store.outbox_rows()
    assert store.drop(first.id, T0)
    assert store.claim([first.id, second.id], T0, "1@host") == [second.id]
    claimed = store.outbox_rows(ids=[second.id])[0]
    assert (claimed.status, claimed.attempts, claimed.claimed_by) == ("sending", 1, "1@host")
