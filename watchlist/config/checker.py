"""Typed reads from parsed YAML mappings that record a ``path:line:column`` error when wrong.

A :class:`Checker` never raises: each wrong value becomes one ConfigError in the
shared list (with a did-you-mean hint where one fits) and reads as None, so
validation goes on and reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

from watchlist.config.errors import ConfigError, describe, did_you_mean
from watchlist.config.yamlsafe import Pos, YMap, YSeq

T = TypeVar("T")
__all__ = ["Checker"]


class Checker:
    """Typed reads from YMaps that record an error (and return None) when a value is wrong."""

    def __init__(self, path: str, errors: list[ConfigError]) -> None:
        self.path = path
        self.errors = errors

    def error(self, pos: Pos, message: str) -> None:
        """Record one error at ``pos``."""
        self.errors.append(ConfigError(self.path, pos.line, pos.column, message))

    def keys(self, m: YMap, allowed: Collection[str], where: str) -> None:
        """An error for every key of ``m`` not in ``allowed``, with a did-you-mean hint."""
        for key in m:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"; known keys: {', '.join(allowed)}"
                self.error(m.key_pos[key], f"unknown key '{key}' in {where}{hint}")

    def wrong(self, m: YMap, key: str, expected: str) -> None:
        """A wrong-type error for ``m[key]``."""
        self.error(m.value_pos[key], f"{key}: expected {expected}, found {describe(m[key])}")

    def text(self, m: YMap, key: str, *, required: str = "") -> str | None:
        """A non-empty text value (numbers are read as written); ``required`` names the owner."""
        if key not in m:
            if required:
                self.error(m.pos, f"{required} needs '{key}'")
            return None
        value, raw = m[key], m.raw[key]
        if isinstance(value, str) and value.strip():
            return value
        if value is not None and raw is not None and not isinstance(value, str):
            return raw
        self.wrong(m, key, "text")
        return None

    def boolean(self, m: YMap, key: str) -> bool | None:
        """true or false."""
        if key not in m:
            return None
        if isinstance(m[key], bool):
            return bool(m[key])
        self.wrong(m, key, "true or false")
        return None

    def number(self, m: YMap, key: str, low: float, high: float) -> float | None:
        """A number from ``low`` to ``high``."""
        if key not in m:
            return None
        value = m[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.wrong(m, key, f"a number from {low:g} to {high:g}")
            return None
        if not low <= value <= high:
            self.error(m.value_pos[key], f"{key} must be from {low:g} to {high:g}, not {value:g}")
            return None
        return float(value)

    def choice(self, m: YMap, key: str, choices: Collection[str]) -> str | None:
        """One of ``choices``."""
        if key not in m:
            return None
        value = m[key]
        if isinstance(value, str) and value in choices:
            return value
        quoted = [f"'{c}'" for c in choices]
        options = ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else quoted[0]
        if isinstance(value, str):
            hint = did_you_mean(value, choices)
            self.error(m.value_pos[key], f"{key} must be {options}, not '{value}'{hint}")
        else:
            self.wrong(m, key, options)
        return None

    def convert(self, m: YMap, key: str, parse: Callable[[Any], T]) -> T | None:
        """``parse(m[key])``; its ValueError message becomes the error."""
        if key not in m:
            return None
        try:
            return parse(m[key])
        except (ValueError, TypeError) as exc:
            self.error(m.value_pos[key], f"{key}: {exc}")
            return None

    def text_list(self, m: YMap, key: str) -> list[tuple[str, Pos]] | None:
        """A list of texts (or one text) with each one's position."""
        if key not in m:
            return None
        value = m[key]
        if isinstance(value, str) and value.strip():
            return [(value, m.value_pos[key])]
        if not isinstance(value, YSeq):
            self.wrong(m, key, "a list of names")
            return None
        out: list[tuple[str, Pos]] = []
        for item, pos, raw in zip(value, value.item_pos, value.raw, strict=True):
            if isinstance(item, str) and item.strip():
                out.append((item, pos))
            elif item is not None and raw is not None and not isinstance(item, str):
                out.append((raw, pos))
            else:
                self.error(pos, f"{key}: expected a name, found {describe(item)}")
        return out
