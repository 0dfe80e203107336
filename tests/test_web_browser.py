"""The web page in headless Chromium against a real daemon: login, alerts, mute, tester, outbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import WebDaemon, chrome, quit_chrome, shot

pytestmark = pytest.mark.slow
TOKEN = "browser-token-7f3a"
# In JSON the entities are decoded, so the article's title is literally "<script>alert(1)..."
# (a bare <script> element would be stripped as HTML before it ever reached the state).
XSS = "&lt;script&gt;alert(1)&lt;/script&gt; STAR Market IPO of a fusion start-up"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDaemon]:
    d = WebDaemon(tmp_path_factory.mktemp("web"), TOKEN).start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def browser(daemon: WebDaemon) -> Iterator[Any]:
    driver = chrome()
    yield driver
    quit_chrome(driver)


def wait(driver: Any, check: Any, timeout: float = 20.0) -> Any:
    """Wait until ``check(driver)`` is truthy (Selenium's WebDriverWait)."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check)


def by_css(driver: Any, css: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def text_of(driver: Any, css: str = "main") -> str:
    """The visible text of the first element matching ``css`` ("" if none): read in one
    script call, so a live refresh between finding and reading cannot make it stale."""
    script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';"
    return str(driver.execute_script(script, css))


def click(driver: Any, css: str) -> None:
    """Click the element; found again if a live refresh replaced it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(5):
        try:
            by_css(driver, css).click()
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"{css} kept going stale")


def test_login(daemon: WebDaemon, browser: Any) -> None:
    """A page asks for the token; after logging in it is shown, and the cookie is HttpOnly."""
    browser.get(daemon.url + "/rules")
    wait(browser, lambda d: "/login" in d.current_url)
    shot(browser, "login")
    by_css(browser, "#token").send_keys("wrong")
    by_css(browser, "#login").click()
    wait(browser, lambda d: "wrong token" in text_of(d))
    by_css(browser, "#token").send_keys(TOKEN)
    by_css(browser, "#login").click()
    wait(browser, lambda d: d.current_url.endswith("/rules"))
    assert "star-market-ipos" in text_of(browser)
    assert browser.execute_script("return document.cookie") == ""  # HttpOnly: not visible to JS
    [cookie] = browser.get_cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_new_alert_arrives_and_xss_title_is_inert(daemon: WebDaemon, browser: Any) -> None:
    """An alert appears on the open alerts page without a reload; its script title is text."""
    browser.get(daemon.url + "/alerts")
    wait(browser, lambda d: "No alerts yet" in text_of(d))
    browser.execute_script("window.__marker = 1")  # gone if the page reloads
    daemon.drop(XSS, summary="A fusion start-up lists on the Sci-Tech Innovation Board.")
    wait(browser, lambda d: "STAR Market IPO of a fusion" in text_of(d), timeout=30)
    assert browser.execute_script("return window.__marker") == 1
    assert "<script>alert(1)</script>" in text_of(browser, "a.title")
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - asking is the test: no dialog opened
    browser.get(daemon.url + "/")
    wait(browser, lambda d: "STAR Market IPO" in text_of(d))
    shot(browser, "overview")
    click(browser, "a.title")
    wait(browser, lambda d: "explain" in text_of(d))
    assert "<script>alert(1)</script>" in text_of(browser, "h2.title")
    marks = [m.text for m in browser.find_elements("css selector", "article mark")]
    assert "STAR Market" in marks and "IPO" in marks
    shot(browser, "alert")


def test_add_mute_and_see_a_muted_alert(daemon: WebDaemon, browser: Any) -> None:
    """A mute added by the form is listed; the next match of its rule shows as muted."""
    browser.get(daemon.url + "/mutes?rule=acme")
    by_css(browser, "#mute-duration").clear()
    by_css(browser, "#mute-duration").send_keys("2d")
    by_css(browser, "#mute-comment").send_keys("Acme earnings week, ticket OPS-12")
    by_css(browser, "#mute-add").click()
    wait(browser, lambda d: "is in force" in text_of(d))
    assert "Acme earnings week" in text_of(browser, "#mutes")
    shot(browser, "mutes")
    browser.get(daemon.url + "/alerts")
    daemon.drop("Acme opens a new plant", summary="Acme said on Monday.")
    wait(browser, lambda d: "Acme opens a new plant" in text_of(d), timeout=30)
    assert "muted by #1" in text_of(browser)
    shot(browser, "alerts")
    browser.get(daemon.url + "/rules")
    assert "#1 muted until" in text_of(browser)
    assert "1 of 2 pass" not in text_of(browser) and "2 of 2 pass" in text_of(browser)
    shot(browser, "rules")


def test_rule_tester(daemon: WebDaemon, browser: Any) -> None:
    """The tester runs an edited rule, shows what it would alert, and points at errors."""
    browser.get(daemon.url + "/tester?rule=star-market-ipos")
    area = by_css(browser, "#tester-text")
    assert "name: star-market-ipos" in area.get_attribute("value")
    area.clear()
    area.send_keys("name: star-market-ipos\nkeywords: [fusion]\n")
    by_css(browser, "#tester-run").click()
    wait(browser, lambda d: "articles scanned" in text_of(d))
    result = text_of(browser, "#tester-result")
    assert "0 added" in result and "1 unchanged" in result
    shot(browser, "tester")
    area = by_css(browser, "#tester-text")
    area.clear()
    area.send_keys("name: star-market-ipos\nkeywords: [fusion]\nnotify: [nowhere]\n")
    by_css(browser, "#tester-run").click()
    wait(browser, lambda d: "unknown channel" in text_of(d))
    link = by_css(browser, "#tester-errors a")
    assert link.text == "3:10"
    link.click()
    start = browser.execute_script("return document.getElementById('tester-text').selectionStart")
    assert start == len("name: star-market-ipos\nkeywords: [fusion]\nnotify: [")


def test_retry_a_failed_outbox_row(daemon: WebDaemon, browser: Any) -> None:
    """A row that failed (its channel refuses) is retried from the outbox page."""
    browser.get(daemon.url + "/outbox")
    wait(browser, lambda d: "failed" in text_of(d, "#outbox"), timeout=40)
    shot(browser, "outbox")
    click(browser, "#outbox tr.state-failed button.retry")
    wait(browser, lambda d: "is due now" in text_of(d))


def test_logout(daemon: WebDaemon, browser: Any) -> None:
    """Logging out ends the session."""
    browser.get(daemon.url + "/")
    by_css(browser, "header button").click()
    wait(browser, lambda d: "/login" in d.current_url)
    browser.get(daemon.url + "/outbox")
    wait(browser, lambda d: "/login" in d.current_url)


def test_daemon_log_has_no_token(daemon: WebDaemon) -> None:
    """The token never reaches the daemon's log."""
    assert TOKEN not in (Path(daemon.folder) / "daemon.log").read_text()
