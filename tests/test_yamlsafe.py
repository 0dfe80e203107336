"""Safe YAML: positions, duplicate keys, refused tags, alias bombs, size limits."""

from __future__ import annotations

import pytest

from watchlist.config.errors import ConfigError, ConfigErrors
from watchlist.config.yamlsafe import MAX_BYTES, Pos, YMap, YSeq, parse_yaml


def errors_of(text: str | bytes) -> list[str]:
    """The error lines parse_yaml raises for ``text`` (fails when it raises none)."""
    with pytest.raises(ConfigErrors) as info:
        parse_yaml(text, "f.yaml")
    return [str(e) for e in info.value.errors]


def billion_laughs(levels: int) -> str:
    """A document whose aliases expand to 10**levels strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_plain_values_and_positions() -> None:
    """Mappings and lists keep 1-based positions of keys, values and items."""
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: true}\nd: null\ne: 1.5\n", "f.yaml")
    assert isinstance(doc, YMap)
    assert doc == {"a": 1, "b": ["x", {"c": True}], "d": None, "e": 1.5}
    assert doc.key_pos["b"] == Pos(2, 1)
    assert doc.value_pos["a"] == Pos(1, 4)
    assert isinstance(doc["b"], YSeq)
    assert doc["b"].item_pos == [Pos(3, 5), Pos(4, 5)]
    assert doc["b"][1].key_pos["c"] == Pos(4, 6)


def test_raw_scalar_text_is_kept() -> None:
    """The text of a scalar as written is kept beside its value (0700 is not 448 there)."""
    doc = parse_yaml("n: 0700\nt: 2024-01-02\nk: yes\n", "f.yaml")
    assert doc["n"] == 448 and doc.raw["n"] == "0700"
    assert doc["t"] == "2024-01-02"  # timestamps stay text
    assert doc["k"] is True and doc.raw["k"] == "yes"


def test_empty_document_is_none() -> None:
    """An empty file (or only comments) reads as None."""
    assert parse_yaml("# nothing\n", "f.yaml") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: 1\na: 2\n",
            ["f.yaml:2:1: duplicate key 'a' (first at line 1, column 1); remove one of them"],
        ),
        (
            "x:\n  y: 1\n  z: 2\n  y: 3\n",
            ["f.yaml:4:3: duplicate key 'y' (first at line 2, column 3); remove one of them"],
        ),
        (
            "- {k: 1, k: 2}\n- a: 1\n  b: 2\n  a: 3\n",
            [
                "f.yaml:1:10: duplicate key 'k' (first at line 1, column 4); remove one of them",
                "f.yaml:4:3: duplicate key 'a' (first at line 2, column 3); remove one of them",
            ],
        ),
    ],
)
def test_duplicate_keys_at_any_depth(text: str, expected: list[str]) -> None:
    """Every duplicate key is reported at its line with the first one's line."""
    assert errors_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!python/object:os.system x\n", "f.yaml:1:4: tag '!!python/object:os.system'"),
        ("a: !!python/name:os.system\n", "f.yaml:1:4: tag '!!python/name:os.system'"),
        ("a: !!python/tuple [1, 2]\n", "f.yaml:1:4: tag '!!python/tuple'"),
        ("a: !custom 3\n", "f.yaml:1:4: tag '!custom'"),
        ("a: !!binary aGk=\n", "f.yaml:1:4: tag '!!binary'"),
        ("a: !!set {x, y}\n", "f.yaml:1:4: tag '!!set'"),
    ],
)
def test_non_standard_tags_are_refused(text: str, expected: str) -> None:
    """python/* and every non-standard tag is an error at the tagged value."""
    assert errors_of(text) == [f"{expected} is not allowed; remove it"]


def test_collected_errors_keep_the_document_usable() -> None:
    """Given an error list, a duplicate keeps its first value and a refused tag drops its key."""
    found: list[ConfigError] = []
    text = "a: 1\nb: !!python/name:os.system\nc: [1, !!binary aGk=, 3]\na: 2\nd: x\n"
    doc = parse_yaml(text, "f.yaml", errors=found)
    assert doc == {"a": 1, "c": [1, 3], "d": "x"}
    assert doc.value_pos["d"] == Pos(5, 4)
    assert [str(e) for e in found] == [
        "f.yaml:2:4: tag '!!python/name:os.system' is not allowed; remove it",
        "f.yaml:3:8: tag '!!binary' is not allowed; remove it",
        "f.yaml:4:1: duplicate key 'a' (first at line 1, column 1); remove one of them",
    ]


def test_collected_errors_still_raise_for_unreadable_yaml() -> None:
    """Unreadable YAML and alias bombs raise even when an error list is given."""
    found: list[ConfigError] = []
    with pytest.raises(ConfigErrors, match="invalid YAML"):
        parse_yaml("a: [1\n", "f.yaml", errors=found)
    with pytest.raises(ConfigErrors, match="document too large"):
        parse_yaml(billion_laughs(2), "f.yaml", max_nodes=100, errors=found)


def test_billion_laughs_fails_fast() -> None:
    """Alias bombs of 10**9 and 10**60 values are refused at the same 100,000-value cap."""
    for levels in (9, 60):  # 10**60 could never finish unless expansion stops at the cap
        assert errors_of(billion_laughs(levels)) == [
            "f.yaml:5:5: document too large: aliases expand it by more than 100,000 values "
            "(an alias bomb?)"
        ]


def test_node_budget_counts_alias_revisits() -> None:
    """Small aliased documents within the budget load; the same beyond the budget do not."""
    assert len(parse_yaml(billion_laughs(2), "f.yaml")["a2"]) == 10
    with pytest.raises(ConfigErrors) as info:
        parse_yaml(billion_laughs(2), "f.yaml", max_nodes=100)
    assert str(info.value).startswith("f.yaml:2:5: document too large")


def test_large_plain_documents_are_not_limited_by_the_alias_budget() -> None:
    """A big watchlist without aliases loads even with far more values than the budget."""
    text = "big:\n" + "".join(f"  - {{name: n{i}, aliases: [a{i}]}}\n" for i in range(30_000))
    assert len(parse_yaml(text, "f.yaml")["big"]) == 30_000


def test_anchors_aliases_and_merge_keys_work() -> None:
    """Normal anchors, aliases and << merges give the expected values; own keys win."""
    doc = parse_yaml(
        "base: &b {threshold: 80, notify: [me]}\none:\n  <<: *b\n  threshold: 90\ntwo: *b\n",
        "f.yaml",
    )
    assert doc["one"] == {"threshold": 90, "notify": ["me"]}
    assert doc["two"] == {"threshold": 80, "notify": ["me"]}


@pytest.mark.parametrize("text", ["a: &x [1, *x]\n", "a: &x {b: *x}\n"])
def test_recursive_alias_is_refused(text: str) -> None:
    """An alias inside the value it names is an error, not a hang."""
    assert errors_of(text) == ["f.yaml:1:4: an alias refers to the value that contains it"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: [1, 2\nb: 3\n",
            "f.yaml:2:2: invalid YAML: while parsing a flow sequence "
            "did not find expected ',' or ']'",
        ),
        (
            "a: 1\n b: 2\n",
            "f.yaml:2:3: invalid YAML: mapping values are not allowed in this context",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "f.yaml:2:1: invalid YAML: expected a single document in the stream "
            "but found another document",
        ),
        ("a: *nope\n", "f.yaml:1:4: invalid YAML: found undefined alias"),
    ],
)
def test_malformed_yaml_gives_parser_position(text: str, expected: str) -> None:
    """Malformed YAML is one error at the parser's position."""
    assert errors_of(text) == [expected]


def test_oversized_document_is_refused() -> None:
    """A document over the size limit is refused before parsing."""
    text = "a: " + "x" * (MAX_BYTES + 1) + "\n"
    assert errors_of(text) == [f"f.yaml: file is {MAX_BYTES + 5:,} bytes; the limit is 5,242,880"]


def test_non_utf8_bytes_are_refused() -> None:
    """Bytes that are not UTF-8 give an error naming the offset."""
    assert errors_of(b"a: \xff\n") == [
        "f.yaml: not UTF-8 text (bad byte at offset 3); save the file as UTF-8"
    ]


def test_deep_nesting_is_refused() -> None:
    """A document nested thousands of levels deep is an error, not a crash."""
    errors = errors_of("[" * 5000 + "]" * 5000)
    assert len(errors) == 1
    assert errors[0].startswith("f.yaml:1:")
    assert "nest" in errors[0]  # PyYAML >= 6.0.3 stops it itself ("maximum nesting depth")
