"""Shared fixtures: real local HTTP and SMTP servers, and Apprise's throttle set to zero."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from localserver import LocalServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPORA = SHARED / "corpora"


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 serving programmable routes."""
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_apprise_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apprise sleeps between sends to one service; tests set that rate to 0."""
    try:
        from apprise import NotifyBase
    except ImportError:  # pragma: no cover
        return
    monkeypatch.setattr(NotifyBase, "request_rate_per_sec", 0, raising=False)


class SmtpInbox:
    """What a local aiosmtpd server received: one envelope per message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[SmtpInbox]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd); its ``port`` and received ``messages``."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = SmtpInbox()
    inbox.port = port
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
