"""Tests for watchlist.daemon.metrics: each method moves its series; registries are private."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from watchlist.daemon.metrics import Metrics


@pytest.mark.parametrize(
    ("act", "sample", "labels", "expected"),
    [
        (
            lambda m: m.articles_read("feed", 3),
            "watchlist_articles_read_total",
            {"source": "feed"},
            3,
        ),
        (
            lambda m: m.articles_read("feed", 0),
            "watchlist_articles_read_total",
            {"source": "feed"},
            0,
        ),
        (lambda m: m.matched("ipo"), "watchlist_matches_total", {"rule": "ipo"}, 1),
        (lambda m: m.matched("ipo", 4), "watchlist_matches_total", {"rule": "ipo"}, 4),
        (lambda m: m.alerts_sent("me", 2), "watchlist_alerts_sent_total", {"channel": "me"}, 2),
        (lambda m: m.alerts_failed("me"), "watchlist_alerts_failed_total", {"channel": "me"}, 1),
        (lambda m: m.poll_error("feed"), "watchlist_poll_errors_total", {"source": "feed"}, 1),
        (lambda m: m.set_outbox(5, 2), "watchlist_outbox_pending", {}, 5),
        (lambda m: m.set_outbox(5, 2), "watchlist_outbox_failed", {}, 2),
        (lambda m: m.reloaded(False), "watchlist_last_reload_success", {}, 0),
        (lambda m: m.reloaded(True, 1000.0), "watchlist_last_reload_timestamp_seconds", {}, 1000),
        (lambda m: m.observe_match(0.002, 3), "watchlist_match_seconds_count", {}, 3),
    ],
)
def test_methods_move_series(
    act: Callable[[Metrics], None], sample: str, labels: dict[str, str], expected: float
) -> None:
    """Each daemon-facing method sets the series it names."""
    m = Metrics()
    act(m)
    assert m.value(sample, labels) == expected


def test_time_poll_observes_and_counts_errors() -> None:
    """time_poll records the duration, and an exception inside counts a poll error."""
    m = Metrics()
    with m.time_poll("feed"):
        time.sleep(0.06)
    with pytest.raises(RuntimeError), m.time_poll("feed"):
        raise RuntimeError("down")
    assert m.value("watchlist_poll_seconds_count", {"source": "feed"}) == 2
    assert (m.value("watchlist_poll_seconds_sum", {"source": "feed"}) or 0) >= 0.05
    assert m.value("watchlist_poll_seconds_bucket", {"source": "feed", "le": "0.05"}) == 1
    assert m.value("watchlist_poll_errors_total", {"source": "feed"}) == 1


def test_time_match() -> None:
    """time_match observes one article's matching time."""
    m = Metrics()
    with m.time_match():
        pass
    assert m.value("watchlist_match_seconds_count") == 1


def test_registries_are_independent() -> None:
    """Two Metrics objects do not share series (nothing goes to the global registry)."""
    a, b = Metrics(), Metrics()
    a.matched("x")
    assert b.value("watchlist_matches_total", {"rule": "x"}) is None


def test_render_is_prometheus_text() -> None:
    """render() gives the text exposition with HELP/TYPE lines and samples."""
    m = Metrics()
    m.articles_read("star-news", 7)
    text = m.render().decode()
    assert "# TYPE watchlist_articles_read_total counter" in text
    assert 'watchlist_articles_read_total{source="star-news"} 7.0' in text
    assert "# TYPE watchlist_match_seconds histogram" in text
    assert "watchlist_last_reload_success 1.0" in text


def test_pipeline_observes_match_time_per_new_article(tmp_path: Path) -> None:
    """The pipeline reports match time once per new article, and not the slow DB write."""
    from watchlist.daemon.pipeline import Pipeline, Runtime
    from watchlist.models import Article, Config, Entry, Rule
    from watchlist.store.sqlite import Store

    class SlowStore(Store):
        def record(self, *args: Any, **kwargs: Any) -> Any:
            time.sleep(0.3)
            return super().record(*args, **kwargs)

    rule = Rule(name="fusion", topics=(Entry("nuclear fusion"),), notify=("console",))
    runtime = Runtime.build(Config(path=str(tmp_path / "c.yaml"), rules=(rule,)))
    store = SlowStore(tmp_path / "s.db")
    seen: list[float] = []
    try:
        pipeline = Pipeline(store, runtime, on_match=seen.append)
        arts = [Article(id=f"a{i}", title=f"Nuclear fusion {i}") for i in range(3)]
        pipeline.process(arts, datetime.now(UTC))
        pipeline.process([*arts, Article(id="a9", title="Calm")], datetime.now(UTC))
    finally:
        store.close()
    assert len(seen) == 4
    assert sum(seen) < 0.3
