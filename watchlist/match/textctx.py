"""What the text around a hit says: sentence starts, all-caps lines, title-case sentences.

SPEC "Matching (v2)" rules 5 and 6 read the article's own characters around a hit:
a title-case acronym or a capital counts as evidence only where it is not the first
word of a sentence; text without lower-case letters says nothing about case; a
title-case headline capitalises every content word. Offsets index the field text.
"""

from __future__ import annotations

import re

_OPENERS = frozenset("\"'([<{\u201c\u2018\u00ab*")
_ENDS = frozenset(".!?:;")
_DASHES = frozenset("-\u2013\u2014")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n\s*\n")
_CONTENT_WORD = re.compile(r"[^\W\d_]{4,}")
TITLE_SHARE = 0.8  # share of capitalised words of 4+ letters that makes a sentence title case
TITLE_MIN_WORDS = 3  # fewer such words: too short to call title case


def at_sentence_start(source: str, pos: int) -> bool:
    """True when the word at ``pos`` begins a sentence: nothing but openers (quotes,
    brackets) between it and the field's start, a ``.!?:;``, or a dash set off by space."""
    k = pos - 1
    while k >= 0 and (source[k].isspace() or source[k] in _OPENERS):
        k -= 1
    if k < 0 or source[k] in _ENDS:
        return True
    return source[k] in _DASHES and (k == 0 or source[k - 1].isspace())


def line_of(source: str, pos: int) -> str:
    """The line (between line breaks) holding ``pos``."""
    a = source.rfind("\n", 0, pos) + 1
    b = source.find("\n", pos)
    return source[a : len(source) if b < 0 else b]


def caseless_at(source: str, pos: int) -> bool:
    """True when the line holding ``pos`` has no lower-case letter (an all-caps headline,
    a table line): such text says nothing about case (rule 5)."""
    return not any(c.islower() for c in line_of(source, pos))


def sentence_of(source: str, start: int, end: int) -> tuple[int, int]:
    """The offsets of the sentence around ``start..end`` (ends: ``.!?`` before a space or
    the end, a blank line, the field's edges)."""
    a = 0
    for m in _SENTENCE_END.finditer(source, 0, start):
        a = m.end()
    after = _SENTENCE_END.search(source, end)
    return a, (len(source) if after is None else after.end())


def title_case_at(source: str, start: int, end: int) -> bool:
    """True when the sentence around ``start..end`` reads as a title-case headline: of its
    other words of 4+ letters (at least TITLE_MIN_WORDS), TITLE_SHARE or more capitalised."""
    a, b = sentence_of(source, start, end)
    words = [
        m.group()
        for m in _CONTENT_WORD.finditer(source, a, b)
        if m.end() <= start or m.start() >= end
    ]
    if len(words) < TITLE_MIN_WORDS:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised >= TITLE_SHARE * len(words)
