"""Benchmark one polling cycle of many feeds: a bounded thread pool sharing one httpx.Client.

A local HTTP server (a child process, so its CPU is not counted) serves N feeds;
every poll is conditional (the sources already hold an ETag), most feeds answer
304 and every ``--fresh-every``-th feed has new content. Prints wall and CPU
time of the cycle. Target on the 2-core machine: under 60 s wall, 30 s CPU.

Two cycles are timed. ``sources``: the real source objects alone, polled from
``--workers`` threads. ``daemon``: each job does what ``Daemon.poll`` does (load
the source's state from the store, poll, match and record what is new through
the pipeline, save the state) on 8 threads as the daemon's scheduler does,
against a real SQLite state file and one rule matching every item. (Daemon.poll
itself cannot be called without the daemon's private start-up, so the job
repeats its steps with the same public pieces.)

    python benchmarks/bench_feeds.py --feeds 2000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from watchlist.config.loader import load_config
from watchlist.daemon.pipeline import Pipeline, Runtime
from watchlist.models import PollResult, SourceConfig, SourceState
from watchlist.sources import Source, make_client, make_source
from watchlist.store.sqlite import Store

DAEMON_WORKERS = 8  # the daemon's scheduler thread pool


def _feed(i: int, items: int = 20) -> bytes:
    entries = "".join(
        f"<item><title>Feed {i} story {n}: STAR Market IPO news</title>"
        f"<link>https://news.example.com/{i}/{n}?utm_source=rss</link><guid>f{i}-{n}</guid>"
        f"<description>&lt;p&gt;Story {n} of feed {i}, about quantum computing.&lt;/p&gt;"
        f"</description><pubDate>Fri, 01 Mar 2024 12:{n:02d}:00 GMT</pubDate></item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {i}</title>{entries}</channel></rss>"
    ).encode()


def serve(fresh_every: int) -> None:
    """Child process: serve /feed/<i>, 304 for a matching ETag unless the feed is fresh."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            i = int(self.path.rsplit("/", 1)[-1])
            fresh = fresh_every > 0 and i % fresh_every == 0
            etag = f'"v{i}-new"' if fresh else f'"v{i}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = _feed(i)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def _sources(port: int, feeds: int, client: object) -> list[Source]:
    return [
        make_source(
            SourceConfig(name=f"feed-{i}", type="rss", url=f"http://127.0.0.1:{port}/feed/{i}"),
            client,  # type: ignore[arg-type]
        )
        for i in range(feeds)
    ]


def sources_cycle(port: int, feeds: int, workers: int) -> tuple[list[PollResult], float, float]:
    """One cycle of the source objects alone: (results, wall, cpu)."""
    now = datetime.now(UTC)
    with make_client(max_connections=workers) as client:
        sources = _sources(port, feeds, client)
        states = [SourceState(etag=f'"v{i}"') for i in range(feeds)]
        wall0, cpu0 = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(
                pool.map(lambda sst: sst[0].poll(sst[1], now), zip(sources, states, strict=True))
            )
        return results, time.perf_counter() - wall0, time.process_time() - cpu0


def daemon_cycle(port: int, feeds: int) -> tuple[list[PollResult], int, int, float, float]:
    """One cycle as the daemon polls: (results, new articles, alerts, wall, cpu)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "rules.yaml").write_text("- name: star\n  keywords: [STAR Market IPO]\n")
        (folder / "config.yaml").write_text(
            "state: ./state.db\nrules: rules.yaml\ndefaults:\n  notify: [hook]\n"
            "channels:\n  hook: json://127.0.0.1:9/never\n"
        )
        config = load_config(folder / "config.yaml", env={})
        store = Store(config.state)
        pipeline = Pipeline(store, Runtime.build(config))
        now = datetime.now(UTC)
        for i in range(feeds):
            store.save_source_state(f"feed-{i}", SourceState(etag=f'"v{i}"'))

        def job(source: Source) -> tuple[PollResult, int]:
            state = store.load_source_state(source.name)
            result = source.poll(state, now)
            new = pipeline.process(result.articles, now).new
            store.save_source_state(source.name, result.state)
            if result.on_commit is not None:
                result.on_commit()
            return result, new

        try:
            with make_client() as client:
                sources = _sources(port, feeds, client)
                wall0, cpu0 = time.perf_counter(), time.process_time()
                with ThreadPoolExecutor(max_workers=DAEMON_WORKERS) as pool:
                    done = list(pool.map(job, sources))
                wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            alerts = store.counts()["alerts"]
        finally:
            store.close()
    return [r for r, _ in done], sum(n for _, n in done), alerts, wall, cpu


def _report(label: str, feeds: int, results: list[PollResult]) -> list[str]:
    errors = [r.state.last_error for r in results if r.state.failures]
    fresh = sum(1 for r in results if r.articles)
    articles = sum(len(r.articles) for r in results)
    print(
        f"{label}: feeds={feeds} fresh={fresh} not_modified={feeds - fresh - len(errors)} "
        f"articles={articles} errors={len(errors)}"
    )
    return errors


def main() -> int:
    """Run the two cycles and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--fresh-every", type=int, default=20, help="every Nth feed has news")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.fresh_every)
        return 0
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--fresh-every", str(args.fresh_every)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        results, wall, cpu = sources_cycle(port, args.feeds, args.workers)
        errors = _report(f"sources (workers={args.workers})", args.feeds, results)
        print(f"  cycle wall={wall:.2f}s cpu={cpu:.2f}s")
        d_results, new, alerts, d_wall, d_cpu = daemon_cycle(port, args.feeds)
        errors += _report(
            f"daemon (workers={DAEMON_WORKERS}, store+pipeline)", args.feeds, d_results
        )
        print(f"  new={new} alerts={alerts}")
        print(f"  cycle wall={d_wall:.2f}s cpu={d_cpu:.2f}s")
    finally:
        child.terminate()
        child.wait(5)
    if errors:
        print("first error:", errors[0], file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
