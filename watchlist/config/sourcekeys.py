"""Source keys beyond the basics: an rss source's ``headers:``, and listeners that collide.

Used by ``loader``; each reports problems through the ``Checker`` at the value's place.
"""

from __future__ import annotations

import re

from watchlist.config.checker import Checker
from watchlist.config.yamlsafe import YMap, describe
from watchlist.models import SourceConfig

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def read_headers(m: YMap, chk: Checker, secrets: list[str]) -> tuple[tuple[str, str], ...]:
    """An rss source's ``headers:`` (name: value, ${VAR} allowed); every value is a secret."""
    value = m["headers"]
    if not isinstance(value, YMap):
        chk.wrong(m, "headers", "a mapping of header names to values, such as Authorization: ...")
        return ()
    out = []
    for name, text in value.items():
        pos = value.value_pos[name]
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            chk.error(value.key_pos[name], f"headers: '{name}' is not an HTTP header name")
        elif not isinstance(text, (str, int)) or isinstance(text, bool):
            chk.error(pos, f"headers: {name}: expected text, found {describe(text)}")
        elif "\n" in str(text) or "\r" in str(text):
            chk.error(pos, f"headers: {name}: a header value is one line")
        else:
            secrets.append(str(text))
            out.append((name, str(text)))
    return tuple(out)


def shared_listen(sources: list[SourceConfig], listen: str, server: YMap, chk: Checker) -> None:
    """An http source and ``server.listen`` on one address: the second bind would fail."""
    if not listen:
        return
    host, _, port = listen.rpartition(":")
    for src in sources:
        s_host, _, s_port = (src.listen or "").rpartition(":")
        wild = {"0.0.0.0", "::", "[::]", ""}
        if src.type == "http" and s_port == port and (s_host == host or {s_host, host} & wild):
            chk.error(
                server.value_pos["listen"],
                f"server.listen {listen} is also where source '{src.name}' listens"
                f" ({src.listen}); give one of them another port",
            )
