"""The one serialiser: dataclass trees to JSON-compatible dicts and back, from the type hints."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from edgeprof.report.serial import from_dict, to_dict


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
