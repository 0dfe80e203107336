"""Tests for watchlist.daemon.reload and reload_status: watch real files, swap only good loads."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watchlist.daemon.reload import (
    ConfigWatcher,
    Reloader,
    error_messages,
    hold_restart_settings,
    install_sighup,
)
from watchlist.daemon.reload_status import (
    ReloadStatus,
    read_reload_status,
    reload_status_path,
    write_reload_status,
)
from watchlist.models import Config, LoggingConfig, ServerConfig

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class _Errors(Exception):
    """Shaped like watchlist.config.errors.ConfigErrors: an ``errors`` list."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _wait(cond: object, timeout: float) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if cond():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.02)
    return None


# --------------------------------------------------------------------- Reloader


def _file_reloader(path: Path) -> tuple[Reloader[list[str]], list[list[str]]]:
    applied: list[list[str]] = []

    def load() -> list[str]:
        lines = path.read_text().splitlines()
        bad = [f"{path}:{i}:1: bad rule {ln!r}" for i, ln in enumerate(lines, 1) if "!" in ln]
        if bad:
            raise _Errors(bad)
        return lines

    return Reloader(load, applied.append, count=len, clock=lambda: T0), applied


def test_good_load_is_applied_and_recorded(tmp_path: Path) -> None:
    """A load that validates is applied and recorded as ok with the rule count."""
    f = tmp_path / "rules.txt"
    f.write_text("a\nb\n")
    reloader, applied = _file_reloader(f)
    status = reloader.reload()
    assert applied == [["a", "b"]]
    assert status == ReloadStatus(T0, True, (), 2)
    assert reloader.last == status


def test_broken_load_keeps_old_value_and_records_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken file is not applied; every error is recorded and logged as path:line:column."""
    f = tmp_path / "rules.txt"
    f.write_text("a\n")
    reloader, applied = _file_reloader(f)
    reloader.reload()
    f.write_text("a\nb!\nc!\n")
    status = reloader.reload()
    assert applied == [["a"]]
    assert not status.ok
    assert status.rules == 1
    assert status.errors == (f"{f}:2:1: bad rule 'b!'", f"{f}:3:1: bad rule 'c!'")
    logged = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert [m.split(": ", 1)[1] for m in logged] == list(status.errors)


def test_failed_first_reload_reports_the_rules_loaded_at_start(tmp_path: Path) -> None:
    """A reload failing before any reload worked reports the start's rule count, not 0."""
    applied: list[int] = []

    def load() -> int:
        raise _Errors([f"{tmp_path}/r.yaml:1:1: bad rule"])

    status = Reloader(load, applied.append, count=lambda n: n, rules=5).reload()
    assert not status.ok and status.rules == 5 and applied == []


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (_Errors(["p:1:2: x", "p:3:4: y"]), ("p:1:2: x", "p:3:4: y")),
        (ValueError("plain"), ("plain",)),
        (KeyError(), ("KeyError",)),
        (ValueError("url json://u:pw-9x@h"), ("url json://u:***@h",)),
    ],
)
def test_error_messages(exc: Exception, expected: tuple[str, ...]) -> None:
    """Errors become masked lines, one per ConfigError."""
    assert error_messages(exc) == expected


def test_apply_failure_is_recorded_not_raised() -> None:
    """An apply that raises is a failed reload, not a crash."""

    def apply(_: int) -> None:
        raise RuntimeError("swap failed")

    status = Reloader(lambda: 1, apply, clock=lambda: T0).reload()
    assert status == ReloadStatus(T0, False, ("swap failed",), 0)


def test_on_result_receives_status_and_its_errors_are_contained() -> None:
    """on_result sees every outcome; an on_result failure does not escape."""
    seen: list[ReloadStatus] = []

    def record(s: ReloadStatus) -> None:
        seen.append(s)
        raise OSError("disk full")

    status = Reloader(lambda: 1, lambda _: None, on_result=record, clock=lambda: T0).reload()
    assert seen == [status]


def test_concurrent_reloads_are_serialised() -> None:
    """Two threads reloading at once never run load() in parallel."""
    active = 0
    peak = 0
    lock = threading.Lock()

    def load() -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return 1

    reloader: Reloader[int] = Reloader(load, lambda _: None)
    threads = [threading.Thread(target=reloader.reload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1


def test_hold_restart_settings_keeps_state_and_listen_only() -> None:
    """state: and server.listen keep their old values with a warning each; the rest goes live."""
    old = Config(path="/c.yaml", state="/a.db", server=ServerConfig("127.0.0.1:9100"))
    new = Config(
        path="/c.yaml",
        state="/b.db",
        timezone="Asia/Shanghai",
        server=ServerConfig("127.0.0.1:9200"),
        logging=LoggingConfig(level="debug", format="json"),
    )
    kept, warnings = hold_restart_settings(old, new)
    assert kept.state == "/a.db" and kept.server == old.server
    assert kept.timezone == "Asia/Shanghai" and kept.logging == new.logging
    assert len(warnings) == 2 and all(w.startswith("/c.yaml: ") for w in warnings)
    assert "state: changed to /b.db; this needs a restart" in warnings[0]
    assert "server.listen: changed to 127.0.0.1:9200; this needs a restart" in warnings[1]
    assert hold_restart_settings(old, old) == (old, [])


def test_sighup_runs_callback() -> None:
    """SIGHUP to this process runs the callback in another thread."""
    done = threading.Event()
    names: list[str] = []

    def cb() -> None:
        names.append(threading.current_thread().name)
        done.set()

    old = signal.getsignal(signal.SIGHUP)
    try:
        install_sighup(cb)
        os.kill(os.getpid(), signal.SIGHUP)
        assert done.wait(2)
        assert names == ["watchlist-sighup"]
    finally:
        signal.signal(signal.SIGHUP, old)


# --------------------------------------------------------------------- reload status file


def test_reload_status_roundtrip(tmp_path: Path) -> None:
    """The status file round-trips and stores errors masked."""
    state = tmp_path / "watchlist.db"
    write_reload_status(state, ReloadStatus(T0, False, ("c.yaml:1:1: bad slack://T1234567X/y",), 4))
    assert reload_status_path(state).name == "watchlist.db.reload.json"
    got = read_reload_status(state)
    assert got == ReloadStatus(T0, False, ("c.yaml:1:1: bad slack://***/y",), 4)
    write_reload_status(state, ReloadStatus(T0, True, (), 4, ("c.yaml: state: needs a restart",)))
    assert read_reload_status(state) == ReloadStatus(
        T0, True, (), 4, ("c.yaml: state: needs a restart",)
    )


def test_apply_warnings_are_recorded_on_a_good_reload() -> None:
    """Warnings returned by apply (changes needing a restart) are kept in the ok status."""
    status = Reloader(lambda: 2, lambda _: ["c.yaml: state: needs a restart"], count=int).reload()
    assert status.ok and status.warnings == ("c.yaml: state: needs a restart",)


@pytest.mark.parametrize("content", [None, "", "{", '{"ok": true}', "[]"])
def test_reload_status_missing_or_corrupt(tmp_path: Path, content: str | None) -> None:
    """A missing or corrupt status file reads as None."""
    state = tmp_path / "s.db"
    if content is not None:
        reload_status_path(state).write_text(content)
    assert read_reload_status(state) is None


# --------------------------------------------------------------------- ConfigWatcher


@pytest.fixture(params=[False, True], ids=["inotify", "polling"])
def polling(request: pytest.FixtureRequest) -> bool:
    """Run watcher tests with native events and with polling."""
    return bool(request.param)


def _watch(paths: list[Path], polling: bool) -> tuple[ConfigWatcher, threading.Event]:
    fired = threading.Event()
    watcher = ConfigWatcher(lambda: list(paths), fired.set, force_polling=polling).start()
    time.sleep(0.5)  # let the watch settle
    return watcher, fired


def test_editing_a_file_triggers_within_2s(tmp_path: Path, polling: bool) -> None:
    """Editing a watched file calls on_change within 2 s."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("a: 1\n")
    watcher, fired = _watch([cfg], polling)
    try:
        cfg.write_text("a: 2\n")
        assert fired.wait(2.0)
    finally:
        watcher.stop()


def test_atomic_replace_triggers(tmp_path: Path, polling: bool) -> None:
    """An editor's write-temp-and-rename counts as a change, and later edits still do."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("a: 1\n")
    watcher, fired = _watch([cfg], polling)
    try:
        for n in range(2):
            fired.clear()
            tmp = tmp_path / f".config.yaml.tmp{n}"
            tmp.write_text(f"a: {n + 2}\n")
            os.replace(tmp, cfg)
            assert fired.wait(2.0), f"replace {n} not seen"
    finally:
        watcher.stop()


def test_new_rule_file_in_folder_triggers(tmp_path: Path, polling: bool) -> None:
    """A new *.yaml in a watched rules folder triggers; other files there do not."""
    rules = tmp_path / "rules"
    rules.mkdir()
    watcher, fired = _watch([rules], polling)
    try:
        (rules / "notes.txt").write_text("x")
        (rules / ".hidden.yaml.swp").write_text("x")
        assert not fired.wait(0.8)
        (rules / "new.yaml").write_text("- name: x\n")
        assert fired.wait(2.0)
    finally:
        watcher.stop()


def test_unrelated_file_next_to_config_ignored(tmp_path: Path) -> None:
    """Writes to the state database beside config.yaml do not trigger a reload."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("a: 1\n")
    watcher, fired = _watch([cfg], False)
    try:
        for _ in range(5):
            (tmp_path / "watchlist.db-wal").write_bytes(os.urandom(64))
        assert not fired.wait(0.8)
    finally:
        watcher.stop()


def test_path_set_change_is_followed(tmp_path: Path) -> None:
    """When paths_fn() starts naming a new folder, edits there are watched too."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("rules: a\n")
    other = tmp_path / "other"
    other.mkdir()
    paths = [cfg]
    count = 0

    def on_change() -> None:
        nonlocal count
        count += 1
        if other not in paths:
            paths.append(other)

    watcher = ConfigWatcher(lambda: list(paths), on_change).start()
    try:
        time.sleep(0.5)
        cfg.write_text("rules: other\n")
        assert _wait(lambda: count == 1, 15.0) is not None
        time.sleep(0.5)
        (other / "r.yaml").write_text("- name: y\n")
        assert _wait(lambda: count == 2, 15.0) is not None
    finally:
        watcher.stop()


def test_on_change_error_keeps_watching(tmp_path: Path) -> None:
    """An on_change that raises does not stop the watcher."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("1")
    calls: list[int] = []

    def boom() -> None:
        calls.append(1)
        raise RuntimeError("x")

    watcher = ConfigWatcher(lambda: [cfg], boom).start()
    try:
        time.sleep(0.5)
        cfg.write_text("2")
        assert _wait(lambda: len(calls) == 1, 15.0) is not None
        time.sleep(0.4)
        cfg.write_text("3")
        assert _wait(lambda: len(calls) == 2, 15.0) is not None
    finally:
        watcher.stop()


def test_stop_ends_the_thread(tmp_path: Path) -> None:
    """stop() returns with the watch thread gone (it does not wait out a poll interval)."""
    watcher = ConfigWatcher(lambda: [tmp_path], lambda: None).start()
    time.sleep(0.3)
    watcher.stop()
    assert not any(t.name == "watchlist-watch" for t in threading.enumerate())


def test_edit_right_after_start_is_not_missed(tmp_path: Path) -> None:
    """An edit made the moment start() returns still triggers on_change."""
    for _ in range(5):
        cfg = tmp_path / "config.yaml"
        cfg.write_text("a: 1\n")
        fired = threading.Event()
        watcher = ConfigWatcher(lambda cfg=cfg: [cfg], fired.set).start()
        try:
            cfg.write_text("a: 22\n")
            assert fired.wait(2.0)
        finally:
            watcher.stop()


def _inotify_watches() -> int | None:
    """How many inotify watches this process holds (None where /proc cannot tell)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        return None
    total = 0
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) != "anon_inode:inotify":
                continue
            info = (Path("/proc/self/fdinfo") / fd.name).read_text()
        except OSError:
            continue
        total += sum(1 for line in info.splitlines() if line.startswith("inotify wd:"))
    return total


def test_config_folder_is_not_watched_recursively(tmp_path: Path) -> None:
    """A config beside many sub-folders (a home folder) adds one watch per folder named, no more."""
    home = tmp_path / "home"
    for i in range(40):
        (home / f"dir{i}" / "deeper").mkdir(parents=True)
    cfg = home / "config.yaml"
    cfg.write_text("a: 1\n")
    rules = home / "rules"
    rules.mkdir()
    before = _inotify_watches()
    if before is None:
        pytest.skip("needs Linux /proc to count inotify watches")
    watcher, fired = _watch([cfg, rules], False)
    try:
        during = _inotify_watches()
        assert during is not None and 1 <= during - before <= 3, (before, during)
        (home / "dir3" / "deeper" / "x.yaml").write_text("- name: x\n")
        assert not fired.wait(0.8)
        (rules / "r.yaml").write_text("- name: y\n")
        assert fired.wait(2.0)
    finally:
        watcher.stop()
