"""Hostile posts to the ingest source: deep nesting, wrong types, too many items, a stop."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from watchlist.models import Article, SourceConfig, Stopping
from watchlist.sources.ingest import MAX_ITEMS, IngestServer


class Sink:
    """A submit callable that keeps what it got, or stops part way when told to."""

    def __init__(self) -> None:
        self.batches: list[list[Article]] = []
        self.stop = False

    def __call__(self, articles: list[Article]) -> list[str]:
        if self.stop:
            raise Stopping(0, len(articles))
        self.batches.append(articles)
        return [a.id for a in articles]


@pytest.fixture
def sink() -> Sink:
    """A fresh sink."""
    return Sink()


@pytest.fixture
def server(sink: Sink) -> Iterator[IngestServer]:
    """An ingest server without a token on loopback, 2 MB cap, on a free port."""
    cfg = SourceConfig(name="ingest", type="http", listen="127.0.0.1:0", max_bytes=2 << 20)
    srv = IngestServer(cfg, sink).start()
    try:
        yield srv
    finally:
        srv.stop()


def post(server: IngestServer, body: bytes) -> httpx.Response:
    """POST ``body`` to /articles."""
    return httpx.post(server.url + "/articles", content=body, timeout=30)


def test_deeply_nested_json_is_400(server: IngestServer, sink: Sink) -> None:
    """100,000 nested lists answer 400 with a message, not 500 with a traceback."""
    r = post(server, b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400
    assert "nested too deeply" in r.json()["error"]
    assert sink.batches == []


@pytest.mark.parametrize(
    ("article", "field"),
    [
        ({"title": {"a": 1}}, "'title' must be text, found an object"),
        ({"title": "x", "published": ["2026-01-01"]}, "'published' must be an ISO 8601"),
        ({"title": "x", "id": [1, 2]}, "'id' must be text or a whole number, found a list"),
        ({"title": float("nan")}, "'title' must be text, found nan"),
        ({"title": "x", "published": float("nan")}, "'published' must be an ISO 8601"),
        ({"title": "x", "url": 7}, "'url' must be text, found a number"),
        ({"title": "x", "body": True}, "'body' must be text, found true/false"),
    ],
)
def test_wrongly_typed_field_is_400_naming_it(
    server: IngestServer, sink: Sink, article: dict[str, object], field: str
) -> None:
    """A field of the wrong type answers 400 naming the field; nothing is stored."""
    r = post(server, json.dumps([{"title": "fine"}, article]).encode())
    assert r.status_code == 400
    assert r.json()["error"].startswith("article 1: ")
    assert field in r.json()["error"]
    assert sink.batches == []


def test_whole_number_id_and_epoch_time_are_accepted(server: IngestServer, sink: Sink) -> None:
    """Numbers where numbers make sense (an integer id, epoch seconds) still pass."""
    r = post(server, json.dumps({"title": "x", "id": 7, "published": 1700000000}).encode())
    assert (r.status_code, r.json()) == (202, {"accepted": ["7"]})


def test_too_many_items_is_413(server: IngestServer, sink: Sink) -> None:
    """A list longer than MAX_ITEMS is refused as a whole with the limit in the message."""
    r = post(server, json.dumps([{"title": "t"}] * (MAX_ITEMS + 1)).encode())
    assert r.status_code == 413
    assert f"limit of {MAX_ITEMS}" in r.json()["error"]
    assert sink.batches == []


def test_stopping_answers_503_with_retry(server: IngestServer, sink: Sink) -> None:
    """A post cut short by a stop answers 503 with Retry-After and what was stored."""
    sink.stop = True
    r = post(server, json.dumps([{"title": "t"}]).encode())
    assert r.status_code == 503
    assert r.headers["retry-after"] == "30"
    assert "0 of 1 articles stored" in r.json()["error"]
