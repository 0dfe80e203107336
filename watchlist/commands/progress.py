"""A progress bar on standard error for long runs (``scan``, ``backtest``), only on a terminal.

``progress_bar(label, total)`` yields ``update(done)``; when standard error is not a
terminal (piped, redirected, a test's subprocess) nothing is drawn and ``update`` does
nothing, so output that goes to a file or another program never carries bar lines.
The bar is drawn by rich and removed when done; standard output, when piped, is left
alone (rich would otherwise carry it to the terminal).
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
    label: str,
    total: int | None,
    *,
    unit: str = "articles",
    bytes_: bool = False,
    enabled: bool = True,
) -> Iterator[Callable[[int], None]]:
    """``update(done)`` for a bar of ``total`` items (or bytes, with ``bytes_``); a no-op
    when standard error is not a terminal or ``enabled`` is false. ``total`` None draws a
    counter without an end."""
    if not (enabled and on_terminal()):
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
    # Output printed while the bar is up goes above it only when stdout is this terminal
    # too; piped output is never redirected.
    shared = sys.stdout.isatty()
    with Progress(
        *columns,
        console=Console(stderr=True),
        transient=True,
        redirect_stdout=shared,
        redirect_stderr=False,
    ) as bar:
        task = bar.add_task(label, total=total)

        def update(done: int) -> None:
            bar.update(task, completed=done)

        yield update
