"""Shared fixtures: a real local HTTP server, and Apprise's throttle set to zero."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from localserver import LocalServer  # noqa: E402

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
