"""Sends in helper processes (watchlist.delivery.sendpool): same results, kept-alive
connections, no cookies carried over, console:// at home, a dead child survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from localserver import LocalServer, Request, Route
from proctools import alive

from watchlist.delivery.sendpool import PROCESSES_ENV, SendPool, send_processes


@pytest.fixture
def pool() -> Iterator[SendPool]:
    p = SendPool(2)
    try:
        yield p
    finally:
        p.close()


def _children(p: SendPool) -> list[int]:
    return [c.proc.pid for c in p._children if c is not None and c.proc.pid is not None]


def test_a_send_goes_out_from_a_child(pool: SendPool, http_server: LocalServer) -> None:
    """A json:// message sent through the pool arrives, and the result says delivered."""
    http_server.routes["/hook"] = Route(200, b"{}")
    result = pool.send([f"json://127.0.0.1:{http_server.port}/hook"], "Title", "Body")
    assert result.ok and result.delivered == (0,)
    (post,) = http_server.posts("/hook")
    assert post.json()["title"] == "Title" and post.json()["message"] == "Body"
    assert _children(pool) and os.getpid() not in _children(pool)


def test_the_alert_json_rides_along(pool: SendPool, http_server: LocalServer) -> None:
    """``data`` joins the json:// payload, as in-process."""
    http_server.routes["/hook"] = Route(200, b"{}")
    url = f"json://127.0.0.1:{http_server.port}/hook"
    assert pool.send([url], "T", "B", data={"rule": "acme", "article": "a1"}).ok
    assert http_server.posts("/hook")[0].json()["rule"] == "acme"


def test_a_failure_comes_back_in_words(pool: SendPool, http_server: LocalServer) -> None:
    """A 500 from the service is a failed result naming it (privacy form), not an exception."""
    http_server.routes["/hook"] = Route(500, b"no")
    result = pool.send([f"json://127.0.0.1:{http_server.port}/hook"], "T", "B")
    assert not result.ok and "failed" in result.words and "json://" in result.words


def test_connections_are_keptalive(pool: SendPool, http_server: LocalServer) -> None:
    """Twenty messages one after another use one connection, not twenty."""
    http_server.routes["/hook"] = Route(200, b"{}")
    url = f"json://127.0.0.1:{http_server.port}/hook"
    for n in range(20):
        assert pool.send([url], f"T{n}", "B").ok
    peers = {r.peer for r in http_server.posts("/hook")}
    assert len(http_server.posts("/hook")) == 20 and len(peers) <= 2


def test_no_cookie_carries_over(pool: SendPool, http_server: LocalServer) -> None:
    """A cookie a service sets is not sent back with the next message (as requests.post)."""
    http_server.routes["/hook"] = Route(200, b"{}", {"Set-Cookie": "session=abc; Path=/"})
    url = f"json://127.0.0.1:{http_server.port}/hook"
    for _ in range(3):
        assert pool.send([url], "T", "B").ok
    assert all("Cookie" not in r.headers for r in http_server.posts("/hook"))


def test_console_is_printed_by_the_daemon_itself(
    pool: SendPool, capsys: pytest.CaptureFixture[str]
) -> None:
    """console:// writes to this process's output, and starts no child."""
    assert pool.send(["console://"], "Hello", "there").ok
    assert "Hello\nthere" in capsys.readouterr().out
    assert _children(pool) == []


def test_a_dead_child_fails_its_sends_and_is_replaced(
    pool: SendPool, http_server: LocalServer
) -> None:
    """SIGKILL of a child mid-send: that send is timed out (it may have arrived), the next
    one goes out from a fresh child."""
    release = threading.Event()

    def hold(req: Request) -> Route:
        release.wait(10)
        return Route(200, b"{}")

    http_server.routes["/slow"] = hold
    http_server.routes["/hook"] = Route(200, b"{}")
    got: list[object] = []
    t = threading.Thread(
        target=lambda: got.append(
            pool.send([f"json://127.0.0.1:{http_server.port}/slow"], "T", "B", timeout=10)
        )
    )
    t.start()
    http_server.wait_for_posts(1, "/slow")
    (child,) = [c for c in pool._children if c is not None and c.pending]
    os.kill(child.proc.pid or 0, signal.SIGKILL)
    t.join(10)
    release.set()
    (result,) = got
    assert not result.ok and result.timed_out and "stopped" in result.words  # type: ignore[attr-defined]
    again = pool.send([f"json://127.0.0.1:{http_server.port}/hook"], "T", "B")
    assert again.ok
    assert child.proc.pid not in _children(pool)


def test_children_exit_with_the_daemon(http_server: LocalServer) -> None:
    """A process that started a pool and is SIGKILLed leaves no child behind."""
    http_server.routes["/hook"] = Route(200, b"{}")
    code = (
        "import sys, time\n"
        "from watchlist.delivery.sendpool import SendPool\n"
        "if __name__ == '__main__':\n"
        "    p = SendPool(1)\n"
        f"    assert p.send(['json://127.0.0.1:{http_server.port}/hook'], 'T', 'B').ok\n"
        "    print(p._children[0].proc.pid, flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        proc.kill()
        proc.wait(10)
        for _ in range(100):  # the child checks its parent twice a second
            if not alive(child):
                break
            time.sleep(0.1)
        assert not alive(child)
    finally:
        proc.kill()


def test_send_processes_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """WATCHLIST_SEND_PROCESSES wins; 0 means the daemon sends itself."""
    monkeypatch.setenv(PROCESSES_ENV, "3")
    assert send_processes() == 3
    monkeypatch.setenv(PROCESSES_ENV, "0")
    assert send_processes() == 0
    monkeypatch.delenv(PROCESSES_ENV)
    cores = len(os.sched_getaffinity(0))
    assert send_processes() == (cores if cores > 1 else 0)
