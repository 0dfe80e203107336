"""The snippet of an alert: the best hit with the text around it, whitespace squashed.

Pure: an ``Article`` and its hits in, a ``Snippet`` out. The store keeps it with the
alert, and delivery's templates highlight it for each format.
"""

from __future__ import annotations

from collections.abc import Sequence

from watchlist.models import Article, Hit, Snippet

CONTEXT_CHARS = 80


def make_snippet(article: Article, hits: Sequence[Hit], width: int = CONTEXT_CHARS) -> Snippet:
    """The best hit (title first, then summary, then body) with ``width`` characters each side."""
    if not hits:
        text = article.summary or article.body
        return Snippet(before=squash(text[: 2 * width]))
    order = {"title": 0, "summary": 1, "body": 2}
    best = min(hits, key=lambda h: (order.get(h.field, 3), -h.score, h.start))
    text = article.field(best.field) if best.field in order else ""
    start, end = max(0, best.start), min(len(text), best.end)
    before = text[max(0, start - width) : start]
    after = text[end : end + width]
    return Snippet(
        before=("…" if start > width else "") + squash(before).lstrip(),
        hit=squash(text[start:end]).strip() or best.text,
        after=squash(after).rstrip() + ("…" if end + width < len(text) else ""),
    )


def squash(text: str) -> str:
    """Whitespace collapsed to single spaces, keeping one at either edge if there was one."""
    if not text.strip():
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() else ""
    return lead + " ".join(text.split()) + trail
