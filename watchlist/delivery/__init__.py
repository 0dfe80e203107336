"""Delivery: the outbox worker, its run guard, Apprise sends, templates, the outbox in words.

Lives here: ``worker`` (sends due outbox rows, retries with backoff, records every
attempt), ``runguard`` (one run's time budget and stop flag), ``send`` (one message
through Apprise, and ``console://``), ``templates`` (sandboxed Jinja2 title and
body), ``describe`` (where each undelivered row stands, in words) and ``queue`` (the
``OutboxQueue`` Protocol: what delivery needs of a store).

May import: ``decide``, ``match``, ``config``, ``models``, ``faults``; never a store
or a source (the daemon hands the worker its store). Only this package imports
apprise. ``CONFIG_CHECKS`` lends config loading the checks only delivery can make.
"""

from __future__ import annotations

from watchlist.config.loader import ValueChecks


def _channel_url(url: str) -> str | None:
    if url.split("://", 1)[0].strip().lower() == "console":
        return None  # our own built-in: no need to load Apprise to know it
    from watchlist.delivery.send import check_url  # Apprise loads only when a URL is checked

    return check_url(url)


def _template(source: str, what: str) -> str | None:
    from watchlist.delivery.templates import template_problem

    return template_problem(source, what)


CONFIG_CHECKS = ValueChecks(channel_url=_channel_url, template=_template)

__all__ = ["CONFIG_CHECKS"]
