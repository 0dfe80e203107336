"""The one exception sources raise for bad input: ``SourceError``, a message for users."""

from __future__ import annotations

__all__ = ["SourceError"]


class SourceError(Exception):
    """Input a source cannot use: the message names the input and, where it can, the fix."""

    def __init__(self, message: str, *, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The server's Retry-After header (seconds or an HTTP date), when it sent one.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message
