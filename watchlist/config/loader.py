"""Loading config.yaml into a validated ``Config``: ${VAR} substitution, every section, the rules.

``load_config(path)`` reads config.yaml and every rule file it names, applies
``defaults:`` to rules, resolves relative paths against the config file's folder
and raises ``ConfigErrors`` listing every problem in every file at once. Values
substituted from the environment are secrets: kept in ``Config.secrets`` and
never shown in an error.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from watchlist.config.checker import Checker
from watchlist.config.durations import (
    parse_archive,
    parse_listen,
    parse_rate,
    positive_duration,
    seconds,
    size,
)
from watchlist.config.envvars import interpolate
from watchlist.config.errors import (
    ConfigError,
    ConfigErrors,
    did_you_mean,
    display_path,
    redact,
    sort_errors,
)
from watchlist.config.httpsource import http_fields, shared_listen
from watchlist.config.rules import (
    DEFAULT_KEYS,
    collect_rules,
    expand_rule_paths,
    load_rules,
    read_settings,
)
from watchlist.config.sourcekeys import read_headers
from watchlist.config.sourcekeys import shared_listen as server_shares_listen
from watchlist.config.yamlsafe import Pos, YMap, YSeq, describe, parse_yaml
from watchlist.models import (
    ChannelConfig,
    Config,
    DeliveryConfig,
    LoggingConfig,
    ServerConfig,
    SourceConfig,
    Templates,
)


def _no_problem(*_: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class ValueChecks:
    """Checks of values that only a higher stage can judge, handed in by the caller.

    Config sits below delivery, so it cannot ask Apprise whether a URL scheme exists or
    render a template itself; ``watchlist.delivery.CONFIG_CHECKS`` supplies both. Each
    returns None when the value is fine, else the problem in words.
    """

    channel_url: Callable[[str], str | None] = _no_problem
    template: Callable[[str, str], str | None] = _no_problem


NO_CHECKS = ValueChecks()

TOP_KEYS: tuple[str, ...] = (
    "timezone",
    "state",
    "rules",
    "defaults",
    "sources",
    "channels",
    "templates",
    "delivery",
    "server",
    "logging",
    "archive",
)
SOURCE_COMMON: tuple[str, ...] = ("name", "type", "every", "timeout", "max_bytes", "enabled")
SOURCE_EXTRA: dict[str, tuple[str, ...]] = {
    "rss": ("url", "headers"),
    "folder": ("path",),
    "http": ("listen", "token", "insecure"),
}
CHANNEL_KEYS: tuple[str, ...] = ("url", "urls", "rate_limit", "format", "concurrency")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
__all__ = ["ConfigError", "ConfigErrors", "load_config", "load_rules"]


def _local(value: str, base: Path) -> str:
    return str((base / Path(value).expanduser()).resolve())


# ------------------------------------------------------------------ sections


def _source(
    m: Any, pos: Pos, chk: Checker, base: Path, secrets: list[str], check_paths: bool
) -> SourceConfig | None:
    if not isinstance(m, YMap):
        chk.error(pos, f"expected a source (a mapping with name: and type:), found {describe(m)}")
        return None
    kind = chk.choice(m, "type", tuple(SOURCE_EXTRA))
    if "type" not in m:
        chk.error(m.pos, "a source needs 'type' (rss, folder or http)")
    extra = SOURCE_EXTRA[kind] if kind else tuple(k for v in SOURCE_EXTRA.values() for k in v)
    chk.keys(
        m,
        SOURCE_COMMON + extra,
        {"rss": "an rss source", None: "a source"}.get(kind, f"a {kind} source"),
    )
    name = chk.text(m, "name", required="a source")
    every = chk.convert(m, "every", positive_duration)
    timeout = chk.convert(m, "timeout", seconds)
    max_bytes = chk.convert(m, "max_bytes", size)
    enabled = chk.boolean(m, "enabled")
    fields: dict[str, Any] = {}
    needs = {"rss": "url", "folder": "path", "http": "listen"}.get(kind or "")
    if needs and needs not in m:
        chk.error(m.pos, f"{'an' if kind == 'rss' else 'a'} {kind} source needs '{needs}'")
    if kind == "rss" and (url := chk.text(m, "url")):
        if url.startswith("file://"):
            url = url.removeprefix("file://")
        elif _URL.match(url) and not url.startswith(("http://", "https://")):
            chk.error(m.value_pos["url"], "url must be an http(s) URL or a local file path")
        fields["url"] = url if _URL.match(url) else _local(url, base)
        if check_paths and not _URL.match(url) and not Path(fields["url"]).is_file():
            shown = display_path(fields["url"])
            chk.error(
                m.value_pos["url"],
                f"url: no feed file at {shown}; check the path, or give an http(s) URL",
            )
    if kind == "rss" and "headers" in m:
        fields["headers"] = read_headers(m, chk, secrets)
    if kind == "folder" and (folder := chk.text(m, "path")):
        fields["path"] = _local(folder, base)
    if kind == "http":
        fields.update(http_fields(m, chk, name, secrets))
    if name is None or kind is None:
        return None
    return SourceConfig(
        name=name,
        type=kind,
        every=every or timedelta(minutes=15),
        timeout=timeout or 30.0,
        max_bytes=max_bytes or 10 * 1024 * 1024,
        enabled=True if enabled is None else enabled,
        **fields,
    )


def _sources(
    doc: YMap, chk: Checker, base: Path, secrets: list[str], check_paths: bool
) -> list[SourceConfig]:
    value = doc.get("sources")
    if value is None:
        return []
    if not isinstance(value, YSeq):
        chk.wrong(doc, "sources", "a list of sources")
        return []
    out: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for item, pos in zip(value, value.item_pos, strict=True):
        src = _source(item, pos, chk, base, secrets, check_paths)
        if src is None:
            continue
        if src.name in seen:
            where = item.value_pos["name"]
            chk.error(where, f"duplicate source name '{src.name}' (first at line {seen[src.name]})")
            continue
        seen[src.name] = item.value_pos["name"].line
        if problem := shared_listen(src, out):
            chk.error(item.value_pos["listen"], problem)
            continue
        out.append(src)
    return out


def _urls(value: Any, pos: Pos, chk: Checker, name: str, checks: ValueChecks) -> tuple[str, ...]:
    items = [(value, pos)] if isinstance(value, str) else None
    if isinstance(value, YSeq):
        items = list(zip(value, value.item_pos, strict=True))
    if not items:
        what = "nothing" if isinstance(value, YSeq) else describe(value)
        what = "text that is not a URL" if isinstance(value, str) else what
        chk.error(pos, f"channel '{name}': expected an Apprise URL or a list of them, found {what}")
        return ()
    urls: list[str] = []
    for url, upos in items:
        if isinstance(url, str) and _URL.match(url.strip()):
            urls.append(url.strip())
            if problem := checks.channel_url(url.strip()):
                chk.error(upos, f"channel '{name}': {problem}")
        else:
            what = "text that is not a URL" if isinstance(url, str) else describe(url)
            chk.error(
                upos,
                f"channel '{name}': expected an Apprise URL such as slack://... or "
                f"mailto://..., found {what}",
            )
    return tuple(urls)


def _channels(
    doc: YMap, chk: Checker, checks: ValueChecks
) -> tuple[list[ChannelConfig], list[str]]:
    """The channels (console added when missing) and every declared name, valid or not."""
    value = doc.get("channels")
    out: list[ChannelConfig] = []
    names: list[str] = []
    if value is not None and not isinstance(value, YMap):
        chk.wrong(doc, "channels", "a mapping of channel names to Apprise URLs")
    elif value is not None:
        for name, spec in value.items():
            names.append(name)
            pos = value.value_pos[name]
            rate: tuple[int, timedelta] | None = None
            fmt: str | None = None
            concurrency: float | None = None
            if isinstance(spec, YMap):
                chk.keys(spec, CHANNEL_KEYS, f"channel '{name}'")
                if ("url" in spec) == ("urls" in spec):
                    chk.error(spec.pos, f"channel '{name}' needs either 'url' or 'urls'")
                key = "url" if "url" in spec else "urls"
                urls = (
                    _urls(spec[key], spec.value_pos[key], chk, name, checks) if key in spec else ()
                )
                rate = chk.convert(spec, "rate_limit", lambda v: parse_rate(str(v)))
                fmt = chk.choice(spec, "format", ("text", "markdown", "html"))
                concurrency = chk.number(spec, "concurrency", 1, 64)
            else:
                urls = _urls(spec, pos, chk, name, checks)
            channel = ChannelConfig(name=name, urls=urls, rate_limit=rate, format=fmt)
            if concurrency is not None:
                channel = replace(channel, concurrency=int(concurrency))
            out.append(channel)
    if "console" not in names:
        out.append(ChannelConfig(name="console", urls=("console://",)))
        names.append("console")
    return out, names


def _section(doc: YMap, key: str, keys: tuple[str, ...], chk: Checker) -> YMap:
    value = doc.get(key)
    if value is None:
        return YMap(doc.pos)
    if not isinstance(value, YMap):
        chk.wrong(doc, key, f"a mapping with {', '.join(keys)}")
        return YMap(doc.pos)
    chk.keys(value, keys, key)
    return value


def _template(m: YMap, key: str, chk: Checker, checks: ValueChecks) -> str | None:
    text = chk.text(m, key)
    if text is not None:
        try:
            SandboxedEnvironment().parse(text)
        except jinja2.TemplateSyntaxError as exc:
            chk.error(m.value_pos[key], f"{key} template, line {exc.lineno}: {exc.message}")
        else:
            if problem := checks.template(text, key):
                chk.error(m.value_pos[key], f"template '{key}': {problem}")
    return text


def _timezone(doc: YMap, chk: Checker) -> str:
    tz = chk.text(doc, "timezone")
    if tz is None:
        return "UTC"
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(tz, zoneinfo.available_timezones()) or " (an IANA name like Asia/Tokyo)"
        chk.error(doc.value_pos["timezone"], f"unknown time zone '{tz}'{hint}")
    return tz


def _state(doc: YMap, chk: Checker, base: Path, secrets: list[str]) -> str:
    state = chk.text(doc, "state") or "watchlist.db"
    if state.startswith(("postgresql://", "postgres://")):
        try:  # handed to libpq as written; its password is a secret wherever it came from
            parts = urlsplit(state)
            _ = parts.port
        except ValueError as exc:
            chk.error(
                doc.value_pos["state"],
                f"state: not a valid PostgreSQL URL ({exc}); "
                "write postgresql://user:${PGPASSWORD}@host:5432/dbname",
            )
            return state
        written = [parts.password or ""] + [v for k, v in parse_qsl(parts.query) if k == "password"]
        for password in filter(None, written):
            secrets.append(password)
            secrets.append(unquote(password))
        return state
    if _URL.match(state):
        chk.error(
            doc.value_pos["state"],
            "state must be a SQLite file path such as ./watchlist.db, "
            "or a PostgreSQL URL such as postgresql://user:${PGPASSWORD}@host/dbname",
        )
    return _local(state, base)


# ------------------------------------------------------------------ load_config


def load_config(
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    check_paths: bool = False,
    checks: ValueChecks = NO_CHECKS,
    unset_ok: bool = False,
    with_rules: bool = True,
    extra_rules: tuple[Path, ...] = (),
) -> Config:
    """The validated config in ``path`` with its rules; raises ConfigErrors listing every error.

    ``check_paths`` (for ``watchlist check``) also reports an rss source whose local file
    does not exist; the daemon itself only records such a source's error when it polls.
    ``checks`` judges channel URLs and templates (``watchlist.delivery.CONFIG_CHECKS``).
    ``unset_ok`` (read-only and admin commands, run from a shell without the daemon's
    secrets): an unset ``${VAR}`` stays as written and is named in ``Config.unset_vars``.
    ``with_rules=False`` reads config.yaml alone (no rule file can fail it; no rules).
    ``extra_rules`` are rule files read after the config's own (``watchlist check FILE``).
    """
    path = Path(path).expanduser().resolve()
    env = os.environ if env is None else env
    errors: list[ConfigError] = []
    secrets: list[str] = []
    chk = Checker(str(path), errors)
    try:
        doc = parse_yaml(path.read_bytes(), str(path), errors=errors)
    except ConfigErrors as exc:
        raise ConfigErrors(_unreadable(path, exc.errors)) from None
    except FileNotFoundError:
        hint = (
            "config file not found; to start, run `watchlist init` (a starter config.yaml"
            " and rules/ here), or pass -c FILE"
        )
        raise ConfigErrors([ConfigError(str(path), 0, 0, hint)]) from None
    except OSError as exc:
        raise ConfigErrors([ConfigError(str(path), 0, 0, f"cannot read: {exc.strerror}")]) from None
    if doc is None:
        doc = YMap(Pos(1, 1))
    if not isinstance(doc, YMap):
        chk.error(Pos(1, 1), "expected a mapping of settings")
        raise ConfigErrors(_unreadable(path, errors))
    base = path.parent
    chk.keys(doc, TOP_KEYS, "config")
    unset: list[str] | None = [] if unset_ok else None
    interpolate(doc, chk, env, secrets, unset)
    if unset:  # a channel URL still holding an unset ${VAR} is not Apprise's to judge
        inner = checks.channel_url
        checks = replace(checks, channel_url=lambda url: None if "${" in url else inner(url))
    timezone = _timezone(doc, chk)
    state = _state(doc, chk, base, secrets)
    channels, channel_names = _channels(doc, chk, checks)
    sources = _sources(doc, chk, base, secrets, check_paths)
    defaults = read_settings(_section(doc, "defaults", DEFAULT_KEYS, chk), chk, channel_names)
    templates = _section(doc, "templates", ("title", "body"), chk)
    delivery = _section(doc, "delivery", ("retry_horizon", "timeout"), chk)
    server = _section(doc, "server", ("listen", "token"), chk)
    server_config = _server(server, chk, secrets)
    logging = _section(doc, "logging", ("level", "format"), chk)
    server_listen = server_config.listen
    server_shares_listen(sources, server_listen, server, chk)
    rules_spec = chk.text(doc, "rules") or "rules/"
    files, problem = expand_rule_paths(rules_spec, base) if with_rules else ([], "")
    if problem:
        where = doc.value_pos.get("rules", Pos(0, 0))
        chk.error(where, problem if "rules" in doc else f"no rules: given, and {problem}")
    files += [f for f in (Path(e).resolve() for e in extra_rules) if f not in files]
    rules = collect_rules(files, defaults, channel_names, errors)
    config = Config(
        path=str(path),
        timezone=timezone,
        state=state,
        rules_path=rules_spec,
        rules=rules,
        rule_files=tuple(str(f) for f in files),
        sources=tuple(sources),
        channels=tuple(channels),
        templates=Templates(
            title=_template(templates, "title", chk, checks),
            body=_template(templates, "body", chk, checks),
        ),
        delivery=DeliveryConfig(
            retry_horizon=chk.convert(delivery, "retry_horizon", positive_duration)
            or timedelta(hours=24),
            timeout=chk.convert(delivery, "timeout", seconds) or 30.0,
        ),
        server=server_config,
        logging=LoggingConfig(
            level=chk.choice(logging, "level", ("debug", "info", "warning", "error")) or "info",
            format=chk.choice(logging, "format", ("text", "json")) or "text",
        ),
        secrets=tuple(dict.fromkeys(s for s in secrets if s)),
        archive=_archive(doc, chk),
        rule_defaults=tuple(defaults.items()),
        unset_vars=tuple(dict.fromkeys(unset or ())),
    )
    if errors:
        raise ConfigErrors(sort_errors(redact(errors, secrets)))
    return config


def _unreadable(path: Path, errors: list[ConfigError]) -> list[ConfigError]:
    """``errors`` of a config that cannot be read as settings, plus those of the rule files in
    the default ``rules/`` folder beside it (channel names unchecked: they are unknown)."""
    errors = list(errors)
    files, problem = expand_rule_paths("rules/", path.parent)
    if not problem:
        collect_rules(files, {}, None, errors)
    return sort_errors(errors)


def _archive(doc: YMap, chk: Checker) -> timedelta | None:
    """``archive:`` (default 30d); None when ``off``."""
    try:
        return parse_archive(doc.get("archive", "30d"))
    except ValueError as exc:
        chk.error(doc.value_pos["archive"], f"archive: {exc}")
        return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (of ``host:port``) is this machine only: localhost, 127.0.0.0/8, ::1."""
    host = host.strip("[]").lower()
    if host in ("localhost", "::1"):
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() for p in parts)


def _server(m: YMap, chk: Checker, secrets: list[str]) -> ServerConfig:
    """``server:``; listening beyond loopback without a token is refused (the page acts)."""
    listen = chk.convert(m, "listen", _optional_listen) or ""
    token = chk.text(m, "token") or ""
    if token:
        secrets.append(token)
    host = listen.rpartition(":")[0]
    if listen and not token and not is_loopback(host):
        chk.error(
            m.value_pos["listen"],
            f"server listens on {host}, beyond this machine, without a token: anyone who can"
            " reach it could mute rules and drop alerts; set server.token (such as"
            " ${WATCHLIST_WEB_TOKEN}) or listen on 127.0.0.1",
        )
    return ServerConfig(listen=listen, token=token)


def _optional_listen(value: Any) -> str:
    return "" if value in ("", None) else parse_listen(value)
