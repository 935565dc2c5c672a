"""Resource limits: millions of nodes, a dim of 2**40, a Loop of 2**62 trips, protobuf bombs
(a claimed size of gigabytes, a file over 2 GiB, subgraphs nested past protobuf's depth, a huge
repeated field): refused with one line or handled in bounded time and memory, with counts that
stay exact Python ints. (Measured times and memory are in docs/hardening.md, not asserted.)"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import edgeprof
from edgeprof.errors import ModelLoadError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.frontends.onnx._read import DEFAULT_MAX_NODES, MAX_FILE_BYTES


def _vi(name: str, shape: list[int] | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def _model(nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
           inits: list[TensorProto] = ()) -> onnx.ModelProto:  # type: ignore[assignment]
    g = helper.make_graph(nodes, "g", inputs, [_vi(nodes[-1].output[0], None)], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def _chain(n: int, op: str = "Identity") -> bytes:
    """A chain of ``n`` nodes built straight into the proto (1 M nodes in about a second)."""
    g = onnx.GraphProto()
    g.name = "chain"
    g.input.append(_vi("v0", [1, 8]))
    for i in range(n):
        node = g.node.add()
        node.op_type = op
        node.input.extend([f"v{i}"] * (2 if op == "Add" else 1))
        node.output.append(f"v{i + 1}")
    g.output.append(_vi(f"v{n}", [1, 8]))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    data: bytes = m.SerializeToString()
    return data


# ---- millions of nodes ------------------------------------------------------------------------


def test_a_graph_above_the_node_limit_is_refused_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "huge.onnx"
    path.write_bytes(_chain(DEFAULT_MAX_NODES + 1))
    with pytest.raises(ModelLoadError) as info:
        load_onnx(path, ShapeRequest())
    msg = str(info.value)
    assert f"{DEFAULT_MAX_NODES + 1:,} nodes" in msg and "EDGEPROF_MAX_NODES" in msg and "\n" not in msg


def test_the_node_limit_counts_subgraph_nodes_and_can_be_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    body_nodes = [helper.make_node("Relu", ["a" if i == 0 else f"b{i}"], [f"b{i + 1}"]) for i in range(30)]
    body_nodes.append(helper.make_node("Identity", ["c"], ["co"]))
    body = helper.make_graph(body_nodes, "body", [_vi("i", [], TensorProto.INT64), _vi("c", [], TensorProto.BOOL),
                                                  _vi("a", [4])], [_vi("co", [], TensorProto.BOOL), _vi("b30", [4])])
    m = _model([helper.make_node("Constant", [], ["M"], value=helper.make_tensor("M", TensorProto.INT64, [], [2])),
                helper.make_node("Loop", ["M", "", "x"], ["y"], body=body)], [_vi("x", [4])])
    monkeypatch.setenv("EDGEPROF_MAX_NODES", "32")  # 2 in the graph + 31 in the body = 33
    with pytest.raises(ModelLoadError, match="33 nodes"):
        edgeprof.profile(m)
    monkeypatch.setenv("EDGEPROF_MAX_NODES", "33")
    assert edgeprof.profile(m).totals.flops == 2 * 30 * 4


# ---- exact counts at absurd sizes ---------------------------------------------------------------


def test_a_dim_of_2_to_the_40_gives_exact_ints() -> None:
    d = 2**40
    m = _model([helper.make_node("MatMul", ["a", "b"], ["c"]), helper.make_node("Relu", ["c"], ["y"])],
               [_vi("a", [2, d]), _vi("b", [d, 3])])
    p = edgeprof.profile(m)
    assert p.totals.macs == 2 * 3 * d and p.totals.flops == 2 * 3 * (2 * d - 1) + 6
    conv = _model([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                  [_vi("x", [1, 2, d, d]), _vi("w", [4, 2, 3, 3])])
    p = edgeprof.profile(conv)
    assert p.totals.macs == 4 * d * d * 18 and p.totals.flops == 4 * d * d * (2 * 18 - 1)
    assert type(p.totals.flops) is int and p.totals.flops > 2**64  # no float, no int64 wrap


def test_a_1d_tensor_of_2_to_the_40_does_not_exhaust_onnx_data_propagation() -> None:
    """ONNX's data propagation holds one entry per element of a 1-D tensor (10**8 elements:
    14 GB): it is skipped for large 1-D tensors, and the count is exact."""
    d = 2**40
    m = _model([helper.make_node("Squeeze", ["x"], ["s"]), helper.make_node("Add", ["s", "s"], ["y"])],
               [_vi("x", [d])])
    p = edgeprof.profile(m)
    assert p.totals.flops == d and any("data propagation was skipped" in n for n in p.notices)


@pytest.mark.parametrize("trips", [2**62, 2**63 - 1])
def test_a_loop_with_an_absurd_trip_count_is_exact(trips: int) -> None:
    body = helper.make_graph(
        [helper.make_node("Add", ["a", "a"], ["b"]), helper.make_node("Identity", ["c"], ["co"])], "body",
        [_vi("i", [], TensorProto.INT64), _vi("c", [], TensorProto.BOOL), _vi("a", [4])],
        [_vi("co", [], TensorProto.BOOL), _vi("b", [4])])
    m = _model([helper.make_node("Constant", [], ["M"], value=helper.make_tensor("M", TensorProto.INT64, [], [trips])),
                helper.make_node("Loop", ["M", "", "x"], ["y"], body=body)], [_vi("x", [4])])
    p = edgeprof.profile(m)
    assert p.totals.flops == p.totals.flops_max == 4 * trips
    assert next(x for x in p.layers if x.op == "Add").calls == trips


# ---- protobuf bombs -----------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_a_claimed_size_of_gigabytes_in_a_small_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.onnx"
    path.write_bytes(_varint(1 << 3) + _varint(8) + _varint(7 << 3 | 2) + _varint(3 * 2**30) + b"\x0a\x00" * 8)
    with pytest.raises(ModelLoadError, match="truncated"):
        load_onnx(path, ShapeRequest())


def test_a_file_over_protobufs_2_gib_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    with open(path, "wb") as f:  # sparse: no disk space, no read
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ModelLoadError, match="2 GiB limit"):
        load_onnx(path, ShapeRequest())


def _nested_if_bytes(depth: int) -> bytes:
    """Subgraphs nested ``depth`` deep, written byte by byte (protobuf's Python API refuses to
    build them past its own depth limit)."""
    leaf = helper.make_graph([helper.make_node("Relu", ["x"], ["r0"])], "leaf", [], [_vi("r0", None)])
    graph = leaf.SerializeToString()
    for d in range(1, depth + 1):
        node = helper.make_node("If", ["c"], [f"r{d}"]).SerializeToString()
        attr = _field(1, b"then_branch") + _field(6, graph) + _varint(20 << 3) + _varint(5)
        node += _field(5, attr)
        graph = _field(1, node) + helper.make_graph([], f"g{d}", [], [_vi(f"r{d}", None)]).SerializeToString()
    top = helper.make_graph([], "top", [_vi("x", [4]), _vi("c", [], TensorProto.BOOL)], []).SerializeToString()
    opset = helper.make_opsetid("", 17).SerializeToString()
    return _varint(1 << 3) + _varint(8) + _field(7, top + graph) + _field(8, opset)


def test_subgraphs_nested_past_protobufs_depth_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.onnx"
    path.write_bytes(_nested_if_bytes(300))
    with pytest.raises(ModelLoadError, match=r"corrupt|cannot parse|nests"):
        load_onnx(path, ShapeRequest())
    shallow = tmp_path / "shallow.onnx"
    shallow.write_bytes(_nested_if_bytes(3))
    onnx.load(str(shallow))  # the builder writes real models: only the depth differs


def test_a_huge_repeated_field_is_handled_in_bounded_time() -> None:
    """A node with 200,000 inputs and a tensor header with 200,000 dims of 1: counted, not hung."""
    m = _model([helper.make_node("Sum", ["x"] * 200_000, ["y"])], [_vi("x", [4])])
    assert edgeprof.profile(m).totals.flops == 4 * (200_000 - 1)
    w = TensorProto()
    w.name, w.data_type = "w", TensorProto.FLOAT
    w.dims.extend([1] * 200_000)
    w.raw_data = np.zeros(1, np.float32).tobytes()
    m = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_vi("x", [1])], [w])
    assert edgeprof.profile(m).totals.weight_bytes == 4


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_given_as_the_model_is_refused_unread() -> None:
    with pytest.raises(ModelLoadError, match="not a regular file"):
        load_onnx("/dev/zero", ShapeRequest())
