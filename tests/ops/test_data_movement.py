"""Closed-form tests of data movement: 0 FLOPs, the bytes read and written, views at 0 bytes,
and the ops that read only part of an input."""

from __future__ import annotations

import pytest

from edgeprof.ops.registry import Uncountable, lookup
from tests.opcall import cost, val

I64_1 = ((1,), "int64")


@pytest.mark.parametrize(
    ("op", "ins", "out"),
    [
        ("Reshape", [(2, 3, 4), ((2,), "int64")], (6, 4)),
        ("Flatten", [(2, 3, 4)], (2, 12)),
        ("Squeeze", [(2, 1, 4), I64_1], (2, 4)),
        ("Unsqueeze", [(2, 4), I64_1], (2, 1, 4)),
        ("Identity", [(2, 4)], (2, 4)),
        ("Dropout", [(2, 4)], (2, 4)),
    ],
)
def test_views_cost_nothing(op: str, ins: list[object], out: tuple[int, ...]) -> None:
    entry = lookup(op)
    assert entry is not None and entry.view and entry.state == "zero"
    c = cost(op, ins, [out])
    assert (c.flops, c.int_ops, c.macs, c.bytes_read, c.bytes_written) == (0, 0, 0, 0, 0)
    assert c.category.value == "data_movement"


@pytest.mark.parametrize(
    ("op", "ins", "outs", "read", "written"),
    [
        ("Transpose", [(2, 3, 4)], [(4, 3, 2)], 96, 96),
        ("Concat", [(2, 3), (2, 5)], [(2, 8)], 64, 64),
        ("Split", [(6, 4), ((2,), "int64")], [(3, 4), (3, 4)], 96 + 16, 96),
        ("Cast", [(10,)], [((10,), "float16")], 40, 20),
        ("Expand", [(3, 1), ((2,), "int64")], [(3, 4)], 12 + 16, 48),
        ("Tile", [(2, 3), ((2,), "int64")], [(4, 6)], 24 + 16, 96),
        ("Pad", [(2, 2), ((4,), "int64")], [(4, 4)], 16 + 32, 64),
        ("Where", [((4, 1), "bool"), (4, 5), ()], [(4, 5)], 4 + 80 + 4, 80),
        ("DepthToSpace", [(1, 8, 2, 2)], [(1, 2, 4, 4)], 128, 128),
        ("Trilu", [(3, 3)], [(3, 3)], 36, 36),
        ("ConstantOfShape", [((2,), "int64")], [(3, 5)], 16, 60),
        ("OneHot", [((4,), "int64"), ((), "int64"), ((2,), "float32")], [(4, 10)], 32 + 8 + 8, 160),
        ("Constant", [], [(2, 2)], 0, 16),
    ],
)
def test_copies_read_and_write_every_tensor(
    op: str, ins: list[object], outs: list[object], read: int, written: int
) -> None:
    entry = lookup(op)
    assert entry is not None and entry.state == "zero" and not entry.view
    c = cost(op, ins, outs)
    assert (c.flops, c.int_ops, c.macs) == (0, 0, 0)
    assert (c.bytes_read, c.bytes_written) == (read, written)


def test_gather_reads_only_the_gathered_rows() -> None:
    # a 50,000 x 768 embedding table, 10 token ids: reads 10 ids (80 B) + 10 rows (30,720 B)
    c = cost("Gather", [(50_000, 768), ((1, 10), "int64")], [(1, 10, 768)])
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 80 + 30_720, 30_720)
    assert c.category.value == "data_movement"


def test_gather_elements_and_nd() -> None:
    c = cost("GatherElements", [(4, 5), ((4, 2), "int64")], [(4, 2)], axis=1)
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 64 + 32, 32)
    c = cost("GatherND", [(2, 3, 4), ((2, 1), "int64")], [(2, 3, 4)])
    assert (c.bytes_read, c.bytes_written) == (16 + 96, 96)


def test_slice_reads_only_the_slice() -> None:
    # (10, 10) -> rows 0..4: 50 floats + four 1-element int64 operands
    c = cost("Slice", [(10, 10), I64_1, I64_1, I64_1, I64_1], [(5, 10)])
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 200 + 32, 200)
    assert cost("Slice", [(10, 10), I64_1, I64_1], [(5, 10)]).bytes_read == 200 + 16


def test_shape_and_size_read_no_data() -> None:
    c = cost("Shape", [(2, 3, 4)], [((3,), "int64")])
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 0, 24)
    assert cost("Size", [(2, 3, 4)], [((), "int64")]).bytes_written == 8


def test_eye_like_and_cast_like() -> None:
    c = cost("EyeLike", [(4, 4)], [(4, 4)])
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 0, 64)
    c = cost("CastLike", [(10,), ((1,), "float16")], [((10,), "float16")])
    assert (c.bytes_read, c.bytes_written) == (40, 20)


def test_compress() -> None:
    c = cost("Compress", [(5, 4), ((5,), "bool")], [(2, 4)], axis=0)
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 5 + 32, 32)
    with pytest.raises(Uncountable, match="condition"):
        cost("Compress", [(5, 4), ((5,), "bool")], [("n", 4)], axis=0)


def test_scatter_with_and_without_reduction() -> None:
    ins = [(8,), ((4, 1), "int64"), (4,)]
    c = cost("ScatterND", ins, [(8,)])
    assert (c.flops, c.bytes_read, c.bytes_written) == (0, 32 + 32 + 16, 32)
    assert cost("ScatterND", ins, [(8,)], reduction="add").flops == 4
    c = cost("ScatterElements", [((3, 3), "int32"), ((2, 3), "int64"), ((2, 3), "int32")], [((3, 3), "int32")],
             reduction="max")
    assert (c.flops, c.int_ops) == (0, 6)
    with pytest.raises(Uncountable, match="reduction"):
        cost("Scatter", ins, [(8,)], reduction="xor")


def test_meta_inputs_are_declared() -> None:
    expected = {
        "Reshape": {1}, "Slice": {1, 2, 3, 4}, "Gather": {1}, "Expand": {1}, "Tile": {1}, "Pad": {1, 2, 3},
        "Unsqueeze": {1}, "Squeeze": {1}, "Split": {1}, "ConstantOfShape": {0}, "OneHot": {1, 2},
    }
    for op, inputs in expected.items():
        entry = lookup(op)
        assert entry is not None and entry.meta_inputs == frozenset(inputs), op


def test_unshaped_sequence_value_is_uncountable() -> None:
    # a sequence value carries no tensor shape: its bytes cannot be counted
    with pytest.raises(Uncountable, match="shape"):
        cost("SequenceConstruct", [(2, 3), (2, 3)], [val(None)])
