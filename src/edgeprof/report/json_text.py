"""A dataclass tree as JSON text, written in chunks straight from the tree (no dict copy of it).

The text holds exactly what ``json.dumps(to_dict(obj))`` holds (:mod:`edgeprof.report.serial`):
the same keys in the same order, the same values written the same way. Only the layout is its own,
readable and cheap to write for a report of half a million nodes:

* an object (a dataclass, a mapping) has one member per line, indented by ``indent`` spaces a level;
* a list has one element per line, each element written whole on its line, compactly
  (``{"name": "n0", "op": "MatMul", "output_shape": [1, 16], ...}``), by the C encoder of :mod:`json`
  or, for a list of rows of one dataclass, a column at a time (a column of names or of counts
  without a Python call per value, the keys once per batch of rows).

:func:`iter_json` yields the text in chunks of about a megabyte, so that a writer holds one chunk
at a time, never the whole document.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import repeat
from typing import Any

from edgeprof.report.serial import json_default, members, row_reader

__all__ = ["each_as_json", "iter_json", "json_text"]

CHUNK_CHARS = 1 << 20  # a chunk of text yielded once this many characters are buffered
ROWS_PER_BATCH = 4096  # list elements written by one pass (bounds the memory a long list takes)

_PLAIN_SCALARS = frozenset((int, float, str, bool, type(None)))
_escape = json.encoder.encode_basestring_ascii  # what json.dumps writes a str as (ensure_ascii)
_BOOLS = {True: "true", False: "false"}


def json_text(pairs: Iterable[tuple[str, Any]], indent: int = 2) -> str:
    """The object with these ``(key, value)`` members as one JSON string (see :func:`iter_json`)."""
    return "".join(iter_json(pairs, indent))


def iter_json(pairs: Iterable[tuple[str, Any]], indent: int = 2) -> Iterator[str]:
    """The object with these ``(key, value)`` members (values as they are: dataclasses, tuples,
    mappings, enums, plain values) as JSON text in the layout of the module docstring, in chunks
    of about :data:`CHUNK_CHARS` characters. No newline at the end."""
    buffered: list[str] = []
    size_chars = 0
    for piece in _object(pairs, 0, indent):
        buffered.append(piece)
        size_chars += len(piece)
        if size_chars >= CHUNK_CHARS:
            yield "".join(buffered)
            buffered.clear()
            size_chars = 0
    if buffered:
        yield "".join(buffered)


def _value(value: Any, depth: int, indent: int) -> Iterator[str]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        yield from _object(members(value), depth, indent)
    elif isinstance(value, Mapping):
        yield from _object(value.items(), depth, indent)
    elif type(value) in (tuple, list):
        yield from _list(value, depth, indent)
    else:  # a plain value, an enum, a list-like subclass: the C encoder writes it as to_dict does
        yield _encode(value)


def _object(pairs: Iterable[tuple[Any, Any]], depth: int, indent: int) -> Iterator[str]:
    newline = "\n" + " " * (indent * (depth + 1))
    opening = "{"
    for key, value in pairs:
        yield f"{opening}{newline}{_key(key)}: "
        opening = ","
        yield from _value(value, depth + 1, indent)
    yield "{}" if opening == "{" else "\n" + " " * (indent * depth) + "}"


def _key(key: Any) -> str:
    """A member's key as json.dumps writes it (a str escaped; a number, bool or None as text)."""
    if type(key) is str:
        return _escape(key)
    return _encode({key: None})[1:-len(": null}")]


def _list(items: Sequence[Any], depth: int, indent: int) -> Iterator[str]:
    if not items:
        yield "[]"
        return
    newline = "\n" + " " * (indent * (depth + 1))
    separator = "," + newline
    for start in range(0, len(items), ROWS_PER_BATCH):
        lines = _lines(items[start:start + ROWS_PER_BATCH], separator)
        yield ("[" + newline if start == 0 else separator) + lines
    yield "\n" + " " * (indent * depth) + "]"


def _lines(items: Sequence[Any], separator: str) -> str:
    """``items``, each written compactly, joined by ``separator``."""
    kinds = set(map(type, items))
    if _PLAIN_SCALARS.issuperset(kinds):  # one C call: no value holds the separator (a newline)
        return "".join(each_as_json((items,), (separator, ": ")))[1:-1]
    if len(kinds) == 1 and dataclasses.is_dataclass(cls := kinds.pop()):
        return separator.join(_rows(cls, items))
    return separator.join(each_as_json(items))


def _rows(cls: type, items: Sequence[Any]) -> Iterator[str]:
    """Rows of the dataclass ``cls`` written a column at a time: the keys once, in a template; a
    column of plain strs, ints or bools without a Python call per value; any other column a value
    at a time by the C encoder."""
    names, read = row_reader(cls)
    if not names:
        return iter(["{}"] * len(items))
    template = "{" + ", ".join(_escape(name).replace("%", "%%") + ": %s" for name in names) + "}"
    columns = [_column(values) for values in zip(*map(read, items), strict=True)]
    return map(template.__mod__, zip(*columns, strict=True))


def _column(values: tuple[Any, ...]) -> Iterable[str]:
    kinds = set(map(type, values))
    if kinds == {str}:
        return map(_escape, values)
    if kinds == {int}:
        return map(int.__repr__, values)
    if kinds == {bool}:
        return map(_BOOLS.__getitem__, values)
    return each_as_json(values)


def each_as_json(values: Iterable[Any], separators: tuple[str, str] = (", ", ": ")) -> Iterable[str]:
    """Each of ``values`` as ``json.dumps(value, separators=separators)`` writes it, a dataclass
    or an enum as :func:`~edgeprof.report.serial.to_dict` writes it; lazily, by the C encoder of
    :mod:`json` called directly where there is one (``json.dumps`` makes a new encoder per call)."""
    return _encoder(separators)(values)


@lru_cache(maxsize=64)
def _encoder(separators: tuple[str, str]) -> Callable[[Iterable[Any]], Iterable[str]]:
    item_separator, key_separator = separators
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        encode_c = make(None, json_default, _escape, None, key_separator, item_separator, False, False, True)
        return lambda values: map("".join, map(encode_c, values, repeat(0)))
    encode = json.JSONEncoder(default=json_default, check_circular=False, separators=separators).encode
    return lambda values: map(encode, values)


def _encode(value: Any) -> str:
    return "".join(each_as_json((value,)))
