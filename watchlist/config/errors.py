"""User-facing config errors: ``path:line:column: message``, collected, never stopping at one.

Every problem found in config.yaml or a rule file becomes a :class:`ConfigError`;
loaders gather them all and raise one :class:`ConfigErrors`. Paths are shown as
the user would recognise them: relative to the working folder when below it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the current folder when it lies below it, else as given."""
    p = Path(path)
    if not p.is_absolute():
        return str(p)
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(value: Any) -> str:
    """How a value reads in an error message: ``a list``, ``the text 'x'``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text '{shown}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class ConfigError:
    """One problem at a place in a file; line and column are 1-based (0 = the whole file)."""

    path: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        where = display_path(self.path)
        if self.line <= 0:
            return f"{where}: {self.message}"
        return f"{where}:{self.line}:{self.column}: {self.message}"


class ConfigErrors(Exception):
    """Every error found while loading config and rules; ``str()`` is one error per line."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors: list[ConfigError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def redact(errors: Iterable[ConfigError], secrets: Iterable[str]) -> list[ConfigError]:
    """The errors with every secret (as a whole word) in their messages replaced by ``***``."""
    hidden = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not hidden:
        return list(errors)
    words = "|".join(re.escape(s) for s in hidden)
    pattern = re.compile(f"(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])")
    return [ConfigError(e.path, e.line, e.column, pattern.sub("***", e.message)) for e in errors]


def sort_errors(errors: Iterable[ConfigError]) -> list[ConfigError]:
    """Errors grouped by file (in order of first appearance), then by position."""
    order: dict[str, int] = {}
    items = list(errors)
    for e in items:
        order.setdefault(e.path, len(order))
    unique = list(dict.fromkeys(items))
    return sorted(unique, key=lambda e: (order[e.path], e.line, e.column))
