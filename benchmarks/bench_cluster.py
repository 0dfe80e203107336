"""Benchmark the cluster: articles/s end to end and alerts/s delivered, by daemons and backend.

Runs the same load against real `watchlist run` processes: one daemon on an
SQLite file, then 1, 2 and 3 daemons on one PostgreSQL (a throwaway server this
script starts with initdb/pg_ctl, as the tests do; ``--pg URL`` uses yours, one
fresh database per run is expected, so give an empty one and ``--only`` a count).
Each daemon has its own ingest endpoint; ``--posters`` client threads post
``--articles`` articles in batches of ``--batch`` round-robin over the daemons;
``--match`` of them (one in N) match a rule whose two channels post to a local
receiver. Measured per run:

- articles/s end to end: articles posted / seconds until the last post was answered
  202 (each answer comes after the batch is matched and committed);
- alerts/s delivered: messages received / seconds from the first post until the
  receiver holds every expected message.

Prints a table with both and the ratio to the SQLite run. The machine is shared
and has 2 cores: read the ratios of one run, not the absolute numbers.

    python benchmarks/bench_cluster.py
    python benchmarks/bench_cluster.py --articles 6000 --daemons 1 2 3
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from localserver import LocalServer, Request, Route  # noqa: E402
from pgserver import PgServer  # noqa: E402

RULES = """\
- name: fusion
  topics: [nuclear fusion]
  notify: [one, two]
- name: quantum
  topics: [quantum computing]
  notify: [one]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(port: int, batch: list[dict[str, str]]) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/articles",
        data=json.dumps(batch).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    for _ in range(50):
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                if resp.status == 202:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"daemon on port {port} does not take posts")


def _ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"daemon on port {port} did not start")


@contextmanager
def daemons(tmp: Path, state: str, n: int, receiver: LocalServer) -> Iterator[list[int]]:
    """``n`` daemons on ``state``; the ports of their ingest endpoints."""
    (tmp / "rules.yaml").write_text(RULES)
    ports = [_free_port() for _ in range(n)]
    procs = []
    for i, port in enumerate(ports):
        cfg = tmp / f"config{i}.yaml"
        cfg.write_text(
            f"state: {state}\nrules: rules.yaml\nlogging: {{level: warning}}\n"
            f"channels:\n  one: json://127.0.0.1:{receiver.port}/one\n"
            f"  two: json://127.0.0.1:{receiver.port}/two\n"
            f"sources:\n  - {{name: ingest, type: http, listen: '127.0.0.1:{port}'}}\n"
        )
        log = (tmp / f"d{i}.log").open("ab")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "watchlist", "run", "-c", str(cfg)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        log.close()
    try:
        for port in ports:
            _ready(port)
        yield ports
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run_load(
    state: str, n: int, *, articles: int, batch: int, posters: int, match_every: int, run: int
) -> tuple[float, float, int]:
    """(articles/s end to end, alerts/s delivered, alerts) for ``n`` daemons on ``state``."""
    receiver = LocalServer().start()
    got = {"n": 0}
    lock = threading.Lock()

    def hook(request: Request) -> Route:
        with lock:
            got["n"] += 1
        return Route(200, "ok")

    receiver.routes["/one"] = hook
    receiver.routes["/two"] = hook
    expected = 0
    docs: list[dict[str, str]] = []
    for i in range(articles):
        if i % match_every == 0:
            title = (
                f"Nuclear fusion plant {run}-{i} opens" if i % 2 else f"Quantum computing {run}-{i}"
            )
            expected += 2 if i % 2 else 1
        else:
            title = f"Local weather report {run}-{i}"
        docs.append({"id": f"r{run}-{i}", "title": title, "body": f"{title}. More text {i}."})
    batches = [docs[i : i + batch] for i in range(0, len(docs), batch)]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp,
            daemons(Path(tmp), state, n, receiver) as ports,
        ):
            next_batch = iter(enumerate(batches))
            take = threading.Lock()

            def poster() -> None:
                while True:
                    with take:
                        item = next(next_batch, None)
                    if item is None:
                        return
                    k, b = item
                    _post(ports[k % len(ports)], b)

            started = time.perf_counter()
            threads = [threading.Thread(target=poster) for _ in range(posters)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            posted = time.perf_counter() - started
            deadline = time.monotonic() + 600
            while got["n"] < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            delivered = time.perf_counter() - started
    finally:
        receiver.stop()
    return articles / posted, got["n"] / delivered, got["n"]


def main() -> int:
    """Run the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--posters", type=int, default=6, help="client threads posting at once")
    ap.add_argument("--match", type=int, default=5, help="one article in N matches a rule")
    ap.add_argument("--daemons", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--pg", metavar="URL", help="an empty PostgreSQL database per run (else own)")
    args = ap.parse_args()
    opts = {
        "articles": args.articles,
        "batch": args.batch,
        "posters": args.posters,
        "match_every": args.match,
    }
    results: list[tuple[str, int, float, float, int]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        a, m, n = run_load(str(Path(tmp) / "state.db"), 1, run=0, **opts)
        results.append(("sqlite", 1, a, m, n))
        print(
            f"sqlite      1 daemon : {a:8.0f} articles/s {m:7.0f} alerts/s ({n} alerts)", flush=True
        )
    server = None if args.pg else PgServer().start()
    try:
        for run, count in enumerate(args.daemons, start=1):
            url = args.pg or (server.create_db() if server else "")
            a, m, n = run_load(url, count, run=run, **opts)
            results.append(("postgresql", count, a, m, n))
            print(
                f"postgresql  {count} daemons: {a:8.0f} articles/s {m:7.0f} alerts/s ({n} alerts)",
                flush=True,
            )
    finally:
        if server is not None:
            server.stop()
    base_a, base_m = results[0][2], results[0][3]
    heads = ("backend", "daemons", "articles/s", "x sqlite", "alerts/s", "x sqlite")
    print("\n{:<11} {:>7} {:>11} {:>8} {:>9} {:>8}".format(*heads))
    for backend, count, a, m, _ in results:
        print(
            f"{backend:<11} {count:>7} {a:>11.0f} {a / base_a:>8.2f} {m:>9.0f} {m / base_m:>8.2f}"
        )
    print(
        f"\n{args.articles} articles in batches of {args.batch} from {args.posters} posters, "
        f"1 in {args.match} matching; {os.cpu_count()} cores (shared machine: compare ratios)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
