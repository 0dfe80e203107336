"""``${VAR}`` in config values: replaced from the environment, each value taken kept as a secret.

``$${`` writes a literal ``${``; ``${VAR:-default}`` falls back when VAR is unset.
An unset variable, or a ``${`` that is not a variable, is an error at the value's
position that names the variable and how to fix it. Read-only commands pass an
``unset`` list instead: an unset variable then stays written as ``${VAR}`` and its name
is collected, so ``status`` works from a shell that lacks the daemon's secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from watchlist.config.checker import Checker
from watchlist.config.yamlsafe import YMap, YSeq

_VAR = re.compile(r"\$\$\{|\$\{([^}]*)(\})?")
_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.S)
__all__ = ["interpolate", "substitute"]


def substitute(
    text: str, env: Mapping[str, str], secrets: list[str], unset: list[str] | None = None
) -> tuple[str, list[str]]:
    """``text`` with ${VAR} replaced; returns (result, problems). On problems, ``text`` as is.

    With ``unset`` given, an unset variable is no problem: it stays ``${VAR}`` and its name
    is appended to ``unset``."""
    problems: list[str] = []
    found: list[str] = []

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$${":
            return "${"
        body, closed = m.group(1), m.group(2)
        name = _NAME.fullmatch(body) if closed else None
        if name is None:
            what = "unclosed '${'" if not closed else f"'${{{body}}}' is not a variable name"
            problems.append(f"{what}; write $${{ for a literal ${{")
            return ""
        value = env.get(name.group(1))
        if value is None and name.group(2) is not None:
            return name.group(2)
        if value is None and unset is not None:
            unset.append(name.group(1))
            return m.group(0)
        if value is None:
            var = name.group(1)
            problems.append(
                f"environment variable {var} is not set; set it, or write ${{{var}:-default}}"
            )
            return ""
        found.append(value)
        return value

    result = _VAR.sub(one, text)
    if problems:
        return text, problems
    secrets.extend(found)
    return result, []


def interpolate(
    node: Any,
    chk: Checker,
    env: Mapping[str, str],
    secrets: list[str],
    unset: list[str] | None = None,
) -> None:
    """Replace ${VAR} in every text value of the tree, in place (``unset``: see substitute)."""
    if isinstance(node, YMap):
        slots: Any = list(node)
        positions: Any = node.value_pos
    elif isinstance(node, YSeq):
        slots, positions = range(len(node)), node.item_pos
    else:
        return
    for slot in slots:  # a key of a mapping or an index of a sequence
        value = node[slot]
        if isinstance(value, str) and "$" in value:
            node[slot], problems = substitute(value, env, secrets, unset)
            node.raw[slot] = node[slot]
            for problem in problems:
                chk.error(positions[slot], problem)
        else:
            interpolate(value, chk, env, secrets, unset)
