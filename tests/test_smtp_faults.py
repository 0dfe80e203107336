"""mailto:// through the outbox against a real aiosmtpd server that refuses for a while."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_faults_driver import T0, article, config, match

from watchlist.delivery.worker import deliver_due
from watchlist.store.sqlite import Store


class Refusing:
    """An aiosmtpd handler answering 451 to the first ``refusals`` messages, then 250."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.tries = 0
        self.accepted: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.tries <= self.refusals:
            return "451 4.3.0 Mailbox busy, try again later"
        self.accepted.append(envelope)
        return "250 OK"


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[int, Refusing]]:
    """A real SMTP server on 127.0.0.1 that answers 451 twice, then 250."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Refusing(2)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        controller.stop()


def test_smtp_451_twice_then_250_delivers_exactly_one_mail(
    tmp_path: Path, refusing_smtp: tuple[int, Refusing]
) -> None:
    """A mail server answering 451 twice then 250 gets exactly one mail, on the third attempt."""
    port, handler = refusing_smtp
    url = f"mailto://127.0.0.1:{port}?from=bot@example.com&to=me@example.com"
    cfg = config({"mail": (url,)}, timeout=10)
    store = Store(tmp_path / "state.db")
    try:
        a = article(1)
        store.record([a], [match(a)], cfg, T0)
        now = T0
        errors = []
        for _ in range(5):
            deliver_due(store, cfg, now, rng=random.Random(3))
            errors.append(store.outbox_rows()[0].last_error)
            now += timedelta(hours=1)
        (row,) = store.outbox_rows()
        assert (row.status, row.attempts) == ("sent", 3)
        assert handler.tries == 3 and len(handler.accepted) == 1
        assert "me@example.com" in errors[0] and "failed" in errors[0]
        assert errors[1] == errors[0] and errors[2:] == ["", "", ""]
        assert "Subject: [acme] Acme story number 1" in handler.accepted[0].content.decode()
    finally:
        store.close()
