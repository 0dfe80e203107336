"""Matching on worker processes: same matches as in-process, swapped on reload, a dead worker."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from proctools import alive
from test_faults_driver import T0, article, config

from watchlist.daemon.matchpool import MatchPool, match_workers
from watchlist.daemon.pipeline import POOL_MIN, Pipeline, Runtime
from watchlist.models import Article, Config, Entry, Match, Rule
from watchlist.store.sqlite import Store

ACME = Rule(name="acme", companies=(Entry("Acme"),), notify=("hook",))
WIDGETS = Rule(name="widgets", keywords=(Entry("widgets"),), notify=("hook",))


def _articles(first: int, n: int) -> list[Article]:
    return [article(i) for i in range(first, first + n)]


class NoMatcher:
    """Stands in for the in-process matcher where a test needs the workers to do it."""

    def match(self, article: Article) -> list[Match]:
        raise AssertionError("matched in-process")


def on_workers(cfg: Config) -> Runtime:
    """A runtime whose own matcher refuses: its batches can only be matched by workers."""
    return Runtime(config=cfg, matcher=NoMatcher())  # type: ignore[arg-type]


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    """A pipeline on a fresh store with a pool of two workers and rule 'acme'."""
    store = Store(tmp_path / "state.db")
    cfg = config({"hook": ("json://127.0.0.1:9/",)}, rules=(ACME,))
    p = Pipeline(store, Runtime.build(cfg), pool=MatchPool(2))
    yield p
    p.close()
    store.close()


def started(p: Pipeline, first: int = 1000) -> Pipeline:
    """``p`` after one large batch (matched in-process) started its workers, once they are up."""
    p.process(_articles(first, POOL_MIN), T0)
    assert p._matchers is not None
    for _ in range(600):
        if p._matchers[1].ready():
            return p
        time.sleep(0.1)
    raise AssertionError("the workers did not start")


def _worker_pids(p: Pipeline) -> set[int]:
    assert p._matchers is not None
    return set(p._matchers[1]._pool._processes)


def test_workers_match_like_the_process(pipeline: Pipeline) -> None:
    """A large batch matched on the workers gives the in-process matches, in article order."""
    arts = _articles(0, POOL_MIN + 15)
    expected = [m for a in arts for m in pipeline.runtime.matcher.match(a)]
    workers = started(pipeline)._matchers
    assert workers is not None
    pipeline._runtime = runtime = on_workers(pipeline.runtime.config)
    pipeline._matchers = (runtime, workers[1])
    done = pipeline.process(arts, T0)
    assert list(done.matches) == expected and len(expected) == len(arts)
    assert os.getpid() not in _worker_pids(pipeline)
    assert pipeline.store.counts()["alerts"] == len(arts) + POOL_MIN  # and the first batch


def test_small_batch_stays_in_process(pipeline: Pipeline) -> None:
    """A batch below POOL_MIN is matched in-process: no workers start for a trickle."""
    done = pipeline.process(_articles(0, 3), T0)
    assert len(done.matches) == 3 and pipeline._matchers is None


def test_swap_gives_every_worker_the_new_rules(pipeline: Pipeline) -> None:
    """After a swap the next batch matches the new rules on new workers; the old ones exit."""
    old = _worker_pids(started(pipeline))
    cfg = replace(pipeline.runtime.config, rules=(WIDGETS,))
    pipeline.swap(on_workers(cfg))
    assert pipeline._matchers is not None
    for _ in range(600):
        if pipeline._matchers[1].ready():
            break
        time.sleep(0.1)
    done = pipeline.process(_articles(100, POOL_MIN), T0)
    assert {m.rule for m in done.matches} == {"widgets"}
    assert len(done.matches) == POOL_MIN
    assert not old & _worker_pids(pipeline)


def test_dead_worker_falls_back_in_process(pipeline: Pipeline) -> None:
    """A killed worker costs no batch: it is matched in-process, and fresh workers start later."""
    for pid in _worker_pids(started(pipeline)):
        os.kill(pid, signal.SIGKILL)
    done = pipeline.process(_articles(100, POOL_MIN), T0)
    assert len(done.matches) == POOL_MIN
    assert pipeline._matchers is None  # retired; the next large batch starts a new set
    again = pipeline.process(_articles(200, POOL_MIN), T0)
    assert len(again.matches) == POOL_MIN and pipeline._matchers is not None
    assert pipeline.store.counts()["alerts"] == 3 * POOL_MIN


def test_match_workers_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """WATCHLIST_MATCH_WORKERS sets the count; without it, the cores this process may use."""
    monkeypatch.setenv("WATCHLIST_MATCH_WORKERS", "3")
    assert match_workers() == 3
    monkeypatch.delenv("WATCHLIST_MATCH_WORKERS")
    assert match_workers() == len(os.sched_getaffinity(0))


def _children(pid: int) -> set[int]:
    out = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.add(int(d.name))
    return out


@pytest.mark.slow
def test_daemon_killed_leaves_no_worker_behind(tmp_path: Path) -> None:
    """A daemon matching on two workers, SIGKILLed: its worker processes exit too."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "rules.yaml").write_text("- {name: acme, companies: [Acme]}\n")
    (tmp_path / "config.yaml").write_text(
        "state: ./state.db\nrules: rules.yaml\ndefaults: {notify: [console]}\nsources:\n"
        f"  - {{name: ingest, type: http, listen: '127.0.0.1:{port}'}}\n"
    )
    env = {**os.environ, "WATCHLIST_MATCH_WORKERS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "watchlist", "run", "-c", "config.yaml"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/articles"
        for _ in range(300):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        batch = [{"id": str(i), "title": f"Acme story {i}"} for i in range(POOL_MIN + 5)]
        assert httpx.post(url, json=batch, timeout=60).status_code == 202
        kids = _children(proc.pid)
        assert len(kids) >= 2  # the workers (and multiprocessing's resource tracker)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for _ in range(100):  # each worker notices within a second
            if not any(alive(k) for k in kids):
                break
            time.sleep(0.1)
        assert not any(alive(k) for k in kids)
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stderr is not None:
            proc.stderr.close()
