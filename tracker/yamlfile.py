"""YAML files a person gives us (a plan, a calendar notice, a standard), read safely and with lines.

``read_yaml(text)`` parses with ruamel.yaml's round-trip loader and returns plain Python data
(dict, list, str, int, float, bool, None, date) with the 1-based line of every key and list item,
taken from ruamel's ``lc`` info, and the duplicate keys (YAML would silently keep one of them).

A file is refused with a Chinese message, before its document is built, when it is

- larger than ``MAX_BYTES`` (1 MB; the example county's plan is 12 KB),
- nested deeper than ``MAX_DEPTH`` levels (20; a plan needs 5),
- using more than ``MAX_ALIASES`` alias references (``*name``; 100),
- larger than ``MAX_NODES`` values once its aliases are expanded (100,000; a plan has ~1,500),
  which is what stops a "billion laughs" file: nine levels of nine aliases are only 81 alias
  uses but a billion values,
- or an alias refers to the node that contains it (a cycle).

The dialect is YAML 1.1 as PyYAML's ``safe_load`` reads it (yes/no are booleans), without the
base-60 numbers (``18:00`` stays the text "18:00") and without octal/underscore surprises; a
date that does not exist (``2026-02-30``) stays text, so the caller's own date check names it.
Only the standard tags are allowed (no ``!!python/…``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.errors import JunhengError

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_ALIASES = 100
MAX_NODES = 100_000

KeyPath = tuple[str | int, ...]  # mapping keys as text, list positions 0-based

_STD = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge")}


class YamlError(JunhengError, ValueError):
    """The text is not YAML we read. ``line``/``column`` are 1-based (None: the file as a whole);
    ``message`` is Chinese for the limits and ruamel's own words for syntax errors."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 context_line: int | None = None, *, limit: bool = False):
        self.message = message
        self.line = line
        self.column = column
        self.context_line = context_line  # where the broken structure began, if another line
        self.limit = limit  # refused by a bound, not a syntax error
        super().__init__(message)


@dataclass
class YamlDocument:
    data: Any  # plain Python values
    lines: dict[KeyPath, int]  # 1-based line of every key and list item; () is the document
    duplicates: list[tuple[KeyPath, int, int]] = field(default_factory=list)  # (path, line, first line)


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """A file's UTF-8 text, refused (``YamlError``) before reading when it is larger than the bound.
    FileNotFoundError, UnicodeDecodeError and OSError pass through for the caller's own words."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlError(_too_big(size, max_bytes), limit=True)
    with path.open("rb") as handle:  # the file may have grown since stat
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise YamlError(_too_big(len(raw), max_bytes), limit=True)
    return raw.decode("utf-8")


def _too_big(size: int, max_bytes: int) -> str:
    return f"文件过大（{size / 1_000_000:.1f} MB），不能超过 {max_bytes / 1_000_000:g} MB"


def read_yaml(text: str, *, dates: bool = True, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
              max_aliases: int = MAX_ALIASES, max_nodes: int = MAX_NODES) -> YamlDocument:
    """Parse one YAML document within the bounds. ``dates=False`` leaves dates as text."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise YamlError(_too_big(size, max_bytes), limit=True)
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = _make_yaml(dates)
    yaml.bounds = (max_depth, max_aliases, max_nodes)  # read by _BoundedComposer
    yaml.found_duplicates = []
    try:
        root = yaml.load(text)
    except YamlError:
        raise
    except MarkedYAMLError as exc:
        mark, context = exc.problem_mark, exc.context_mark
        raise YamlError(exc.problem or str(exc), mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                        context.line + 1 if context is not None and (mark is None or context.line != mark.line)
                        else None) from None
    except YAMLError as exc:
        raise YamlError(str(exc)) from None
    lines: dict[KeyPath, int] = {(): getattr(getattr(root, "lc", None), "line", 0) + 1}
    data = _plain(root, (), lines)
    return YamlDocument(data, lines, list(yaml.found_duplicates))


# ---------------------------------------------------------------------------- ruamel set-up


def _make_yaml(dates: bool) -> Any:
    from ruamel.yaml import YAML

    from ruamel.yaml.parser import Parser
    from ruamel.yaml.scanner import Scanner

    yaml = YAML(typ="rt", pure=True)
    # The round-trip constructor gives the line info (``lc``); its scanner's comment gathering,
    # which we do not need, is half the reading time: the plain scanner and parser instead.
    yaml.Scanner, yaml.Parser = Scanner, Parser
    yaml.Resolver = _resolver_class(dates)
    yaml.Composer = _composer_class()
    yaml.Constructor = _constructor_class()
    yaml.allow_duplicate_keys = True  # found by the composer and reported with both lines
    return yaml


_RESOLVER_CLASSES: dict[bool, type] = {}


def _resolver_class(dates: bool) -> type:
    """PyYAML's safe YAML 1.1 rules, minus base-60 numbers and leading-zero octals."""
    if dates in _RESOLVER_CLASSES:
        return _RESOLVER_CLASSES[dates]
    from ruamel.yaml.resolver import VersionedResolver

    rules: list[tuple[str, str, str]] = [
        ("bool", r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$", "yYnNtTfFoO"),
        ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0x[0-9a-fA-F_]+|[-+]?(?:0|[1-9][0-9_]*))$", "-+0123456789"),
        ("float", r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                  r"|\.(?:nan|NaN|NAN))$", "-+0123456789."),
        ("merge", r"^(?:<<)$", "<"),
        ("null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ]
    if dates:
        rules.append(("timestamp", r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
                                   r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?"
                                   r":[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
                      "0123456789"))
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, pattern, first in rules:
        for char in first:
            table.setdefault(char, []).append((_STD + tag, re.compile(pattern)))
    table[""] = [(_STD + "null", re.compile(r"^$"))]

    class _Resolver(VersionedResolver):
        @property
        def versioned_resolver(self) -> Any:
            # resolve() does ``found += table.get(None, [])``; with no None key that adds a new
            # empty list, so our table is never grown
            return table

    _RESOLVER_CLASSES[dates] = _Resolver
    return _Resolver


_CLASSES: dict[str, type] = {}


def _composer_class() -> type:
    """A composer that bounds depth and alias uses while it builds the node tree, then the
    expanded size (and cycles) of the finished tree, before anything is constructed."""
    if "composer" in _CLASSES:
        return _CLASSES["composer"]
    from ruamel.yaml.composer import Composer
    from ruamel.yaml.events import AliasEvent
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    class _BoundedComposer(Composer):
        def compose_document(self) -> Any:
            self.alias_uses = 0
            self.nesting = 0
            node = super().compose_document()
            if node is not None:
                _check_expanded(node, *self.loader.bounds, self.loader.found_duplicates)
            return node

        def compose_node(self, parent: Any, index: Any) -> Any:
            max_depth, max_aliases, _ = self.loader.bounds
            if self.parser.check_event(AliasEvent):
                self.alias_uses += 1
                if self.alias_uses > max_aliases:
                    mark = self.parser.peek_event().start_mark
                    raise YamlError(f"第 {mark.line + 1} 行：别名（*引用）用了超过 {max_aliases} 次，文件不予读取",
                                    mark.line + 1, mark.column + 1, limit=True)
                return super().compose_node(parent, index)
            self.nesting += 1
            try:
                if self.nesting > max_depth:
                    mark = self.parser.peek_event().start_mark
                    raise YamlError(f"第 {mark.line + 1} 行：嵌套超过 {max_depth} 层，文件不予读取",
                                    mark.line + 1, mark.column + 1, limit=True)
                return super().compose_node(parent, index)
            finally:
                self.nesting -= 1

    def _check_expanded(root: Any, max_depth: int, _aliases: int, max_nodes: int,
                        duplicates: list[tuple[KeyPath, int, int]]) -> None:
        sizes: dict[int, tuple[int, int]] = {}  # id(node) → (values once expanded, depth)
        open_nodes: set[int] = set()

        def walk(node: Any) -> tuple[int, int]:
            key = id(node)
            if key in sizes:
                return sizes[key]
            line = node.start_mark.line + 1
            if key in open_nodes:
                raise YamlError(f"第 {line} 行：别名引用了包含它自己的内容（循环引用），文件不予读取", line, limit=True)
            tag = str(node.tag)
            if tag not in _ALLOWED_TAGS:
                raise YamlError(f"第 {line} 行：不支持的 YAML 标签「{node.tag}」", line, node.start_mark.column + 1)
            open_nodes.add(key)
            total, depth = 1, 1
            if isinstance(node, SequenceNode):
                children = node.value
            elif isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = []
            for child in children:
                size, child_depth = walk(child)
                total += size
                depth = max(depth, child_depth + 1)
                if total > max_nodes:
                    raise YamlError(f"第 {line} 行起：别名展开后超过 {max_nodes:,} 项，文件不予读取", line, limit=True)
                if depth > max_depth:
                    raise YamlError(f"第 {line} 行起：别名展开后嵌套超过 {max_depth} 层，文件不予读取", line, limit=True)
            open_nodes.discard(key)
            sizes[key] = (total, depth)
            return total, depth

        walk(root)
        _find_duplicates(root, (), duplicates, set())

    def _find_duplicates(node: Any, path: KeyPath, out: list[tuple[KeyPath, int, int]], done: set[int]) -> None:
        if id(node) in done:  # an alias: already looked at
            return
        done.add(id(node))
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                if key in seen and str(key_node.tag) != _STD + "merge":
                    out.append((path + (key,), line, seen[key]))
                    continue
                seen[key] = line
                _find_duplicates(value_node, path + (key,), out, done)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                _find_duplicates(item, path + (i,), out, done)

    _CLASSES["composer"] = _BoundedComposer
    return _BoundedComposer


def _constructor_class() -> type:
    """Round-trip construction, except that a date which does not exist stays text."""
    if "constructor" in _CLASSES:
        return _CLASSES["constructor"]
    from ruamel.yaml.constructor import RoundTripConstructor

    class _Constructor(RoundTripConstructor):
        def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
            try:
                return super().construct_yaml_timestamp(node, values)
            except ValueError:  # 2026-02-30: the caller's date check says 没有这一天
                return str(node.value)

    _Constructor.add_constructor(_STD + "timestamp", _Constructor.construct_yaml_timestamp)
    _CLASSES["constructor"] = _Constructor
    return _Constructor


# ---------------------------------------------------------------------------- plain values and lines


def _plain(value: Any, path: KeyPath, lines: dict[KeyPath, int]) -> Any:
    """ruamel's round-trip values as plain Python, recording the line of every key and item.
    The expanded size is bounded by the composer, so this walk is too."""
    if isinstance(value, dict):
        line_data = getattr(getattr(value, "lc", None), "data", {}) or {}
        parent_line = lines.get(path, 1)
        out: dict[Any, Any] = {}
        for key, item in _items(value):
            key = _plain_scalar(key)
            text = str(key)
            where = line_data.get(key)
            lines.setdefault(path + (text,), where[0] + 1 if where else parent_line)
            out[key] = _plain(item, path + (text,), lines)
        return out
    if isinstance(value, list):
        line_data = getattr(getattr(value, "lc", None), "data", {}) or {}
        parent_line = lines.get(path, 1)
        items = []
        for i, item in enumerate(value):
            where = line_data.get(i)
            lines.setdefault(path + (i,), where[0] + 1 if where else parent_line)
            items.append(_plain(item, path + (i,), lines))
        return items
    return _plain_scalar(value)


def _items(mapping: dict) -> Iterator[tuple[Any, Any]]:
    return iter(mapping.items())  # merged (<<) keys included


def _plain_scalar(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool, dt.date):
        return value
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                           value.microsecond, value.tzinfo)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if type(value).__name__ == "TaggedScalar":  # an explicit standard tag: !!str 12
        return str(value.value)
    return value
