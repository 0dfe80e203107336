"""Several http sources, safe reloads of their sockets, and no open ingest beyond loopback."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from localserver import LocalServer
from test_daemon_ops import Daemon, Feed, _free_port, setup

from watchlist.config.errors import ConfigErrors
from watchlist.config.loader import load_config
from watchlist.daemon.ingests import IngestPool
from watchlist.models import Article, Config, SourceConfig
from watchlist.sources.ingest import IngestServer

__all__ = ["setup"]


class Sink:
    """Records (source, titles) of every submitted batch."""

    def __init__(self) -> None:
        self.got: list[tuple[str, list[str]]] = []

    def __call__(self, source: str, articles: list[Article]) -> list[str]:
        self.got.append((source, [a.title for a in articles]))
        return [a.id for a in articles]


def http(name: str, port: int, token: str = "") -> SourceConfig:
    """An http source on 127.0.0.1:``port``."""
    return SourceConfig(name=name, type="http", listen=f"127.0.0.1:{port}", token=token)


def with_sources(*sources: SourceConfig) -> Config:
    """A Config holding only these sources."""
    return Config(path="config.yaml", sources=sources)


def post(port: int, title: str, token: str = "") -> int:
    """POST one article to 127.0.0.1:``port``; the status code (0: nothing listens)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.post(
            f"http://127.0.0.1:{port}/articles", json={"title": title}, headers=headers, timeout=5
        )
    except httpx.ConnectError:
        return 0
    return r.status_code


@pytest.fixture
def pool() -> Iterator[tuple[IngestPool, Sink]]:
    """An ingest pool feeding a recording sink; stopped after the test."""
    sink = Sink()
    p = IngestPool(sink)
    yield p, sink
    p.stop()


def test_two_http_sources_both_listen(pool: tuple[IngestPool, Sink]) -> None:
    """Two http sources each take posts on their own port, under their own name."""
    p, sink = pool
    a, b = _free_port(), _free_port()
    assert p.apply(with_sources(http("one", a), http("two", b))) == []
    assert (post(a, "first"), post(b, "second")) == (202, 202)
    assert sink.got == [("one", ["first"]), ("two", ["second"])]


def test_reload_to_a_busy_port_keeps_the_old_socket(pool: tuple[IngestPool, Sink]) -> None:
    """A new port already taken: the old server keeps listening, the problem names both."""
    p, _ = pool
    old = _free_port()
    p.apply(with_sources(http("push", old)))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        [(name, problem)] = p.apply(with_sources(http("push", taken)))
        assert name == "push"
        assert f"cannot listen on 127.0.0.1:{taken}" in problem
        assert f"still listening on 127.0.0.1:{old}" in problem
        assert post(old, "still here") == 202


def test_reload_on_the_same_port_swaps_token_in_place(pool: tuple[IngestPool, Sink]) -> None:
    """A new token on the same address takes effect without a new socket."""
    p, sink = pool
    port = _free_port()
    p.apply(with_sources(http("push", port, token="old-token")))
    server = p.servers["push"]
    assert p.apply(with_sources(http("renamed", port, token="new-token"))) == []
    assert p.servers["renamed"] is server
    assert post(port, "x", token="old-token") == 401
    assert post(port, "y", token="new-token") == 202
    assert sink.got == [("renamed", ["y"])]


def test_reload_to_a_free_port_moves_and_frees_the_old(pool: tuple[IngestPool, Sink]) -> None:
    """A free new port: the new one listens first, then the old one is closed."""
    p, _ = pool
    old, new = _free_port(), _free_port()
    p.apply(with_sources(http("push", old)))
    assert p.apply(with_sources(http("push", new))) == []
    assert (post(new, "a"), post(old, "b")) == (202, 0)
    assert p.apply(with_sources()) == [] and post(new, "c") == 0


def test_server_refuses_open_listen_without_token() -> None:
    """The ingest server itself will not listen on 0.0.0.0 without a token or insecure."""
    cfg = SourceConfig(name="push", type="http", listen="0.0.0.0:0")
    with pytest.raises(OSError, match=r"refusing to listen on 0\.0\.0\.0:0 without a token"):
        IngestServer(cfg, lambda arts: []).start()
    server = IngestServer(replace(cfg, token="t0ken"), lambda arts: []).start()
    server.stop()


def _config(tmp_path: Path, sources: str) -> Path:
    (tmp_path / "rules.yaml").write_text("- name: r\n  keywords: [x]\n  notify: [c]\n")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"rules: rules.yaml\nchannels:\n  c: json://127.0.0.1:9/x\nsources:\n{sources}")
    return cfg


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ("", "listens on 0.0.0.0:8787, beyond this machine, without a token"),
        ("    insecure: true\n", None),
        ("    token: s3cret\n", None),
    ],
)
def test_check_refuses_open_ingest_without_token(
    tmp_path: Path, extra: str, error: str | None
) -> None:
    """Listening beyond loopback needs a token or insecure: true; the error points at listen."""
    cfg = _config(tmp_path, "  - name: push\n    type: http\n    listen: 0.0.0.0:8787\n" + extra)
    if error is None:
        assert load_config(cfg, env={}).sources[0].listen == "0.0.0.0:8787"
        return
    with pytest.raises(ConfigErrors) as exc:
        load_config(cfg, env={})
    [err] = exc.value.errors
    assert error in str(err) and err.line == 7
    assert "insecure: true" in str(err)


def test_check_refuses_two_http_sources_on_one_address(tmp_path: Path) -> None:
    """Two http sources on one address are an error naming both."""
    one = "  - name: one\n    type: http\n    listen: 127.0.0.1:8787\n"
    cfg = _config(tmp_path, one + one.replace("one", "two"))
    with pytest.raises(ConfigErrors, match=r"source .two. listens on 127\.0\.0\.1:8787, like"):
        load_config(cfg, env={})


@pytest.mark.slow
def test_daemon_reload_to_busy_port_keeps_ingest_and_shows_it(
    setup: tuple[Path, Feed, Callable[..., Daemon]], http_server: LocalServer
) -> None:
    """A real daemon: SIGHUP to a taken port keeps posts flowing; status shows the failure."""
    cfg, _feed, start = setup
    old = _free_port()
    base = cfg.read_text()

    def with_port(port: int) -> str:
        src = f"  - name: push\n    type: http\n    listen: 127.0.0.1:{port}\nchannels:"
        return base.replace("channels:", src)

    cfg.write_text(with_port(old))
    d = start()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        cfg.write_text(with_port(busy.getsockname()[1]))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_note("RELOADING=1")
        d.wait_note("READY=1")
        assert post(old, "Nuclear fusion after reload") == 202
        out = subprocess.run(
            [sys.executable, "-m", "watchlist", "status", "--json", "-c", str(cfg)],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOOK_TOKEN": "x"},
        )
    obj = json.loads(out.stdout)
    push = next(s for s in obj["sources"] if s["name"] == "push")
    assert "still listening on 127.0.0.1:" in push["last_error"], push
    assert any("still listening" in w for w in obj["last_reload"]["warnings"])
    assert "Traceback" not in d.log()
