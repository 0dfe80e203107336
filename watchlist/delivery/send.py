"""Sending one message through Apprise, and the built-in ``console://`` service.

The only module that imports apprise. Each URL gets its own Apprise object with
its throttle set to zero (Apprise would otherwise sleep ~5.5 s between sends to
one service) and its socket connect/read timeouts set to the configured timeout
(Apprise's own 4 s read timeout would otherwise fire first); the objects are kept
and reused, each by one send at a time. The send runs in the
calling thread (no Apprise worker pool: its threads would hold up the process's
exit while a server never answers), and Apprise's result is turned into words a
user can act on. A failure that took the whole timeout is a timeout: the service
may still have received it.
URLs shown to users are always in Apprise's privacy form.
"""

from __future__ import annotations

import difflib
import functools
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import apprise
from apprise.decorators import notify as _apprise_notify

FORMATS: dict[str, str] = {"text": "text", "markdown": "markdown", "html": "html"}
# Apprise adds its own defaults to every URL it prints; they only add noise for a user.
_NOISE = re.compile(
    r"(?<=[?&])(overflow=upstream|retry=0|wait=0\.5|optional=no|method=POST|cto=[\d.]+|rto=[\d.]+|format=\w+)(&|$)"
)

_JSON_SCHEMES = ("json", "jsons")  # Apprise's custom JSON service
_Plugin = Callable[..., bool]
_register = cast(Callable[..., Callable[[_Plugin], _Plugin]], _apprise_notify)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What happened: ``ok`` when every URL accepted it; ``words`` says so for a user."""

    ok: bool
    words: str
    delivered: tuple[int, ...] = ()  # indexes into the urls given that accepted it
    timed_out: bool = False  # a timeout may still have been delivered
    unreachable: bool = False  # a timeout or connection failure: the service did not answer


@_register(on="console", name="watchlist console")
def _console(
    body: str, title: str = "", notify_type: str = "info", *args: Any, **kwargs: Any
) -> bool:
    """The built-in ``console://``: print the alert to standard output, flushed."""
    out = f"{title}\n{body}\n" if title else f"{body}\n"
    sys.stdout.write(out)
    sys.stdout.flush()
    return True


def _instance(url: str) -> Any | None:
    """Apprise's service object for ``url`` (None when the URL is not understood)."""
    return apprise.Apprise.instantiate(url)


@functools.lru_cache(maxsize=1024)
def privacy_url(url: str) -> str:
    """``url`` with its secrets starred out, as Apprise shows it; a safe stand-in if unparsable."""
    obj = _instance(url)
    if obj is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://****"
    text: str = obj.url(privacy=True)
    while True:
        shorter = _NOISE.sub("", text)
        if shorter == text:
            break
        text = shorter
    return text.rstrip("?&")


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].strip().lower()


def valid_url(url: str) -> bool:
    """True when Apprise understands ``url``."""
    return _instance(url) is not None


def _native_format(obj: Any) -> str:
    """The first (preferred) format a service object declares; Apprise 2 gives a tuple."""
    declared = getattr(obj, "notify_format", None) if obj is not None else None
    if isinstance(declared, (tuple, list)):
        declared = declared[0] if declared else None
    name = str(getattr(declared, "value", declared or "text"))
    return name if name in FORMATS else "text"


def preferred_format(urls: Sequence[str]) -> str:
    """The richest format every URL's service accepts as its native one (text, markdown, html)."""
    found = []
    for url in urls:
        obj = _instance(url)
        found.append(_native_format(obj))
    if not found:
        return "text"
    return found[0] if len(set(found)) == 1 else "text"


def _words(result: Any, privacy: str, timeout: float, elapsed: float) -> tuple[bool, bool, str]:
    """(ok, timed_out, words) for one URL's AppriseResult that took ``elapsed`` seconds.

    A failure that took (nearly) the whole timeout is Apprise's read timeout, which it
    reports as a plain connection error: the service may have received the message.
    """
    status = getattr(result, "status", None)
    name = getattr(status, "name", "")
    if bool(result) and name in ("SUCCESS", ""):
        return True, False, "delivered"
    if name == "TIMEOUT" or (name != "NOMATCH" and elapsed >= 0.9 * timeout):
        return (
            False,
            True,
            f"timed out after {timeout:g}s sending to {privacy} (it may still have arrived)",
        )
    if name == "NOMATCH":
        return False, False, f"not sent: Apprise loaded no service for {privacy}"
    messages = [
        e.message
        for e in result.logs()
        if getattr(e, "level", "") in ("WARNING", "ERROR", "CRITICAL")
    ]
    detail = messages[-1] if messages else "the service reported a failure without details"
    return False, False, f"failed: {privacy}: {detail}"


_idle: dict[tuple[str, float], list[Any]] = {}  # Apprise objects not in use, per (URL, timeout)
_idle_lock = threading.Lock()
IDLE_PER_URL = 16  # objects kept per URL: the most sends in flight on one channel, roughly


def _checkout(url: str, timeout: float) -> Any | None:
    """An Apprise object for ``url`` with our throttle and timeouts (None: not a valid URL).

    Objects are reused, so a busy channel does not parse its URL and load its service
    for every message; each is used by one send at a time.
    """
    with _idle_lock:
        free = _idle.get((url, timeout))
        if free:
            return free.pop()
    app = apprise.Apprise(asset=apprise.AppriseAsset(service_timeout=0))
    if not app.add(url):
        return None
    for service in app:
        service.request_rate_per_sec = 0
        service.socket_connect_timeout = max(0.001, float(timeout))
        service.socket_read_timeout = max(0.001, float(timeout))
    return app


def _checkin(url: str, timeout: float, app: Any) -> None:
    with _idle_lock:
        free = _idle.setdefault((url, timeout), [])
        if len(free) < IDLE_PER_URL:
            free.append(app)


def send(
    urls: Sequence[str],
    title: str,
    body: str,
    *,
    body_format: str = "text",
    timeout: float = 30.0,
    data: Mapping[str, Any] | None = None,
) -> SendResult:
    """Send one message to every URL of a channel; each URL through its own Apprise object.

    ``data`` (the alert as JSON) joins the payload of services that post JSON (``json://``,
    ``jsons://``) beside Apprise's title and message."""
    fmt = FORMATS.get(body_format, "text")
    delivered: list[int] = []
    problems: list[str] = []
    timed_out = unreachable = False
    for index, url in enumerate(urls):
        privacy = privacy_url(url)
        app = _checkout(url, timeout)
        if app is None:
            problems.append(f"not sent: {privacy} is not a valid Apprise URL; check the channel")
            continue
        for service in app:  # the alert as JSON, for this message only (objects are reused)
            extras = getattr(service, "payload_extras", None)
            if isinstance(extras, dict) and _scheme(url) in _JSON_SCHEMES:
                base = getattr(service, "_watchlist_extras", None)
                if base is None:
                    base = dict(extras)
                    service._watchlist_extras = base
                cast(Any, service).payload_extras = {**base, **(data or {})}
        started = time.monotonic()
        try:
            result = app.notify(
                body=body or " ",
                title=title,
                body_format=fmt,
                timeout=0,  # the socket timeouts above bound it, in this thread
                log_level=logging.WARNING,
            )
        except Exception as exc:  # an Apprise bug must not stop the outbox
            problems.append(f"failed: {privacy}: {exc.__class__.__name__}: {exc}")
            continue  # that object is not reused
        _checkin(url, timeout, app)
        ok, late, words = _words(result, privacy, timeout, time.monotonic() - started)
        timed_out = timed_out or late
        unreachable = unreachable or late or "connection error" in words.lower()
        if ok:
            delivered.append(index)
        else:
            problems.append(words)
    if not urls:
        return SendResult(False, "not sent: the channel has no URLs")
    if not problems:
        return SendResult(True, "delivered", tuple(delivered))
    return SendResult(False, "; ".join(problems), tuple(delivered), timed_out, unreachable)


@functools.cache
def known_schemes() -> frozenset[str]:
    """Every URL scheme Apprise has a service for (``console`` included), lower case."""
    from apprise import manager_plugins

    manager: Any = manager_plugins.NotificationManager  # a shared singleton, loaded once
    return frozenset(str(s).lower() for s in manager().schemas())


def check_url(url: str) -> str | None:
    """None when Apprise has a service for ``url``'s scheme, else the problem in words.

    The words name only the scheme, never the rest of the URL (it may hold secrets).
    """
    scheme = url.split("://", 1)[0].strip().lower()
    known = known_schemes()
    if scheme in known:
        return None
    close = difflib.get_close_matches(scheme, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"unknown Apprise scheme '{scheme}'; did you mean '{close[0]}'?"
    wiki = "https://github.com/caronc/apprise/wiki"
    return f"unknown Apprise scheme '{scheme}'; see {wiki} for the services and their URLs"
