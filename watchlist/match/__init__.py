"""Matching: articles against rules, SPEC "Matching" (normalise, fuzzy runs, rules 1-7).

``build_matcher(rules).match(article)`` is the fast path the pipeline uses;
``oracle_match`` is the brute-force reference; ``explain`` says why a rule did
or did not match.
"""

from __future__ import annotations

from watchlist.match.explain import Explanation, explain
from watchlist.match.fast import Matcher, build_matcher
from watchlist.match.oracle import oracle_match

__all__ = ["Explanation", "Matcher", "build_matcher", "explain", "oracle_match"]
