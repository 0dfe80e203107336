"""Matching: articles against rules, SPEC "Matching" (normalise, fuzzy runs, rules 1-7).

``build_matcher(rules).match(article)`` is the fast path the pipeline uses;
``oracle_match`` is the brute-force reference; ``explain`` says why a rule did
or did not match; ``snippet`` cuts the text around the best hit for the alert.

May import: ``watchlist.models`` only, plus rapidfuzz and numpy (no other stage imports
those). Pure: no I/O, no clock.
"""

from __future__ import annotations

from watchlist.match.explain import Explanation, explain
from watchlist.match.fast import Matcher, build_matcher
from watchlist.match.oracle import oracle_match

__all__ = ["Explanation", "Matcher", "build_matcher", "explain", "oracle_match"]
