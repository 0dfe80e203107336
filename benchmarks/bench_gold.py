"""Precision and recall of the matcher on the judged development sets (``gold/``).

* **SEC list** (``gold/sec/``): one ``companies`` rule holding every SEC company title
  (its tickers as ``tickers``) over 112 Reuters stories. A predicted (article, core
  name) pair is judged by ``gold.jsonl`` (real / false; unsure is left out) or
  ``missed.jsonl`` (real); pairs in neither are counted as unjudged. Recall is over
  the real pairs of both files; "names only" leaves out the renamed companies the
  README says no name list can find.
* **Curated watchlist** (``gold/watchlist/``): its 73 entities in one rule over the
  100 development articles, per (article, entity) against ``dev_mentions.jsonl``.

Each set is also run through the oracle (the whole curated set; a sample of the SEC
one, whose oracle is slow) and the script exits 1 on any difference.

    python benchmarks/bench_gold.py [--threshold 88] [--oracle-sample 3] [--show]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from watchlist.match import build_matcher, oracle_match
from watchlist.models import Article, Entry, Match, Rule

RENAMED = ("Allied", "Mine Safety", "International Mobile", "Hospital Corp", "Minnesota Mining")


def corpora() -> Path:
    """``$WATCHLIST_CORPORA``, else ``../shared/corpora`` beside the repository."""
    env = os.environ.get("WATCHLIST_CORPORA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpora"


def jsonl(path: Path) -> list[dict[str, Any]]:
    """Every JSON object of a JSONL file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def articles(rows: Iterable[dict[str, Any]]) -> list[Article]:
    """Articles as read from the corpus (title and body, no cleaning)."""
    return [Article(id=r["id"], title=r.get("title", ""), body=r.get("body", "")) for r in rows]


def run(rule: Rule, arts: list[Article]) -> dict[str, Match]:
    """The fast matcher's match per article id."""
    matcher = build_matcher([rule])
    out: dict[str, Match] = {}
    for a in arts:
        for m in matcher.match(a):
            out[a.id] = m
    return out


def check_oracle(rule: Rule, arts: list[Article], got: dict[str, Match]) -> int:
    """How many articles the oracle matches differently."""
    diffs = 0
    for a in arts:
        want = oracle_match([rule], a)
        have = [got[a.id]] if a.id in got else []
        if want != have:
            diffs += 1
            print(f"  oracle differs on {a.id}", file=sys.stderr)
    return diffs


def sec(root: Path, threshold: float, sample: int, show: bool) -> tuple[float, float, int]:
    """(precision, recall, oracle differences) on the SEC set; prints the figures."""
    base = root / "gold" / "sec"
    tickers: dict[str, list[str]] = {}
    for row in json.loads((root / "sec-company-tickers.json").read_text("utf-8")).values():
        tickers.setdefault(row["title"], []).append(row["ticker"])
    rule = Rule(
        name="sec",
        threshold=threshold,
        companies=tuple(Entry(t, tickers=tuple(ts)) for t, ts in tickers.items()),
    )
    arts = articles(jsonl(base / "articles.jsonl"))
    core_of: dict[str, str] = {}
    label: dict[tuple[str, str], str] = {}
    for g in jsonl(base / "gold.jsonl"):
        for t in g["sec_titles"]:
            core_of[t] = g["core"]
        label[(g["article"], g["core"])] = g["label"]
    missed: dict[tuple[str, str], str] = {}
    for m in jsonl(base / "missed.jsonl"):
        key = (m["article"], core_of.get(m["sec_title"], m["sec_title"]))
        missed[key] = m["text"]
    got = run(rule, arts)
    pred: dict[tuple[str, str], list[str]] = {}
    for aid, m in got.items():
        for h in m.hits:
            pred.setdefault((aid, core_of.get(h.entry, h.entry)), []).append(h.text)
    tp = fp = unjudged = 0
    for key, texts in sorted(pred.items()):
        lab = "real" if key in missed else label.get(key)
        if lab == "real":
            tp += 1
        elif lab == "false":
            fp += 1
            if show:
                print(f"  FP {key[0]} {key[1]!r}: {texts[:3]}")
        elif lab is None:
            unjudged += 1
            if show:
                print(f"  ?? {key[0]} {key[1]!r}: {texts[:3]}")
    real = {k for k, v in label.items() if v == "real"} | set(missed)
    names_only = {k for k in real if not any(r in missed.get(k, "") for r in RENAMED)}
    found = {k for k in real if k in pred}
    if show:
        for k in sorted(real - found):
            print(f"  FN {k[0]} {k[1]!r} {missed.get(k, '')!r}")
    p = tp / (tp + fp) if tp + fp else 1.0
    r = len(found) / len(real)
    r2 = len(found & names_only) / len(names_only)
    judged = {k for k, v in label.items() if v == "real"}
    r3 = len(found & judged) / len(judged)
    print(
        f"SEC list (t={threshold:g}): P {p:.3f} ({tp}/{tp + fp}), R {r:.3f} "
        f"({len(found)}/{len(real)}), R names only {r2:.3f} "
        f"({len(found & names_only)}/{len(names_only)}), R judged candidates {r3:.3f} "
        f"({len(found & judged)}/{len(judged)}), unjudged pairs {unjudged}"
    )
    return p, r, check_oracle(rule, arts[:sample], got)


def watchlist(root: Path, threshold: float, show: bool) -> tuple[float, float, int]:
    """(precision, recall, oracle differences) on the curated watchlist's development half."""
    base = root / "gold" / "watchlist"
    doc = yaml.safe_load((base / "watchlist.yaml").read_text("utf-8"))

    def entries(items: list[dict[str, Any]]) -> tuple[Entry, ...]:
        return tuple(Entry(e["name"], aliases=tuple(e.get("aliases", ()))) for e in items)

    rule = Rule(
        name="watchlist",
        threshold=threshold,
        require="any",
        companies=entries(doc["companies"]),
        exchanges=entries(doc["exchanges"]),
    )
    arts = articles(jsonl(base / "dev_articles.jsonl"))
    gold = {(g["article"], e) for g in jsonl(base / "dev_mentions.jsonl") for e in g["entities"]}
    got = run(rule, arts)
    pred: dict[tuple[str, str], list[str]] = {}
    for aid, m in got.items():
        for h in m.hits:
            pred.setdefault((aid, h.entry), []).append(h.text)
    tp = len(set(pred) & gold)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(gold)
    if show:
        for k in sorted(set(pred) - gold):
            print(f"  FP {k[0]} {k[1]!r}: {pred[k][:3]}")
        for k in sorted(gold - set(pred)):
            print(f"  FN {k[0]} {k[1]!r}")
    print(
        f"curated watchlist (t={threshold:g}): P {p:.3f} ({tp}/{len(pred)}), "
        f"R {r:.3f} ({tp}/{len(gold)})"
    )
    return p, r, check_oracle(rule, arts, got)


def main(argv: list[str] | None = None) -> int:
    """Print both sets' figures; exit 1 if the fast matcher differs from the oracle."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=88.0)
    ap.add_argument("--oracle-sample", type=int, default=3, help="SEC articles checked")
    ap.add_argument("--show", action="store_true", help="list false and missed pairs")
    args = ap.parse_args(argv)
    root = corpora()
    if not (root / "gold").is_dir():
        print(f"bench_gold: no gold sets under {root} (set WATCHLIST_CORPORA)", file=sys.stderr)
        return 2
    _, _, d1 = sec(root, args.threshold, args.oracle_sample, args.show)
    _, _, d2 = watchlist(root, args.threshold, args.show)
    print(f"oracle differences: {d1 + d2}")
    return 1 if d1 + d2 else 0


if __name__ == "__main__":
    sys.exit(main())
