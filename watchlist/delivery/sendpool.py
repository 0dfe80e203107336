"""Sends in helper processes: Apprise's work (about 2 ms of CPU a message) off the daemon.

Apprise and ``requests`` cost the daemon about 2 ms of CPU per message, under its one
interpreter lock, beside intake and recording; so one process delivers at most a few
hundred alerts a second however many cores the machine has. ``SendPool(processes)``
moves that work into ``processes`` spawned children. Each child keeps its own Apprise
objects (``send._checkout``) and runs every request on a thread of its own, so a slow
service never holds up another channel's message; the answer is ``send.send``'s own
``SendResult``. The daemon's side is cheap: the message goes down a pipe, and a reader
thread per child hands the result to the waiting send.

``SendPool.send`` has ``send.send``'s signature, so the outbox worker (``deliver_due``'s
``sender``) neither knows nor cares. The crash promise holds as before: a message counts
as in flight from the moment it is handed to a child until its result is recorded, and a
child stops taking requests once the daemon is gone (it exits within a second, even after
a SIGKILL). A child that dies fails its outstanding sends as timed out (the service may
have received them; they are sent again later) and is started again on the next send.
``console://`` is sent in the daemon's own process: it prints to the daemon's output.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

from watchlist.delivery import send as deliver
from watchlist.delivery.send import SendResult
from watchlist.procs import follow_parent

log = logging.getLogger("watchlist.outbox")

PROCESSES_ENV = "WATCHLIST_SEND_PROCESSES"
THREADS = 256  # sends one child runs at once (channels x concurrency, with room to spare)
GRACE = 30.0  # seconds past the send timeout before a silent child's send counts as timed out


def send_processes() -> int:
    """Children to send from: ``WATCHLIST_SEND_PROCESSES`` if set, else the usable cores;
    0 or 1 core: none (the daemon sends itself, as before)."""
    given = os.environ.get(PROCESSES_ENV, "").strip()
    if given.isdigit():
        return int(given)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


# ----------------------------------------------------------------------------- child


def _child(conn: Connection, owner: int) -> None:
    """A child's life: take requests until the daemon is gone or says stop."""
    follow_parent(owner)
    _reuse_connections()

    lock = threading.Lock()
    threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="watchlist-send")

    def one(rid: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            result = deliver.send(*args, **kwargs)
        except BaseException as exc:  # an Apprise bug: the daemon records a failure
            result = SendResult(False, f"failed: {exc.__class__.__name__}: {exc}")
        try:
            with lock:
                conn.send((rid, result))
        except OSError:  # the daemon is gone
            os._exit(0)

    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        if request is None or os.getppid() != owner:
            break
        threads.submit(one, *request)
    sys.stderr.flush()
    os._exit(0)  # sends still running were given up by the daemon


def _reuse_connections() -> None:
    """In a send child only: ``requests``' module functions on one Session per thread.

    Apprise's services call ``requests.post()`` and the like, which build a Session for
    every call: a new connection each time, and the proxy and certificate settings read
    from the environment again (about half a millisecond of CPU). In a child each thread
    keeps one Session instead, so its connections are kept alive; the environment's
    settings are read once per host (a child's environment never changes); and the
    cookies are cleared after every request, so nothing carries over from one request to
    the next, exactly as with ``requests.post()``.
    """
    import requests
    import requests.api

    local = threading.local()
    settings: dict[tuple[Any, ...], dict[str, Any]] = {}

    class _Session(requests.Session):
        def merge_environment_settings(  # type: ignore[override]
            self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> dict[str, Any]:
            try:
                key = (
                    urlsplit(url)[:2],
                    tuple(sorted((proxies or {}).items())),
                    stream,
                    verify,
                    cert,
                )
                hash(key)
            except TypeError:  # an unhashable setting: read it every time
                return dict(super().merge_environment_settings(url, proxies, stream, verify, cert))
            got = settings.get(key)
            if got is None:
                got = settings[key] = super().merge_environment_settings(
                    url, proxies, stream, verify, cert
                )
            return {**got, "proxies": dict(got.get("proxies") or {})}

    def request(method: str, url: str, **kwargs: Any) -> Any:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = _Session()
        try:
            return session.request(method=method, url=url, **kwargs)
        finally:
            session.cookies.clear()

    requests.request = request  # type: ignore[assignment]
    requests.api.request = request  # type: ignore[assignment]  # get(), post() ... call it


# ----------------------------------------------------------------------------- daemon side


class _Child:
    """One child process, its pipe, and the sends waiting for its answers."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        mine, theirs = ctx.Pipe(duplex=True)
        self.conn = mine
        self.lock = threading.Lock()
        self.pending: dict[int, Future[SendResult]] = {}
        self.alive = True
        self.proc = ctx.Process(
            target=_child, args=(theirs, os.getpid()), name="watchlist-send", daemon=True
        )
        self.proc.start()
        theirs.close()
        threading.Thread(target=self._read, name="watchlist-send-reader", daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                rid, result = self.conn.recv()
            except (EOFError, OSError):
                break
            with self.lock:
                future = self.pending.pop(rid, None)
            if future is not None:
                future.set_result(result)
        with self.lock:
            self.alive = False
            lost, self.pending = list(self.pending.values()), {}
        for future in lost:
            future.set_result(
                SendResult(
                    False,
                    "the sending process stopped before it answered (the message may have "
                    "arrived); it is sent again",
                    timed_out=True,
                )
            )

    def submit(self, rid: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future[SendResult]:
        future: Future[SendResult] = Future()
        with self.lock:
            if not self.alive:
                raise OSError("the sending process has stopped")
            self.pending[rid] = future
            try:
                self.conn.send((rid, args, kwargs))
            except (OSError, ValueError):
                del self.pending[rid]
                self.alive = False
                raise OSError("the sending process has stopped") from None
        return future

    def load(self) -> int:
        return len(self.pending)

    def close(self) -> None:
        with self.lock, contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.proc.join(1.0)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(1.0)
        self.conn.close()


class SendPool:
    """``processes`` children sending through Apprise; ``send`` is ``send.send``."""

    def __init__(self, processes: int) -> None:
        self.processes = max(1, processes)
        self._children: list[_Child | None] = [None] * self.processes
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._closed = False

    def start(self) -> None:
        """Start every child now (each loads Apprise), so the first alerts do not wait."""
        with self._lock:
            for n, child in enumerate(self._children):
                if child is None and not self._closed:
                    self._children[n] = _Child()

    def _pick(self) -> _Child:
        """The live child with the fewest sends outstanding (one is started if needed)."""
        with self._lock:
            if self._closed:
                raise OSError("the send pool is closed")
            for n, child in enumerate(self._children):
                if child is None or not child.alive:
                    if child is not None:
                        log.warning("a sending process stopped; starting another")
                        child.proc.join(0)
                    self._children[n] = _Child()
            live = [c for c in self._children if c is not None]
            return min(live, key=_Child.load)

    def send(
        self,
        urls: Sequence[str],
        title: str,
        body: str,
        *,
        body_format: str = "text",
        timeout: float = 30.0,
        data: Mapping[str, Any] | None = None,
    ) -> SendResult:
        """``send.send`` in a child (``console://`` here); the same result."""
        if any(deliver._scheme(u) == "console" for u in urls):
            return deliver.send(
                urls, title, body, body_format=body_format, timeout=timeout, data=data
            )
        kwargs = {"body_format": body_format, "timeout": timeout, "data": dict(data or {})}
        try:
            future = self._pick().submit(next(self._ids), (list(urls), title, body), kwargs)
        except OSError as exc:
            return SendResult(False, f"not sent: {exc}")
        try:
            return future.result(timeout=float(timeout) * len(urls) + GRACE)
        except FutureTimeout:
            return SendResult(
                False,
                f"timed out after {timeout:g}s: the sending process did not answer "
                "(it may still have arrived)",
                timed_out=True,
            )

    def close(self) -> None:
        """Stop every child (sends still running in them are given up)."""
        with self._lock:
            self._closed = True
            children, self._children = self._children, []
        for child in children:
            if child is not None:
                child.close()


__all__ = ["PROCESSES_ENV", "SendPool", "send_processes"]
