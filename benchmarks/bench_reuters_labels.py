"""Reuters-21578's own exchange and organisation lists against its human labels.

Entries come from ``cat-descriptions_120396.txt``: each "Name (CODE)" line is an
entry named Name with CODE (without its ``-SUFFIX``) as an alias; "X Stock
Exchange/Bourse" also gets the alias "X Bourse". Exchanges go in ``exchanges``,
organisations in ``companies`` (names: the capital rule applies). Every story of
the corpus is matched; a predicted (story, code) pair is right when the story's
``<EXCHANGES>`` / ``<ORGS>`` label holds the code. The baseline is an exact
whole-word regex: names case-insensitively, codes in capitals.

    python benchmarks/bench_reuters_labels.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from bench_gold import corpora

from watchlist.match import build_matcher
from watchlist.models import Article, Entry, Rule

_LINE = re.compile(r"^(.*?)\s*\(([A-Z][A-Z-]*)\)@\*$")
_DOC = re.compile(r'<REUTERS[^>]*NEWID="(\d+)"(.*?)</REUTERS>', re.S)


def categories(root: Path) -> dict[str, list[tuple[str, str]]]:
    """{"orgs": [(name, code)], "exchanges": [...]} from the category descriptions."""
    text = (root / "reuters21578" / "cat-descriptions_120396.txt").read_text("latin-1")
    out: dict[str, list[tuple[str, str]]] = {"orgs": [], "exchanges": []}
    for kind, heading in (("orgs", "Organization Codes"), ("exchanges", "Exchange Codes")):
        block = text.split(f"@heading[{heading}")[1].split("@end[format]")[0]
        block = block.split("@begin[format]")[1]
        lines: list[str] = []
        for line in block.strip().splitlines():  # a name wrapped over lines ends at "@*"
            if lines and not lines[-1].endswith("@*"):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.strip())
        for line in lines:
            m = _LINE.match(line.strip())
            if m:
                out[kind].append((re.sub(r"\s*\[.*?\]\s*", " ", m.group(1)).strip(), m.group(2)))
    return out


def labels(root: Path) -> dict[str, dict[str, set[str]]]:
    """Per story id: {"orgs": codes, "exchanges": codes} (lower case, as labelled)."""
    out: dict[str, dict[str, set[str]]] = {}
    for sgm in sorted((root / "reuters21578").glob("reut2-*.sgm")):
        for m in _DOC.finditer(sgm.read_text("latin-1")):
            got = {}
            for kind, tag in (("orgs", "ORGS"), ("exchanges", "EXCHANGES")):
                part = re.search(rf"<{tag}>(.*?)</{tag}>", m.group(2), re.S)
                got[kind] = set(re.findall(r"<D>(.*?)</D>", part.group(1))) if part else set()
            out[f"reuters-{m.group(1)}"] = got
    return out


def entry(name: str, code: str) -> Entry:
    """The entry for one category line."""
    aliases = [code.split("-")[0]]
    if "/Bourse" in name:
        name = name.replace("/Bourse", "")
        aliases.append(name.replace("Stock Exchange", "Bourse"))
    return Entry(name, aliases=tuple(aliases))


def score(pred: set[tuple[str, str]], gold: set[tuple[str, str]]) -> str:
    """``P .. R .. F1 ..``."""
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(gold) if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f} R {r:.3f} F1 {f:.3f} ({tp} of {len(pred)} predicted, {len(gold)} labelled)"


def main(argv: list[str] | None = None) -> int:
    """Print matcher and baseline figures for exchanges and organisations."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="first N stories only")
    ap.add_argument("--show", action="store_true", help="false pairs by code")
    args = ap.parse_args(argv)
    root = corpora()
    if not (root / "reuters21578").is_dir():
        print(f"no Reuters-21578 under {root} (set WATCHLIST_CORPORA)", file=sys.stderr)
        return 2
    cats = categories(root)
    gold_labels = labels(root)
    code_of = {
        kind: {entry(n, c).name: c.lower() for n, c in cats[kind]} for kind in ("orgs", "exchanges")
    }
    rule = Rule(
        name="labels",
        require="any",
        companies=tuple(entry(n, c) for n, c in cats["orgs"]),
        exchanges=tuple(entry(n, c) for n, c in cats["exchanges"]),
    )
    matcher = build_matcher([rule])
    patterns = {
        kind: [
            (
                c.lower(),
                re.compile(rf"\b{re.escape(e.name)}\b", re.I),
                [re.compile(rf"\b{re.escape(a)}\b") for a in e.aliases],
            )
            for (n, c) in cats[kind]
            for e in [entry(n, c)]
        ]
        for kind in ("orgs", "exchanges")
    }
    pred: dict[str, set[tuple[str, str]]] = {"orgs": set(), "exchanges": set()}
    base: dict[str, set[tuple[str, str]]] = {"orgs": set(), "exchanges": set()}
    gold: dict[str, set[tuple[str, str]]] = {"orgs": set(), "exchanges": set()}
    with (root / "reuters21578.jsonl").open(encoding="utf-8") as f:
        for n, line in enumerate(f):
            if args.limit and n >= args.limit:
                break
            d = json.loads(line)
            art = Article(id=d["id"], title=d.get("title", ""), body=d.get("body", ""))
            for kind in ("orgs", "exchanges"):
                gold[kind] |= {(art.id, c) for c in gold_labels.get(art.id, {}).get(kind, ())}
            for m in matcher.match(art):
                for h in m.hits:
                    kind = "orgs" if h.group == "companies" else "exchanges"
                    pred[kind].add((art.id, code_of[kind][h.entry]))
            text = art.title + "\n" + art.body
            for kind in ("orgs", "exchanges"):
                for code, name_re, alias_res in patterns[kind]:
                    if name_re.search(text) or any(a.search(text) for a in alias_res):
                        base[kind].add((art.id, code))
    for kind in ("exchanges", "orgs"):
        if args.show:
            fp: dict[str, int] = {}
            for _, code in pred[kind] - gold[kind]:
                fp[code] = fp.get(code, 0) + 1
            print(kind, "false pairs by code:", sorted(fp.items(), key=lambda x: -x[1])[:12])
        print(f"{kind:>9} matcher  {score(pred[kind], gold[kind])}")
        print(f"{kind:>9} baseline {score(base[kind], gold[kind])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
