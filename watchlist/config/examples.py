"""A rule's ``examples:``: articles it must match and must not, read with their positions.

```yaml
examples:
  match:
    - title: Quantum computing start-up files for STAR Market IPO
  no_match:
    - title: "Opinion: the STAR Market is overheated"
      body: A column on valuations.
```

Each example is an article (``title``, ``summary``, ``body``, optional ``id``), or a
text, read as its title. Reading them is validation only: running them needs the
matcher, a higher stage (``watchlist.match.examples``).
"""

from __future__ import annotations

from watchlist.config.checker import Checker
from watchlist.config.errors import describe
from watchlist.config.yamlsafe import Pos, YMap, YSeq
from watchlist.models import FIELDS, Article, Example

EXAMPLE_KEYS: tuple[str, ...] = ("match", "no_match")
ARTICLE_KEYS: tuple[str, ...] = (*FIELDS, "id")
EXAMPLE_SOURCE = "example"


def _article(item: object, pos: Pos, chk: Checker, key: str, index: int) -> Article | None:
    default_id = f"example-{key.replace('_', '-')}-{index}"
    if isinstance(item, str) and item.strip():
        return Article(id=default_id, title=item.strip(), source=EXAMPLE_SOURCE)
    if not isinstance(item, YMap):
        chk.error(
            pos,
            f"examples.{key}: expected an article (a mapping with title:, summary: or body:) "
            f"or a title, found {describe(item)}",
        )
        return None
    chk.keys(item, ARTICLE_KEYS, f"an example of examples.{key}")
    texts = {f: chk.text(item, f) for f in (*FIELDS, "id") if f in item}
    if not any(texts.get(f) for f in FIELDS):
        if not any(f in item for f in FIELDS):
            chk.error(item.pos, f"an example of examples.{key} needs a title, summary or body")
        return None
    return Article(
        id=(texts.get("id") or default_id).strip(),
        title=texts.get("title") or "",
        summary=texts.get("summary") or "",
        body=texts.get("body") or "",
        source=EXAMPLE_SOURCE,
    )


def read_examples(m: YMap, chk: Checker) -> tuple[Example, ...]:
    """The examples under ``m["examples"]`` (a rule mapping), every problem recorded in ``chk``."""
    if "examples" not in m:
        return ()
    value = m["examples"]
    if not isinstance(value, YMap):
        chk.wrong(m, "examples", "a mapping with match: and no_match: lists of articles")
        return ()
    chk.keys(value, EXAMPLE_KEYS, "examples")
    if not any(k in value for k in EXAMPLE_KEYS):
        chk.error(value.pos, "examples: give match:, no_match: or both (lists of articles)")
    out: list[Example] = []
    for key in EXAMPLE_KEYS:
        if key not in value:
            continue
        items = value[key]
        if not isinstance(items, YSeq):
            chk.wrong(value, key, "a list of articles")
            continue
        for index, (item, pos) in enumerate(zip(items, items.item_pos, strict=True), 1):
            article = _article(item, pos, chk, key, index)
            if article is not None:
                out.append(Example(article, key == "match", index, chk.path, pos.line, pos.column))
    return tuple(out)
