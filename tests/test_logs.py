"""Tests for watchlist.daemon.logs: formats, idempotent setup, and secrets masked everywhere."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from freezegun import freeze_time
from localserver import LocalServer, Route

from watchlist.daemon import logs


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    """Each test starts without registered secrets and leaves no handler behind."""
    logs.clear_secrets()
    yield
    logs.clear_secrets()
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_watchlist", False)]:
        root.removeHandler(h)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            "slack://T1ABCDEFG/B2ABCDEFG/abcdefghijklmnopqrstuvwx/#alerts",
            ["T1ABCDEFG", "B2ABCDEFG", "abcdefghijklmnopqrstuvwx"],
            ["slack://", "#alerts"],
        ),
        (
            "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321",
            ["AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "123456789"],
            ["tgram://"],
        ),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV", ["JHMHI8qBe7bk2ZwO5U711o3dV"], []),
        (
            "json://user:hunter2pass@example.com/hook",
            ["hunter2pass"],
            ["json://user:***@example.com"],
        ),
        ("mailtos://alerts:pw123456@example.com?to=me@x.org", ["pw123456"], ["to=me@x.org"]),
        ("GET https://x.com/feed?token=abc123&page=2", ["abc123"], ["page=2", "token=***"]),
        ("GET https://x.com/feed?api_key=k-9f8e7d", ["k-9f8e7d"], ["api_key=***"]),
        ("Authorization: Bearer abcdefgh12345", ["abcdefgh12345"], ["Bearer ***"]),
        ("hook https://h.io/x/Zq7Hk2Lm9Np4Rs8Tv1Wx3Yz5Ab", ["Zq7Hk2Lm9Np4Rs8Tv1Wx3Yz5Ab"], []),
        ("article 550e8400-e29b-41d4-a716-446655440000 seen", [], ["550e8400-e29b"]),
        ("gotify://example.com/AbCdEf123456789", ["AbCdEf123456789"], ["example.com"]),
        ("plain words stay as they are", [], ["plain words stay as they are"]),
        (
            "pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi",
            ["uQiRzpo4", "azGDORe"],
            [],
        ),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5/@mychannel", ["AAHdq"], ["/@mychannel"]),
    ],
)
def test_mask_urls(text: str, gone: list[str], kept: list[str]) -> None:
    """mask() hides URL credentials and tokens but keeps the rest readable."""
    out = logs.mask(text)
    for g in gone:
        assert g not in out
    for k in kept:
        assert k in out
    assert (logs.MASK in out) == bool(gone)


def test_mask_registered_secrets() -> None:
    """A registered secret is masked wherever it appears; short values are ignored."""
    logs.add_secrets(["s3cr3t-value", "", "ab"])
    assert logs.mask("x=s3cr3t-value; ab") == "x=***; ab"


def _capture(level: str = "info", fmt: str = "text") -> io.StringIO:
    stream = io.StringIO()
    logs.setup_logging(level, fmt, stream=stream)
    return stream


@freeze_time("2026-11-24 10:00:00")
def test_text_format() -> None:
    """Text lines read `ts LEVEL logger: message key=value`."""
    out = _capture()
    logging.getLogger("watchlist.sources").info("polled %s", "feed", extra={"n": 3, "why": "a b"})
    assert (
        out.getvalue() == '2026-11-24T10:00:00Z INFO watchlist.sources: polled feed n=3 why="a b"\n'
    )


@freeze_time("2026-11-24 10:00:00")
def test_json_format() -> None:
    """JSON lines carry ts, level, logger, message and extra fields."""
    out = _capture(fmt="json")
    logging.getLogger("watchlist.outbox").warning("sent %d", 2, extra={"channel": "me"})
    obj = json.loads(out.getvalue())
    assert obj == {
        "ts": "2026-11-24T10:00:00Z",
        "level": "warning",
        "logger": "watchlist.outbox",
        "message": "sent 2",
        "channel": "me",
    }


def test_setup_is_idempotent() -> None:
    """Calling setup twice leaves one handler, and each record is written once."""
    logs.setup_logging("info", "text", stream=io.StringIO())
    out = _capture()
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_watchlist", False)]
    assert len(ours) == 1
    logging.getLogger("watchlist").info("once")
    assert out.getvalue().count("once") == 1


@pytest.mark.parametrize(("level", "shown"), [("debug", True), ("info", False)])
def test_levels(level: str, shown: bool) -> None:
    """Debug records appear only at debug level."""
    out = _capture(level)
    logging.getLogger("watchlist.x").debug("detail")
    assert ("detail" in out.getvalue()) is shown


@pytest.mark.parametrize(("level", "fmt"), [("loud", "text"), ("info", "xml")])
def test_bad_settings(level: str, fmt: str) -> None:
    """An unknown level or format is a clear ValueError."""
    with pytest.raises(ValueError, match="unknown log"):
        logs.setup_logging(level, fmt, stream=io.StringIO())


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_masks_message_args_extra_and_exception(fmt: str) -> None:
    """Secrets in message, args, extra fields and tracebacks never reach the output."""
    logs.add_secrets(["TOPSECRET42"])
    out = _capture("debug", fmt)
    log = logging.getLogger("watchlist.deliver")
    log.info("url tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1")
    log.info("arg %s", "TOPSECRET42", extra={"url": "json://u:pw-12345@h/x"})
    try:
        raise RuntimeError("failed with TOPSECRET42")
    except RuntimeError:
        log.exception("boom")
    text = out.getvalue()
    for secret in ("TOPSECRET42", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "pw-12345"):
        assert secret not in text
    assert "RuntimeError" in text and text.count("***") >= 4


def test_third_party_loggers_masked() -> None:
    """Records from other libraries' loggers go through the same mask."""
    logs.add_secrets(["TOPSECRET42"])
    out = _capture("debug")
    logging.getLogger("apprise").debug("posting to TOPSECRET42")
    assert "posting to ***" in out.getvalue()


_SCRIPT = textwrap.dedent(
    """
    import logging, sys
    import apprise, httpx
    from watchlist.daemon import logs
    port, tok_var, tok_url, tok_q, tok_pw = sys.argv[1:6]
    logs.setup_logging("debug", sys.argv[6])
    logs.add_secrets([tok_var])
    apprise.NotifyBase.request_rate_per_sec = 0
    log = logging.getLogger("watchlist.test")
    log.debug("channel slack://%s/B0ABCDEFG/%s/#x", tok_var, tok_url)
    log.info("ingest token", extra={"token": tok_var, "u": f"json://me:{tok_pw}@h"})
    print("stdout line", logs.mask(f"tgram://{tok_url}/1"))
    httpx.get(f"http://127.0.0.1:{port}/feed?token={tok_q}",
              headers={"Authorization": f"Bearer {tok_var}"})
    a = apprise.Apprise()
    a.add(f"json://me:{tok_pw}@127.0.0.1:{port}/hook/{tok_var}")
    a.notify(title="t", body="b")
    try:
        raise ValueError(f"bad url tgram://{tok_url}/1 {tok_var}")
    except ValueError:
        log.exception("delivery failed")
    """
)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_subprocess_debug_run_leaks_no_token(http_server: LocalServer, fmt: str) -> None:
    """At debug level, watchlist, httpx and apprise output holds none of the tokens."""
    http_server.routes["/feed"] = Route(200, "<rss/>")
    http_server.routes["/hook/VarSecretZ9x8"] = Route(200, "ok")
    tokens = ["VarSecretZ9x8", "UrlTok1a2b3c4d5e6f7g8h9i", "QueryTok77", "PassWord55"]
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(http_server.port), *tokens, fmt],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    output = proc.stdout + proc.stderr
    assert "HTTP Request" in output  # httpx really logged
    assert "delivery failed" in output and "Traceback" in output
    assert len(http_server.posts("/hook/VarSecretZ9x8")) == 1  # apprise really sent
    for token in tokens:
        assert token not in output, f"{token} leaked:\n{output}"
