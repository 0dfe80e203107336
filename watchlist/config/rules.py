"""Loading rules/*.yaml into validated ``Rule`` values, collecting every error.

A rule file is a list of rules, or a mapping with ``rules:`` and ``watchlists:``
(named entity lists usable from any rule in any file). Files are read in two
passes: watchlists from every file first, then the rules. ``defaults`` from
config.yaml fill what a rule does not set itself.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from croniter import croniter

from watchlist.config.checker import Checker
from watchlist.config.durations import parse_duration
from watchlist.config.errors import (
    ConfigError,
    ConfigErrors,
    did_you_mean,
    display_path,
    sort_errors,
)
from watchlist.config.examples import read_examples
from watchlist.config.yamlsafe import Pos, YMap, YSeq, describe, parse_yaml
from watchlist.models import FIELDS, GROUPS, Entry, Rule

RULE_KEYS: tuple[str, ...] = (
    "name",
    "description",
    *GROUPS,
    "exclude",
    "require",
    "fields",
    "threshold",
    "notify",
    "priority",
    "cooldown",
    "quiet_hours",
    "digest",
    "enabled",
    "examples",
)
ENTRY_KEYS: tuple[str, ...] = (
    "name",
    "aliases",
    "exact",
    "case_sensitive",
    "threshold",
    "tickers",
    "context",
    "not_context",
    "ambiguous",
)
DEFAULT_KEYS: tuple[str, ...] = (
    "threshold",
    "notify",
    "cooldown",
    "priority",
    "require",
    "fields",
    "quiet_hours",
    "digest",
)
FILE_KEYS: tuple[str, ...] = ("rules", "watchlists")
DEFAULT_NOTIFY: tuple[str, ...] = ("console",)
_CLOCK = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


# ------------------------------------------------------------------ value parsers


def parse_quiet_hours(value: Any) -> tuple[time, time]:
    """``"22:00-07:00"`` -> (22:00, 07:00); the window may cross midnight."""
    m = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    if not m:
        raise ValueError(f'expected a time range like "22:00-07:00", found {describe(value)}')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"'{value}' has a time outside 00:00-23:59")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError(f"'{value}' starts and ends at the same time")
    return start, end


def parse_cron(value: Any) -> str:
    """A 5-field cron expression (minute hour day month weekday), checked with croniter."""
    if not isinstance(value, str) or len(value.split()) != 5 or not croniter.is_valid(value):
        raise ValueError(
            'expected a 5-field cron expression like "0 8 * * *" (minute hour day month '
            f"weekday), found {describe(value)}"
        )
    return " ".join(value.split())


def _duration(value: Any) -> timedelta:
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 6h or 30m, found {describe(value)}")
    return parse_duration(value)


def expand_rule_paths(spec: str, base: Path) -> tuple[list[Path], str]:
    """The rule files ``spec`` names (a file, a folder or a glob, relative to ``base``).

    Returns (files, problem): ``problem`` is "" or a message for the user.
    """
    target = (base / Path(spec).expanduser()).resolve() if spec else base
    if any(c in spec for c in "*?["):
        pattern = str(base / spec) if not Path(spec).is_absolute() else spec
        files = sorted(Path(p).resolve() for p in glob.glob(pattern, recursive=True))
        files = [f for f in files if f.is_file()]
        return files, "" if files else f"no rule files match '{spec}'"
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            return [], f"the rules folder '{spec}' has no *.yaml or *.yml files; add a rule file"
        return files, ""
    if target.is_file():
        return [target], ""
    return [], f"'{spec}' does not exist; create it or point rules: at a file, folder or glob"


# ------------------------------------------------------------------ reading


@dataclass
class _Context:
    channels: Collection[str] | None
    watchlists: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    watchlist_at: dict[str, str] = field(default_factory=dict)
    names_at: dict[str, str] = field(default_factory=dict)
    errors: list[ConfigError] = field(default_factory=list)


def read_settings(m: YMap, chk: Checker, channels: Collection[str] | None) -> dict[str, Any]:
    """The shared keys of a rule or of ``defaults:``, parsed: only those present and valid."""
    out: dict[str, Any] = {}
    if (threshold := chk.number(m, "threshold", 0, 100)) is not None:
        out["threshold"] = threshold
    if (names := chk.text_list(m, "notify")) is not None:
        for name, pos in names:
            if channels is not None and name not in channels:
                hint = did_you_mean(name, channels) or "; declare it under channels: in config.yaml"
                chk.error(pos, f"unknown channel '{name}'{hint}")
        out["notify"] = tuple(dict.fromkeys(n for n, _ in names))
        if not names:
            chk.error(
                m.value_pos["notify"],
                "notify: [] would record matches and send them nowhere; name a channel"
                " (console prints them), or set enabled: false",
            )
    if (cooldown := chk.convert(m, "cooldown", _duration)) is not None:
        out["cooldown"] = cooldown
    if (priority := chk.choice(m, "priority", ("normal", "high"))) is not None:
        out["priority"] = priority
    if (require := chk.choice(m, "require", ("all", "any"))) is not None:
        out["require"] = require
    if (fields := chk.text_list(m, "fields")) is not None:
        good = []
        for name, pos in fields:
            if name in FIELDS:
                good.append(name)
            else:
                options = ", ".join(FIELDS)
                chk.error(pos, f"unknown field '{name}'{did_you_mean(name, FIELDS)}; use {options}")
        if not fields:
            chk.error(m.value_pos["fields"], "fields: list at least one of title, summary, body")
        out["fields"] = tuple(dict.fromkeys(good))
    if (quiet := chk.convert(m, "quiet_hours", parse_quiet_hours)) is not None:
        out["quiet_hours"] = quiet
    if (digest := chk.convert(m, "digest", parse_cron)) is not None:
        out["digest"] = digest
    return out


def _entry(value: Any, pos: Pos, raw: str | None, chk: Checker, key: str) -> Entry | None:
    if isinstance(value, str) and value.strip():
        return Entry(name=value.strip())
    if isinstance(value, int | float) and raw is not None:
        return Entry(name=raw)
    if not isinstance(value, YMap):
        chk.error(pos, f"{key}: expected a name or a mapping with name:, found {describe(value)}")
        return None
    chk.keys(value, ENTRY_KEYS, f"an entry of {key}")
    name = chk.text(value, "name", required=f"an entry of {key}")
    aliases = chk.text_list(value, "aliases") or []
    exact = chk.boolean(value, "exact")
    case_sensitive = chk.boolean(value, "case_sensitive")
    threshold = chk.number(value, "threshold", 0, 100)
    tickers = chk.text_list(value, "tickers") or []
    context = chk.text_list(value, "context") or []
    not_context = chk.text_list(value, "not_context") or []
    ambiguous = chk.boolean(value, "ambiguous")
    if name is None:
        return None
    return Entry(
        name=name.strip(),
        aliases=tuple(a.strip() for a, _ in aliases),
        exact=bool(exact),
        case_sensitive=bool(case_sensitive),
        threshold=threshold,
        tickers=tuple(t.strip() for t, _ in tickers),
        context=tuple(c.strip() for c, _ in context),
        not_context=tuple(c.strip() for c, _ in not_context),
        ambiguous=ambiguous,
    )


def _entries(value: Any, pos: Pos, chk: Checker, key: str) -> tuple[Entry, ...]:
    if not isinstance(value, YSeq):
        chk.error(pos, f"{key}: expected a list of entries, found {describe(value)}")
        return ()
    if not value:
        chk.error(pos, f"{key} is empty; list at least one entry or remove the key")
    found = (
        _entry(item, ipos, raw, chk, key)
        for item, ipos, raw in zip(value, value.item_pos, value.raw, strict=True)
    )
    return tuple(e for e in found if e is not None)


def _group(m: YMap, key: str, chk: Checker, ctx: _Context) -> tuple[Entry, ...]:
    if key not in m:
        return ()
    value, pos = m[key], m.value_pos[key]
    if isinstance(value, str):
        if value in ctx.watchlists:
            return ctx.watchlists[value]
        hint = did_you_mean(value, ctx.watchlists) or (
            f"; a string names a watchlist: to list entries, write {key}: [{value}],"
            " or declare it under watchlists:"
        )
        chk.error(pos, f"unknown watchlist '{value}'{hint}")
        return ()
    return _entries(value, pos, chk, key)


def _rule(
    m: Any, pos: Pos, chk: Checker, ctx: _Context, defaults: Mapping[str, Any]
) -> Rule | None:
    if not isinstance(m, YMap):
        chk.error(
            pos, f"expected a rule (a mapping with name: and topics:...), found {describe(m)}"
        )
        return None
    chk.keys(m, RULE_KEYS, "a rule")
    name = chk.text(m, "name", required="a rule")
    if name is not None:
        here = f"{display_path(chk.path)}:{m.value_pos['name'].line}"
        first = ctx.names_at.setdefault(name, here)
        if first != here:
            chk.error(
                m.value_pos["name"], f"duplicate rule name '{name}' (first defined at {first})"
            )
    groups: dict[str, Any] = {g: _group(m, g, chk, ctx) for g in GROUPS}
    if not any(g in m for g in GROUPS) and not any(did_you_mean(k, GROUPS) for k in m):
        label = f"rule '{name}'" if name else "a rule"
        chk.error(m.pos, f"{label} needs at least one of topics, companies, exchanges, keywords")
    exclude = _group(m, "exclude", chk, ctx)
    settings = {**defaults, **read_settings(m, chk, ctx.channels)}
    description = chk.text(m, "description") or ""
    enabled = chk.boolean(m, "enabled")
    examples = read_examples(m, chk)
    if name is None:
        return None
    settings.setdefault("notify", DEFAULT_NOTIFY)
    return Rule(
        name=name,
        description=description,
        exclude=exclude,
        enabled=True if enabled is None else enabled,
        origin=f"{chk.path}:{m.pos.line}",
        examples=examples,
        **groups,
        **settings,
    )


def _read_watchlists(doc: Any, chk: Checker, ctx: _Context) -> None:
    if not isinstance(doc, YMap) or "watchlists" not in doc:
        return
    lists = doc["watchlists"]
    if not isinstance(lists, YMap):
        chk.wrong(doc, "watchlists", "a mapping of names to lists of entries")
        return
    for name, value in lists.items():
        here = f"{display_path(chk.path)}:{lists.key_pos[name].line}"
        first = ctx.watchlist_at.setdefault(name, here)
        if first != here:
            msg = f"duplicate watchlist '{name}' (first defined at {first})"
            chk.error(lists.key_pos[name], msg)
            continue
        ctx.watchlists[name] = _entries(value, lists.value_pos[name], chk, f"watchlist '{name}'")


def _rule_items(doc: Any, chk: Checker) -> list[tuple[Any, Pos]]:
    if doc is None:
        return []
    if isinstance(doc, YMap) and not any(k in doc for k in FILE_KEYS) and "name" in doc:
        chk.error(
            doc.pos,
            "this file is one rule written as a mapping; a rule file is a list of rules:"
            " start the rule with '- ' (and indent its other lines by two spaces)",
        )
        return []
    if isinstance(doc, YMap):
        chk.keys(doc, FILE_KEYS, "a rule file")
        if "rules" not in doc:
            if "watchlists" not in doc:
                chk.error(doc.pos, "a rule file needs 'rules:' (a list of rules)")
            return []
        doc_rules = doc["rules"]
        if not isinstance(doc_rules, YSeq):
            chk.wrong(doc, "rules", "a list of rules")
            return []
        return list(zip(doc_rules, doc_rules.item_pos, strict=True))
    if isinstance(doc, YSeq):
        return list(zip(doc, doc.item_pos, strict=True))
    chk.error(
        Pos(1, 1), f"expected a list of rules or a mapping with rules:, found {describe(doc)}"
    )
    return []


def collect_rules(
    paths: Sequence[Path],
    defaults: Mapping[str, Any],
    channels: Collection[str] | None,
    errors: list[ConfigError],
) -> tuple[Rule, ...]:
    """Every rule in ``paths`` (files, read in order); problems are appended to ``errors``."""
    ctx = _Context(channels=channels)
    docs: list[tuple[Any, Checker]] = []
    for path in paths:
        chk = Checker(str(path), ctx.errors)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            chk.error(Pos(0, 0), "rule file not found; check the path")
            continue
        except OSError as exc:
            chk.error(Pos(0, 0), f"cannot read rule file: {exc.strerror}")
            continue
        try:
            doc = parse_yaml(data, str(path), errors=ctx.errors)
        except ConfigErrors as exc:
            ctx.errors.extend(exc.errors)
            continue
        docs.append((doc, chk))
        _read_watchlists(doc, chk, ctx)
    rules: list[Rule] = []
    for doc, chk in docs:
        for item, pos in _rule_items(doc, chk):
            rule = _rule(item, pos, chk, ctx, defaults)
            if rule is not None:
                rules.append(rule)
    errors.extend(ctx.errors)
    return tuple(rules)


def _coerce_defaults(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults given as plain values (e.g. ``{"cooldown": "6h"}``) turned into Rule fields."""
    out: dict[str, Any] = {}
    for key, value in defaults.items():
        if key not in DEFAULT_KEYS:
            raise ValueError(f"unknown default '{key}'{did_you_mean(key, DEFAULT_KEYS)}")
        if key == "cooldown" and isinstance(value, str):
            value = parse_duration(value)
        elif key == "quiet_hours" and isinstance(value, str):
            value = parse_quiet_hours(value)
        elif key in ("notify", "fields"):
            value = (value,) if isinstance(value, str) else tuple(value)
        elif key == "threshold":
            value = float(value)
        out[key] = value
    return out


def load_rules(
    paths: Sequence[Path],
    *,
    defaults: Mapping[str, Any] | None = None,
    channels: Collection[str] | None = None,
) -> tuple[Rule, ...]:
    """Rules from rule files, folders or globs, without a config; raises ConfigErrors on errors.

    ``defaults`` are Rule field values every rule inherits unless it sets its own;
    ``channels`` None means channel names are not checked.
    """
    files: list[Path] = []
    errors: list[ConfigError] = []
    for p in paths:
        if Path(p).is_dir() or any(c in str(p) for c in "*?["):
            found, problem = expand_rule_paths(display_path(p), Path.cwd())
            if problem:
                errors.append(ConfigError(str(p), 0, 0, problem))
            files.extend(found)
        else:
            files.append(Path(p))
    rules = collect_rules(files, _coerce_defaults(defaults or {}), channels, errors)
    if errors:
        raise ConfigErrors(sort_errors(errors))
    return rules


def rule_from_text(
    text: str,
    label: str,
    files: Sequence[Path],
    defaults: Mapping[str, Any],
    channels: Collection[str] | None,
) -> Rule:
    """One rule from YAML ``text`` (a rule mapping, or a list of one), for the rule tester.

    Watchlists come from the rule ``files``; errors read ``label:line:column`` in the
    text's own lines (problems in the files are not the text's and are left out).
    Raises ConfigErrors.
    """
    ctx = _Context(channels=channels)
    for path in files:
        try:
            doc = parse_yaml(path.read_bytes(), str(path), errors=[])
        except (OSError, ConfigErrors):
            continue
        _read_watchlists(doc, Checker(str(path), []), ctx)
    ctx.errors = []
    chk = Checker(label, ctx.errors)
    doc = parse_yaml(text.encode("utf-8"), label, errors=ctx.errors)
    if isinstance(doc, YSeq) and len(doc) == 1:
        doc, pos = doc[0], doc.item_pos[0]
    else:
        pos = Pos(1, 1)
    rule = _rule(doc, pos, chk, ctx, defaults)
    if ctx.errors or rule is None:
        raise ConfigErrors(sort_errors(ctx.errors))
    return rule
