"""Shared fixtures: local HTTP, SMTP and PostgreSQL servers, Apprise throttle at zero, a
loopback guard, and ``state`` (an SQLite file or a fresh PostgreSQL database, per test)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from localserver import LocalServer
from pgserver import MISSING, PgServer, pg_bin

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def corpora_dir() -> Path:
    """The shared corpora: ``$WATCHLIST_CORPORA``, else ``../shared/corpora`` beside the repo."""
    given = os.environ.get("WATCHLIST_CORPORA", "").strip()
    return Path(given).expanduser().resolve() if given else SHARED / "corpora"


CORPORA = corpora_dir()


def corpus(name: str) -> Path:
    """One file or folder of the shared corpora (it may be absent: skip with its path)."""
    return CORPORA / name


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A real HTTP server on 127.0.0.1 serving programmable routes."""
    server = LocalServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One real PostgreSQL server for the session (skips, naming the package, if absent)."""
    if pg_bin() is None:
        pytest.skip(MISSING)
    try:
        import psycopg  # noqa: F401
    except ImportError:  # pragma: no cover
        pytest.skip("psycopg is not installed: pip install -e '.[test]'")
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    url = pg_server.create_db()
    try:
        yield url
    finally:
        pg_server.drop_db(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh state for the test, once per backend: an SQLite file, a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "state.db")
    url: str = request.getfixturevalue("pg_url")
    return url


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


def _is_loopback(host: object) -> bool:
    """Whether ``host`` (a name or address, str or bytes) is this machine's loopback."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").lower()
    if name in ("localhost", "::1", "0:0:0:0:0:0:0:1") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetGuard:
    """Refuses (and remembers) every socket connect or lookup of a non-loopback host."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def check(self, what: str, address: object) -> None:
        """Raise OSError and record ``address`` unless its host is loopback."""
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            self.violations.append(f"{what} {address!r}")
            raise OSError(f"loopback_only: test tried to reach {address!r}")


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetGuard]:
    """Fail the test if anything tries to connect to, or look up, a non-loopback host."""
    guard = NetGuard()
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX:
            guard.check("connect", address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX:
            guard.check("connect", address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check("create_connection", address)
        return real_create(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            guard.check("getaddrinfo", host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield guard
    if guard.violations:
        pytest.fail(f"non-loopback network access: {guard.violations}")
