"""Terminal-safe output: control characters in what we print are shown, never obeyed.

Article titles and bodies come from strangers; an escape sequence in one (``ESC ]``,
``ESC [2J``, a carriage return, a bidi override) must not repaint, retitle or hide
anything on the reader's terminal. ``escape_controls`` writes each such character
as a visible ``\\x1b`` / ``\\u202e``; ``make_output_safe`` wraps standard output and
standard error with it once per process (``cli.main`` calls it first), so every
command's output, ``console://`` alerts and the text logs are covered alike.
Newline and tab pass through.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character but newline and tab written out visibly."""
    return _CONTROL.sub(_visible, text)


class SafeStream:
    """A text stream that escapes control characters on the way to ``raw``."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        """Write ``text`` escaped; the length given (as ``TextIO.write`` counts)."""
        self.raw.write(escape_controls(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        """Write each line escaped."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def make_output_safe() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` in ``SafeStream`` (once; idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, SafeStream):
            setattr(sys, name, SafeStream(stream))
