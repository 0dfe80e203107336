"""The keys of an ``http`` (ingest) source, and the checks that keep ingest from being open.

An http source listening beyond loopback must have a ``token`` or say
``insecure: true`` (a trusted network); two http sources may not share one
address. Both are config errors, so ``watchlist check`` fails and the daemon
refuses to start rather than take unauthenticated posts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from watchlist.config.checker import Checker
from watchlist.config.durations import listen_is_loopback, parse_listen
from watchlist.config.yamlsafe import YMap
from watchlist.models import SourceConfig


def http_fields(m: YMap, chk: Checker, name: str | None, secrets: list[str]) -> dict[str, Any]:
    """``listen``, ``token`` and ``insecure`` of one http source, with their errors."""
    fields: dict[str, Any] = {"listen": chk.convert(m, "listen", parse_listen) or ""}
    if (token := chk.text(m, "token")) is not None:
        secrets.append(token)
        fields["token"] = token
    fields["insecure"] = bool(chk.boolean(m, "insecure"))
    listen = fields["listen"]
    open_to_all = listen and not listen_is_loopback(listen)
    if open_to_all and not fields.get("token") and not fields["insecure"]:
        chk.error(
            m.value_pos["listen"],
            f"source '{name}' listens on {listen}, beyond this machine, without a token: "
            "anyone who reaches it could post articles; set token: (such as "
            "${WATCHLIST_INGEST_TOKEN}), listen on 127.0.0.1, or set insecure: true on a "
            "trusted network",
        )
    return fields


def shared_listen(src: SourceConfig, before: Sequence[SourceConfig]) -> str | None:
    """The error when enabled http source ``src`` takes the address of an earlier one."""
    if src.type != "http" or not src.listen or not src.enabled:
        return None
    for other in before:
        if other.type == "http" and other.enabled and other.listen == src.listen:
            return (
                f"source '{src.name}' listens on {src.listen}, like source '{other.name}': "
                "give each http source its own port"
            )
    return None
