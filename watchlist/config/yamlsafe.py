"""Safe YAML: plain values with their positions (typed reads are in watchlist.config.checker).

PyYAML's composer gives nodes with marks; we construct plain Python values
ourselves so that: only standard tags are accepted (never ``!!python/*``);
duplicate keys are errors at any depth; alias bombs and huge documents are
refused in linear time (at most MAX_NODES values added by alias re-visits,
counted before anything is built, and at most MAX_BYTES of text); and every
mapping and list remembers where each key and value stood, so validation can say
``path:line:column``.
"""

from __future__ import annotations

import gc
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor

from watchlist.config.errors import ConfigError, ConfigErrors, describe

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 100_000  # values that alias re-visits may add on top of the file's own
MAX_DEPTH = 200

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_T = "tag:yaml.org,2002:"
__all__ = ["MAX_BYTES", "MAX_NODES", "Pos", "YMap", "YSeq", "describe", "parse_yaml"]
_SCALAR_TAGS = {_T + t for t in ("str", "int", "float", "bool", "null", "timestamp", "value")}
_SCALARS = SafeConstructor()


class _Dropped:
    """A value whose tag was refused: its key or item is left out."""


_DROPPED = _Dropped()


class Pos(NamedTuple):
    """A 1-based line and column in a YAML file."""

    line: int
    column: int


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


class YMap(dict[str, Any]):
    """A YAML mapping with text keys; remembers where each key and value stood."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos: dict[str, Pos] = {}
        self.value_pos: dict[str, Pos] = {}
        self.raw: dict[str, str | None] = {}  # scalar values as written


class YSeq(list[Any]):
    """A YAML sequence; remembers where each item stood."""

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos: list[Pos] = []
        self.raw: list[str | None] = []


class _Refused(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


class _Builder:
    """Turns a node tree into YMap / YSeq / scalars, within a budget."""

    def __init__(self, path: str, max_nodes: int) -> None:
        self.path = path
        self.budget = max_nodes
        self.errors: list[ConfigError] = []
        self.active: set[int] = set()

    def error(self, pos: Pos, message: str) -> None:
        self.errors.append(ConfigError(self.path, pos.line, pos.column, message))

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _Refused(
                _pos(node),
                f"document too large: aliases expand it by more than {MAX_NODES:,} values "
                "(an alias bomb?)",
            )
        if depth > MAX_DEPTH:
            raise _Refused(_pos(node), f"document nested more than {MAX_DEPTH} levels deep")
        if id(node) in self.active:
            raise _Refused(_pos(node), "an alias refers to the value that contains it")
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self.sequence(node, depth)
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, depth)
        finally:
            self.active.discard(id(node))

    def tag(self, node: yaml.Node, *allowed: str) -> bool:
        if node.tag in allowed or node.tag.removeprefix(_T) in allowed:
            return True
        self.error(_pos(node), f"tag '{node.tag.replace(_T, '!!')}' is not allowed; remove it")
        return False

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if not self.tag(node, *_SCALAR_TAGS):
            return _DROPPED
        if tag in (_T + "str", _T + "timestamp", _T + "value"):
            return str(node.value)
        try:
            if tag == _T + "null":
                return None
            if tag == _T + "bool":
                return _SCALARS.construct_yaml_bool(node)
            if tag == _T + "int":
                return _SCALARS.construct_yaml_int(node)
            return _SCALARS.construct_yaml_float(node)
        except (ValueError, yaml.YAMLError):
            self.error(_pos(node), f"'{node.value}' is not a valid {tag.replace(_T, '')}")
            return None

    def sequence(self, node: yaml.SequenceNode, depth: int) -> YSeq | _Dropped:
        if not self.tag(node, "seq"):
            return _DROPPED
        out = YSeq(_pos(node))
        for item in node.value:
            value = self.build(item, depth + 1)
            if value is _DROPPED:
                continue
            out.append(value)
            out.item_pos.append(_pos(item))
            out.raw.append(item.value if isinstance(item, yaml.ScalarNode) else None)
        return out

    def mapping(self, node: yaml.MappingNode, depth: int) -> YMap | _Dropped:
        if not self.tag(node, "map"):
            return _DROPPED
        out = YMap(_pos(node))
        merges: list[YMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _T + "merge":
                merges.extend(self.merge_sources(value_node, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(_pos(key_node), "a key must be plain text, not a list or mapping")
                continue
            key = str(key_node.value)
            if key in out:
                first = out.key_pos[key]
                self.error(
                    _pos(key_node),
                    f"duplicate key '{key}' (first at line {first.line}, column {first.column}); "
                    "remove one of them",
                )
                continue
            value = self.build(value_node, depth + 1)
            if value is _DROPPED:
                continue
            out[key] = value
            out.key_pos[key] = _pos(key_node)
            out.value_pos[key] = _pos(value_node)
            out.raw[key] = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
        for merged in merges:
            for key, value in merged.items():
                if key not in out:
                    out[key] = value
                    out.key_pos[key] = merged.key_pos[key]
                    out.value_pos[key] = merged.value_pos[key]
                    out.raw[key] = merged.raw[key]
        return out

    def merge_sources(self, node: yaml.Node, depth: int) -> list[YMap]:
        nodes = node.value if isinstance(node, yaml.SequenceNode) else [node]
        found: list[YMap] = []
        for n in nodes:
            value = self.build(n, depth + 1)
            if isinstance(value, YMap):
                found.append(value)
            elif value is not _DROPPED:
                self.error(_pos(n), "'<<' merges only mappings")
        return found


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_size(root: yaml.Node, max_revisits: int) -> int:
    """Refuse, in time linear in the file, a tree whose aliases add more than ``max_revisits``
    values; returns the number of values the tree expands to."""
    sizes: dict[int, int] = {}
    kids: dict[int, list[yaml.Node]] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    active: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in kids[key])
            continue
        if key in sizes:
            continue
        if key in active:
            raise _Refused(_pos(node), "an alias refers to the value that contains it")
        active.add(key)
        kids[key] = children = _children(node)
        stack.append((node, True))
        stack.extend((c, False) for c in children)
    limit = len(sizes) + max_revisits
    if sizes[id(root)] <= limit:
        return sizes[id(root)]
    node = root  # point at the innermost value that is too big by itself
    while big := [c for c in kids[id(node)] if sizes[id(c)] > max_revisits]:
        node = big[0]
    raise _Refused(
        _pos(node),
        f"document too large: aliases expand it by more than {max_revisits:,} values "
        "(an alias bomb?)",
    )


def parse_yaml(
    data: str | bytes,
    path: str,
    *,
    max_nodes: int = MAX_NODES,
    errors: list[ConfigError] | None = None,
) -> Any:
    """The single YAML document in ``data`` as YMap / YSeq / scalars (None when empty).

    Raises ConfigErrors listing every problem, each at its position in ``path``.
    With ``errors`` given, problems that leave a usable document (a duplicate key:
    the first one is kept; a banned tag or a bad scalar: the value reads as null)
    are appended there instead and the document is returned, so that validation
    can go on and report everything else; only unreadable YAML, a file too big
    or an alias bomb still raise.
    The cyclic garbage collector is paused meanwhile: the many short-lived node
    objects otherwise make it run over and over (about 5x slower on big files).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _parse(data, path, max_nodes, errors)
    finally:
        if paused:
            gc.enable()


def _parse(data: str | bytes, path: str, max_nodes: int, errors: list[ConfigError] | None) -> Any:
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_BYTES:
        raise ConfigErrors(
            [ConfigError(path, 0, 0, f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")]
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            msg = f"not UTF-8 text (bad byte at offset {exc.start}); save the file as UTF-8"
            raise ConfigErrors([ConfigError(path, 0, 0, msg)]) from None
    try:
        node = yaml.compose(data, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        message = f"invalid YAML: {what}"
        raise ConfigErrors([ConfigError(path, where.line, where.column, message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigErrors([ConfigError(path, 1, 1, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        msg = "invalid YAML: nested too deeply"
        raise ConfigErrors([ConfigError(path, 1, 1, msg)]) from None
    if node is None:
        return None
    builder = _Builder(path, max_nodes)
    try:
        builder.budget += _check_size(node, max_nodes)
        value = builder.build(node)
    except _Refused as exc:
        builder.error(exc.pos, exc.message)
        raise ConfigErrors(builder.errors) from None
    if value is _DROPPED:
        value = None
    if builder.errors and errors is None:
        raise ConfigErrors(builder.errors)
    if errors is not None:
        errors.extend(builder.errors)
    return value
