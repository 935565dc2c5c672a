"""The one serialiser: dataclass trees to JSON-compatible dicts and back, from the type hints."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

import edgeprof.report.serial as serial
from edgeprof.report.serial import from_dict, json_default, members, row_reader, to_dict


class Colour(enum.Enum):
    RED = "red"


@dataclass(frozen=True)
class Leaf:
    name: str
    dims: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class Tree:
    leaf: Leaf
    leaves: tuple[Leaf, ...]
    by_name: Mapping[str, Leaf] = field(default_factory=dict)
    maybe: Leaf | None = None
    colour: Colour = Colour.RED
    scores: list[float] = field(default_factory=list)


def test_round_trip_through_json_keeps_every_type() -> None:
    tree = Tree(Leaf("a", (1, "n")), (Leaf("b"),), {"c": Leaf("c", (2,))}, None, Colour.RED, [0.5])
    data = to_dict(tree)
    assert list(data) == ["leaf", "leaves", "by_name", "maybe", "colour", "scores"]
    assert data["colour"] == "red" and data["leaf"] == {"name": "a", "dims": [1, "n"]}
    assert from_dict(Tree, json.loads(json.dumps(data))) == tree


def test_unknown_keys_are_ignored_and_missing_ones_take_their_default() -> None:
    assert from_dict(Leaf, {"name": "x", "extra": 1}) == Leaf("x")


@dataclass(frozen=True)
class One:
    only: int


@dataclass(frozen=True)
class NoFields:
    pass


@dataclass(frozen=True)
class Hidden:
    shown: str
    hidden: str = field(default="", metadata={"serial": False})


def test_json_default_makes_json_dumps_write_what_to_dict_writes() -> None:
    tree = Tree(Leaf("a", (1, "n")), (Leaf("b"), Leaf("c", ("x",))), {"c": Leaf("c", (2,))}, Leaf("m"), Colour.RED,
                [0.5, float("nan")])
    assert json.dumps(tree, default=json_default) == json.dumps(to_dict(tree))
    assert json.dumps(Hidden("s", "h"), default=json_default) == '{"shown": "s"}'


def test_members_and_row_reader_give_the_serialised_fields_as_they_are() -> None:
    leaf = Leaf("a", (1, "n"))
    assert members(leaf) == [("name", "a"), ("dims", (1, "n"))]  # the tuple as it is
    assert members(Hidden("s", "h")) == [("shown", "s")]
    for cls, obj, values in ((One, One(3), (3,)), (NoFields, NoFields(), ())):
        names, read = row_reader(cls)
        assert read(obj) == values and len(names) == len(values)


@dataclass(frozen=True)
class Table:
    rows: tuple[Any, ...]


def test_a_table_of_rows_is_written_row_by_row_with_its_odd_values_converted() -> None:
    """A list of one dataclass takes the row-at-a-time path; rows whose values differ in type
    (None, an enum, a nested dataclass) each get the conversion their own types need."""
    rows = (Tree(Leaf("a"), ()), Tree(Leaf("b"), (Leaf("c"),), {"k": Leaf("k")}, Leaf("m"), Colour.RED, [1.0]))
    assert to_dict(Table(rows))["rows"] == [
        {"leaf": {"name": "a", "dims": []}, "leaves": [], "by_name": {}, "maybe": None, "colour": "red", "scores": []},
        {"leaf": {"name": "b", "dims": []}, "leaves": [{"name": "c", "dims": []}],
         "by_name": {"k": {"name": "k", "dims": []}}, "maybe": {"name": "m", "dims": []}, "colour": "red",
         "scores": [1.0]},
    ]
    assert to_dict(Table((One(1), One(2), None))) == {"rows": [{"only": 1}, {"only": 2}, None]}
    assert to_dict(Table((NoFields(), NoFields()))) == {"rows": [{}, {}]}


def test_tables_longer_than_a_batch_and_columns_of_tuples_holding_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serial, "_ROWS_PER_BATCH", 3)
    leaves = tuple(Leaf(f"n{i}", (i, "d")) for i in range(10))
    assert to_dict(Tree(Leaf("x"), leaves))["leaves"] == [{"name": f"n{i}", "dims": [i, "d"]} for i in range(10)]
    nested = Table((Table((Leaf("a"),)), Table((Leaf("b"), None))))  # a column of tuples that are not all plain
    assert to_dict(nested) == {"rows": [{"rows": [{"name": "a", "dims": []}]},
                                        {"rows": [{"name": "b", "dims": []}, None]}]}
