"""JSON text written from the dataclass tree (report/json_text.py): the content of
json.dumps(to_dict(...)) token for token, objects indented, each list element on one line,
in bounded chunks."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

import edgeprof.report.json_text as json_text_module
from edgeprof.report.json_text import iter_json, json_text
from edgeprof.report.serial import members, to_dict


class Mode(enum.Enum):
    FAST = "fast"


@dataclass(frozen=True)
class Row:
    name: str
    shape: tuple[int | str, ...]
    count: int
    share: float
    ok: bool
    maybe: int | None = None
    mode: Mode = Mode.FAST


@dataclass(frozen=True)
class Doc:
    title: str
    rows: tuple[Row, ...]
    order: tuple[str, ...]
    by_key: Mapping[str, Row] = field(default_factory=dict)
    mixed: tuple[Any, ...] = ()
    inner: Row | None = None
    empty: tuple[int, ...] = ()


ODD = 'a "quoted", %s\\ name\n\u00e9\u202e\x1b'  # quotes, a format spec, a backslash, controls, non-ASCII


def _doc(n: int = 3) -> Doc:
    rows = tuple(Row(f"n{i}" if i else ODD, (1, "batch", i), i * 10**20, i / 3, i % 2 == 0, i or None) for i in range(n))
    return Doc("t%d", rows, tuple(r.name for r in rows), {"k": rows[0], ODD: rows[-1]},
               (1, None, rows[0], "x", [2.5, float("inf")], Mode.FAST, float("nan")), rows[1])


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s"]+')


def _tokens(text: str) -> str:
    """The text without the whitespace between tokens: equal for two layouts of the same JSON."""
    return "".join(_TOKEN.findall(text))


@pytest.mark.parametrize("indent", [0, 2, 4])
def test_the_text_is_json_dumps_of_to_dict_token_for_token(indent: int) -> None:
    doc = _doc()
    text = json_text(members(doc), indent)
    assert _tokens(text) == _tokens(json.dumps(to_dict(doc)))
    assert list(json.loads(text)) == list(to_dict(doc))


def test_objects_are_indented_and_each_list_element_is_one_line() -> None:
    doc = _doc(2)
    lines = json_text(members(doc)).splitlines()
    assert lines[:3] == ["{", '  "title": "t%d",', '  "rows": [']
    row0 = json.dumps(to_dict(doc.rows[0]))
    assert lines[3] == "    " + row0 + ","
    assert lines[4] == "    " + json.dumps(to_dict(doc.rows[1]))
    assert lines[5:9] == ["  ],", '  "order": [', "    " + json.dumps(ODD) + ",", '    "n1"']
    assert '  "empty": []' in lines and lines[-1] == "}"
    assert '  "inner": {' in lines and '    "shape": [' in lines  # a dataclass outside a list is indented


def test_an_empty_object_and_non_string_keys_are_written_as_json_dumps_writes_them() -> None:
    assert json_text([]) == "{}"
    pairs = [("m", {1: "a", False: None, 2.5: [], None: {}})]
    assert _tokens(json_text(pairs)) == _tokens(json.dumps(dict(pairs)))


def test_chunks_are_bounded_and_long_lists_are_written_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc(50)
    whole = json_text(members(doc))
    monkeypatch.setattr(json_text_module, "CHUNK_CHARS", 200)
    monkeypatch.setattr(json_text_module, "ROWS_PER_BATCH", 7)
    chunks = list(iter_json(members(doc)))
    assert "".join(chunks) == whole
    assert len(chunks) > 10
    assert max(map(len, chunks)) < 200 + 7 * max(map(len, whole.splitlines()))
