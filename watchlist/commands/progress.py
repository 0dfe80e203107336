"""A progress bar on standard error for long runs (``scan``, ``backtest``), only on a terminal.

``progress_bar(label, total)`` yields ``update(done)``; when standard error is not a
terminal (piped, redirected, a test's subprocess) nothing is drawn and ``update`` does
nothing, so output that goes to a file or another program never carries bar lines.
The bar is drawn by rich and removed when done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def on_terminal() -> bool:
    """Whether standard error is a terminal (where a bar can be drawn and erased)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _nothing(_done: int) -> None:
    return None


@contextmanager
def progress_bar(
    label: str, total: int | None, *, unit: str = "articles", bytes_: bool = False
) -> Iterator[Callable[[int], None]]:
    """``update(done)`` for a bar of ``total`` items (or bytes, with ``bytes_``); a no-op
    when standard error is not a terminal. ``total`` None draws a counter without an end."""
    if not on_terminal():
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    count = DownloadColumn() if bytes_ else MofNCompleteColumn()
    columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), count]
    if not bytes_:
        columns.append(TextColumn(unit))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int) -> None:
            bar.update(task, completed=done)

        yield update
