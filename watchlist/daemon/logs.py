"""Logging setup: text or JSON lines on one handler, with every secret masked.

``setup_logging`` configures the root logger once (calling it again replaces
its own handler, never duplicates it). A ``SecretFilter`` on every root handler
masks registered secrets (``add_secrets``) and credentials inside URLs in the
message, its args, extra fields and exception text, for watchlist's own loggers
and for third-party ones (apprise, httpx, uvicorn, apscheduler) alike.
``mask(text)`` is the same masking for other modules (status, errors).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

MASK = "***"

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()  # longest first
_MIN_SECRET = 3  # shorter values would mask ordinary words

# Apprise schemes whose path (or user part) carries tokens: slack://T/B/C, tgram://BOT/CHAT...
_TOKEN_SCHEMES = (
    "slack|tgram|discord|msteams|pbul|pover|pushover|gotifys?|ifttt|join|zulip|twilio|"
    "mailgun|sendgrid|signal|ntfys?|spush|hassios?|rockets?|mmosts?|lametric|opsgenie|"
    "pagerduty|bark|barks|line|mastodons?|toots?|reddit|twitter|apprises?|pushed|"
    "pushbullet|pushme|serverchan|dingtalk|wecombot|feishu|lark|kumulos|threema|"
    "splunk|victorops|webexteams|wxteams|guilded|revolt|flock|ryver|notica|prowl"
)
_TOKEN_URL = re.compile(rf"(?i)\b(?:{_TOKEN_SCHEMES})://[^\s'\"<>]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/@:'\"<>]*):([^\s/@'\"<>]+)@")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:token|access_token|api_?key|apikey|key|secret|password|pass|pwd|"
    r"auth|sig|signature|webhook)=)[^&\s'\"<>#]+"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=\-]{8,}")
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s'\"<>]+")
# A random-looking URL piece: 24+ characters mixing upper case, lower case and digits.
_OPAQUE = re.compile(r"(?=.*[A-Z])(?=.*[a-z])(?=.*\d)[A-Za-z0-9_\-]{24,}")  # fullmatch only
_PIECE = re.compile(r"[^/@:?&=,#]+")
_TOKEN_PIECE = re.compile(r"[#@]?[^/@:?&=,#]+")


def add_secrets(values: Iterable[str]) -> None:
    """Register values (tokens, passwords, ${VAR} values) to be masked as ``***`` everywhere."""
    global _secrets
    with _lock:
        merged = set(_secrets)
        merged.update(v for v in values if v and len(v) >= _MIN_SECRET)
        _secrets = tuple(sorted(merged, key=len, reverse=True))


def clear_secrets() -> None:
    """Forget every registered secret (tests; a reload registers the new set)."""
    global _secrets
    with _lock:
        _secrets = ()


def _mask_token_piece(piece: re.Match[str]) -> str:
    text, start = piece.group(0), piece.start()
    # Keep channel names (#x, /@x), host names (with a dot) and short words; mask the rest
    # (pushover://USER@TOKEN: an @ right after a piece is a separator, not a channel).
    after_slash = start == 0 or piece.string[start - 1] == "/"
    if text.startswith("#") or (text.startswith("@") and after_slash):
        return text
    if "." in text or len(text) < 6:
        return text
    return MASK


def _mask_token_url(m: re.Match[str]) -> str:
    url = m.group(0)
    scheme, rest = url.split("://", 1)
    path, q, query = rest.partition("?")  # query secrets: see _QUERY_SECRET
    return f"{scheme}://{_TOKEN_PIECE.sub(_mask_token_piece, path)}{q}{query}"


def mask(text: str) -> str:
    """``text`` with registered secrets and URL credentials replaced by ``***``."""
    if not text:
        return text
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
    text = _TOKEN_URL.sub(_mask_token_url, text)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
    return _URL.sub(_mask_opaque, text)


def _mask_opaque_piece(m: re.Match[str]) -> str:
    return MASK if _OPAQUE.fullmatch(m.group(0)) else m.group(0)


def _mask_opaque(m: re.Match[str]) -> str:
    url = m.group(0)
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{_PIECE.sub(_mask_opaque_piece, rest)}"


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask(str(value))


# Attributes every LogRecord has; anything else came in through ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "_wl_masked"}
)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` fields a record carries, in the order they were set."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class SecretFilter(logging.Filter):
    """Masks secrets in a record's message, args, extra fields and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (once); never drops it."""
        if getattr(record, "_wl_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = mask(message)
        record.args = None
        for key, value in extra_fields(record).items():
            setattr(record, key, _mask_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        record._wl_masked = True
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text_value(value: Any) -> str:
    text = str(value)
    return (
        json.dumps(text, ensure_ascii=False) if (not text or " " in text or '"' in text) else text
    )


class TextFormatter(logging.Formatter):
    """``2026-11-24T10:00:00Z INFO watchlist.sources: message key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        """One line (plus a traceback when there is one), masked."""
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extras = extra_fields(record)
        if extras:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in extras.items())
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + record.stack_info
        return mask(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, masked."""
        obj: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            obj.setdefault(key, _mask_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            obj["exc"] = record.exc_text
        return mask(json.dumps(obj, ensure_ascii=False, default=str))


LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
LEVELS |= {"error": logging.ERROR, "critical": logging.CRITICAL}
# Third-party loggers: chatty ones stay at WARNING unless we run at debug.
_THIRD_PARTY = ("apprise", "httpx", "uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler")
_NOISY = ("httpcore", "watchfiles", "asyncio", "hpack", "multipart")
_FILTER = SecretFilter()


class RoutineSchedulerNotes(logging.Filter):
    """APScheduler's warnings that a run was skipped because the last one still runs, or
    started late, are routine for a daemon whose polls may outlast their interval: they
    are shown at debug level only (one of them per poll would bury the real warnings)."""

    ROUTINE = ("maximum number of running instances reached", "was missed by")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and any(r in str(record.msg) for r in self.ROUTINE):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_ROUTINE = RoutineSchedulerNotes()


def setup_logging(level: str = "info", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Configure the root logger: one masked handler writing ``fmt`` (text|json) to ``stream``."""
    lvl = LEVELS.get(level.lower())
    if lvl is None:
        raise ValueError(f"unknown log level {level!r}: use one of {', '.join(LEVELS)}")
    if fmt not in ("text", "json"):
        raise ValueError(f"unknown log format {fmt!r}: use text or json")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_watchlist", False)]:
        root.removeHandler(old)  # the stream is the caller's: not closed here
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler._watchlist = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    for h in root.handlers:  # other handlers too (pytest's, an embedding app's)
        if _FILTER not in h.filters:
            h.addFilter(_FILTER)
    root.setLevel(lvl)
    logging.getLogger("watchlist").setLevel(lvl)
    for name in _THIRD_PARTY:
        logging.getLogger(name).setLevel(lvl if lvl <= logging.DEBUG else max(lvl, logging.WARNING))
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(lvl, logging.WARNING))
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        if _ROUTINE not in logging.getLogger(name).filters:
            logging.getLogger(name).addFilter(_ROUTINE)
    logging.captureWarnings(True)
