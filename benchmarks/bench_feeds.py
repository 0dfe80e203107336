"""Benchmark one polling cycle of many feeds: a bounded thread pool sharing one httpx.Client.

A local HTTP server (a child process, so its CPU is not counted) serves N feeds;
every poll is conditional (the sources already hold an ETag), most feeds answer
304 and every ``--fresh-every``-th feed has new content. Prints wall and CPU
time of the cycle. Target on the 2-core machine: under 60 s wall, 30 s CPU.

    python benchmarks/bench_feeds.py --feeds 2000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from watchlist.models import PollResult, SourceConfig, SourceState
from watchlist.sources import make_client, make_source


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


def main() -> int:
    """Run one cycle and print the figures."""
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
        now = datetime.now(UTC)
        with make_client(max_connections=args.workers) as client:
            sources = [
                make_source(
                    SourceConfig(
                        name=f"feed-{i}", type="rss", url=f"http://127.0.0.1:{port}/feed/{i}"
                    ),
                    client,
                )
                for i in range(args.feeds)
            ]
            states = [SourceState(etag=f'"v{i}"') for i in range(args.feeds)]
            wall0, cpu0 = time.perf_counter(), time.process_time()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                results: list[PollResult] = list(
                    pool.map(
                        lambda sst: sst[0].poll(sst[1], now), zip(sources, states, strict=True)
                    )
                )
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        child.terminate()
        child.wait(5)
    errors = [r.state.last_error for r in results if r.state.failures]
    fresh = sum(1 for r in results if r.articles)
    articles = sum(len(r.articles) for r in results)
    print(
        f"feeds={args.feeds} workers={args.workers} fresh={fresh} not_modified="
        f"{args.feeds - fresh - len(errors)} articles={articles} errors={len(errors)}"
    )
    print(f"cycle wall={wall:.2f}s cpu={cpu:.2f}s")
    if errors:
        print("first error:", errors[0], file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
