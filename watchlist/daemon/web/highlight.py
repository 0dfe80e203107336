"""Pure helpers of the web page: text with hits highlighted (escaped), a rule's YAML from its file.

``highlight`` escapes every piece of article text and wraps each hit in ``<mark>``, so
a title such as ``<script>alert(1)</script>`` is shown as text. ``rule_yaml`` cuts
one rule's lines out of the file it came from (``Rule.origin`` is ``path:line``), for
the rule tester's text area.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

from markupsafe import Markup, escape


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    """``text`` escaped, with each ``(start, end)`` span (merged if they overlap) in ``<mark>``."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = Markup()
    at = 0
    for start, end in merged:
        out += escape(text[at:start]) + Markup("<mark>") + escape(text[start:end])
        out += Markup("</mark>")
        at = end
    return out + escape(text[at:])


def field_spans(hits: Iterable[dict[str, object]], field: str) -> list[tuple[int, int]]:
    """The (start, end) of every hit in ``field``."""
    return [
        (int(h["start"]), int(h["end"]))  # type: ignore[call-overload]
        for h in hits
        if h.get("field") == field
    ]


def rule_yaml(origin: str) -> str:
    """The YAML of the rule defined at ``origin`` (``path:line``), dedented; "" if unreadable.

    The rule runs from its line to the next line indented no deeper than the rule's
    ``-`` (or its first key, in a file of one mapping per rule list item).
    """
    path, _, line_text = origin.rpartition(":")
    if not line_text.isdigit():
        return ""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    first = int(line_text) - 1
    if not 0 <= first < len(lines):
        return ""
    head = lines[first]
    indent = len(head) - len(head.lstrip())
    body = head[indent:]
    if body.startswith("- "):
        body = body[2:]
        inner = indent + 2 + len(body) - len(body.lstrip())
        out = [" " * inner + body.lstrip()]
    else:
        inner = indent
        out = [head]
    for text in lines[first + 1 :]:
        stripped = text.strip()
        depth = len(text) - len(text.lstrip())
        if stripped and (depth < inner or (depth == indent and stripped.startswith("- "))):
            break
        out.append(text)
    while out and not out[-1].strip():
        out.pop()
    return textwrap.dedent("\n".join(out)) + "\n"
