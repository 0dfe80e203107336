"""Test helpers for the web page: a real daemon serving it, and headless Chromium by Selenium.

``chrome()`` starts Debian's ``chromium`` through ``chromium-driver`` with a fresh
profile, or skips the test naming the missing package. ``shot(driver, name)``
saves a screenshot into the folder named by ``WATCHLIST_SCREENSHOTS`` (docs/web/
when refreshing the PNGs of docs/web.md); without it, nothing is written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = ("/usr/bin/chromium", "chromium")
DRIVER = ("/usr/bin/chromedriver", "chromium-driver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chrome() -> Any:
    """A headless Chromium driven by Selenium (fresh --user-data-dir), or skip with the reason."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]'")
    for path, package in (CHROMIUM, DRIVER):
        if not Path(path).exists():
            pytest.skip(f"{path} is missing: apt-get install -y {package}")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM[0]
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="watchlist-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(DRIVER[0]), options=options)
    driver.implicitly_wait(0)
    driver.profile_dir = profile
    return driver


def quit_chrome(driver: Any) -> None:
    """Close the browser and remove its profile."""
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def shot(driver: Any, name: str) -> None:
    """Save a full-page screenshot as ``NAME.png`` when WATCHLIST_SCREENSHOTS names a folder."""
    folder = os.environ.get("WATCHLIST_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(600, min(int(height) + 40, 2000)))
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))
    driver.set_window_size(1280, 900)


class WebDaemon:
    """``python -m watchlist run`` with a folder source, a failing channel and the web page."""

    RULES = (
        "rules:\n"
        "  - name: star-market-ipos\n"
        "    description: IPOs on the STAR Market\n"
        "    exchanges:\n      - name: STAR Market\n        aliases: [Sci-Tech Innovation Board]\n"
        "    keywords: [IPO, listing]\n"
        "    notify: [team-hook]\n"
        "    examples:\n      match:\n        - title: Fusion start-up files for STAR Market IPO\n"
        "      no_match:\n        - title: Opinion on the weather\n"
        "  - name: acme\n    companies: [Acme]\n    notify: [team-hook]\n"
    )

    def __init__(self, folder: Path, token: str) -> None:
        self.folder = folder
        self.token = token
        self.port = free_port()
        self.inbox = folder / "inbox"
        self.inbox.mkdir(parents=True)
        (folder / "rules").mkdir()
        (folder / "rules" / "rules.yaml").write_text(self.RULES)
        self.config = folder / "config.yaml"
        self.config.write_text(
            "state: state.db\nrules: rules/\n"
            f"channels:\n  team-hook: json://127.0.0.1:{free_port()}/\n"
            "delivery: {retry_horizon: 1s, timeout: 2s}\n"
            "sources:\n  - name: inbox\n    type: folder\n    path: inbox\n    every: 1s\n"
            f"server:\n  listen: 127.0.0.1:{self.port}\n  token: {token}\n"
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.n = 0

    def start(self) -> WebDaemon:
        """Start and wait until the page answers."""
        log = (self.folder / "daemon.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watchlist", "run", "-c", str(self.config)],
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code in (200, 503):
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"daemon did not serve: {(self.folder / 'daemon.log').read_text()}")

    def drop(self, title: str, summary: str = "", body: str = "") -> str:
        """Put one article in the inbox (settled: a few seconds old); its id."""
        self.n += 1
        art = {"id": f"urn:test:{self.n}", "title": title, "summary": summary, "body": body}
        art["url"] = f"https://news.example/{self.n}"
        path = self.inbox / f"a{self.n}.json"
        path.write_text(json.dumps(art))
        stamp = time.time() - 5
        os.utime(path, (stamp, stamp))
        return str(art["id"])

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(15)
            self.proc = None
