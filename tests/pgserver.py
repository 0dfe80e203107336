"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temp folder, on a free port.

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the
``postgres`` user (``runuser -u postgres --``) in a folder it owns. The server
listens on 127.0.0.1 and on a unix socket in that folder, trusts local users,
and skips fsync (test data). ``PgServer.create_db()`` makes a fresh database and
returns its ``postgresql://`` URL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

MISSING = (
    "PostgreSQL is not installed (no initdb/pg_ctl): install the Debian package "
    "`postgresql` (apt-get install -y postgresql), as .ci/run does"
)


def pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(cand) / "pg_ctl").exists() and (Path(cand) / "initdb").exists():
            return Path(cand)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One throwaway PostgreSQL server; ``start()``, ``create_db()``, ``stop()``."""

    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise FileNotFoundError(MISSING)
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="watchlist-pg-"))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.port = _free_port()
        self.user = "postgres" if self.as_root else (os.environ.get("USER") or "postgres")
        self._dbs: list[str] = []

    def _run(self, *args: str, timeout: float = 60.0) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=timeout, cwd=self.dir)

    def start(self) -> PgServer:
        """initdb, then start the server and wait until it accepts connections."""
        self.sock.mkdir()
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip
        self.resume()
        return self

    def resume(self) -> None:
        """Start the (initialised) server and wait until it accepts connections."""
        opts = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.sock} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-o", opts, "-w",
            "-t", "60", "start",
        )  # fmt: skip

    def pause(self) -> None:
        """Stop the server (fast shutdown: every connection is cut), keeping its data."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, db: str = "postgres") -> str:
        """The URL of database ``db`` on this server (TCP on 127.0.0.1)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_db(self) -> str:
        """A new empty database; its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name}")
        self._dbs.append(name)
        return self.url(name)

    def drop_db(self, url: str) -> None:
        """Drop a database made by ``create_db`` (connections to it are ended)."""
        name = url.rsplit("/", 1)[1]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
