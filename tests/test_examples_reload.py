"""Hot reload with examples: an edit whose examples fail is an error; the old rules stay."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from localserver import LocalServer
from test_daemon_ops import Daemon, Feed, _titles, _wait_alert, setup

from watchlist.daemon.reload_status import read_reload_status

__all__ = ["setup"]  # the fixture: a config with a feed and a hook, and a daemon starter

# Valid YAML, valid rules, but the new quantum rule's example says it must match a story
# it does not match (its topic is too narrow): the edit must not go live.
FAILING_EXAMPLE = """\
- name: fusion
  topics: [nuclear fusion]
  notify: [hook]
- name: quantum
  topics: [quantum physics]
  notify: [hook]
  examples:
    match:
      - title: A quantum computing lab lists in Shanghai
"""


def test_failing_example_edit_during_run_keeps_old_rules(
    setup: tuple[Path, Feed, Callable[..., Daemon]], http_server: LocalServer
) -> None:
    """The failure is reported at the example's line and column; the rules in force stay."""
    cfg, feed, start = setup
    d = start()
    rules = cfg.parent / "rules" / "main.yaml"
    rules.write_text(FAILING_EXAMPLE)
    d.wait_note("RELOADING=1", timeout=5)
    d.wait_note("READY=1", timeout=5)
    status = read_reload_status(cfg.parent / "state" / "watchlist.db")
    assert status is not None and not status.ok
    assert status.rules == 1  # the fusion rule loaded at start
    (error,) = status.errors
    assert "main.yaml:9:9: example 1 of rule quantum should match but did not: " in error
    assert "entry quantum physics: hit " in error
    assert "main.yaml:9:9: example 1 of rule quantum" in d.log()
    feed.add("Nuclear fusion firm plans listing")
    feed.add("A quantum computing lab lists in Shanghai")
    assert _wait_alert(http_server, "Nuclear fusion")
    time.sleep(1.5)
    assert not any("quantum" in t for t in _titles(http_server))
    assert d.proc.poll() is None
