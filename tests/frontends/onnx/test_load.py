"""The ONNX frontend: a model in, the IR out (nodes, values, weights, names, scopes, info)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import edgeprof
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.ir import Shape, TensorConst
from tests.frontends.onnx_builders import FLOAT, INT64, const, conv_net, make_model, node, save, tensor, vinfo


def test_plain_conv_net_from_a_file(tmp_path: Path) -> None:
    path = save(conv_net(), tmp_path / "net.onnx")
    lm = load_onnx(path, ShapeRequest())
    g = lm.graph
    assert [n.op for n in g.nodes] == ["Conv", "Relu", "GlobalAveragePool", "Flatten", "Gemm"]
    assert g.inputs == ("x",)
    assert g.outputs == ("y",)
    assert g.values["c"].shape == Shape((1, 4, 6, 6))  # 8 - 3 + 1 = 6
    assert g.values["f"].shape == Shape((1, 4))
    assert g.values["y"].shape == Shape((1, 2))
    assert g.values["y"].dtype.name == "float32"
    w = g.weights["conv.weight"]
    assert (w.shape, w.dtype.name, w.role, w.external) == (Shape((4, 3, 3, 3)), "float32", None, False)
    assert w.values is not None and len(w.values) == 108
    assert lm.inputs[0].name == "x" and lm.inputs[0].shape == (1, 3, 8, 8)
    assert lm.inputs[0].dtype == "float32" and lm.inputs[0].source == "model"
    assert lm.notices == ()
    info = lm.info
    assert (info.name, info.format, info.path) == ("net", "onnx", str(path))
    assert info.file_bytes == path.stat().st_size
    assert info.producer == "edgeprof-tests 1.0"
    assert info.opset == "ai.onnx:17"
    conv = g.nodes[0]
    assert conv.name == "/conv/Conv" and conv.scope == "conv" and conv.source_op == "Conv"
    assert conv.attrs["kernel_shape"] == (3, 3)


def test_conv_net_counts_end_to_end(tmp_path: Path) -> None:
    p = edgeprof.profile(save(conv_net(), tmp_path / "net.onnx"))
    layers = {layer.name: layer for layer in p.layers}
    # conv 3x3, 3 -> 4 channels, 6x6 out: 3*3*3*4*36 MACs; (2*27-1)*4*36 + 4*36 FLOPs (bias)
    assert layers["/conv/Conv"].macs == 3888
    assert layers["/conv/Conv"].flops == 53 * 144 + 144
    assert layers["/act/Relu"].flops == 144
    # Gemm 4 -> 2 with bias: 2*i*j FLOPs, i*j MACs
    assert layers["/fc/Gemm"].flops == 16 and layers["/fc/Gemm"].macs == 8
    assert p.totals.params == 4 * 27 + 4 + 8 + 2


def test_model_proto_is_not_modified_and_loads_twice() -> None:
    model = conv_net(batch="N")
    before = model.SerializeToString()
    a = load_onnx(model, ShapeRequest(dims={"N": 2}))
    b = load_onnx(model, ShapeRequest(dims={"N": 2}))
    assert model.SerializeToString() == before
    assert a.graph.values["y"].shape == b.graph.values["y"].shape == Shape((2, 2))
    assert a.info.path == "" and a.info.file_bytes is None and a.info.name == "g"


def test_large_weights_keep_header_only_and_small_ones_keep_values() -> None:
    big = np.ones((5000,), dtype=np.float32)
    model = make_model(
        [node("Add", ["x", "big"], ["y"]), node("Reshape", ["y", "shape"], ["z"])],
        inputs=[("x", [5000])], outputs=["z"],
        initializers=[("big", big), ("shape", np.array([50, 100], dtype=np.int64))],
    )
    g = load_onnx(model, ShapeRequest()).graph
    assert g.weights["big"].values is None and g.weights["big"].shape == Shape((5000,))
    assert g.weights["shape"].values == (50, 100)
    assert g.values["z"].shape == Shape((50, 100))


def test_constant_nodes_become_weights_in_every_value_form() -> None:
    forms = [
        helper.make_node("Constant", [], ["c_tensor"], value=tensor("c_tensor", [[1.0, 2.0]], np.float32)),
        helper.make_node("Constant", [], ["c_float"], value_float=0.5),
        helper.make_node("Constant", [], ["c_floats"], value_floats=[1.0, 2.0, 3.0]),
        helper.make_node("Constant", [], ["c_int"], value_int=7),
        helper.make_node("Constant", [], ["c_ints"], value_ints=[2, 3]),
        helper.make_node("Constant", [], ["c_string"], value_string=b"hi"),
        helper.make_node("Constant", [], ["c_strings"], value_strings=[b"a", b"b"]),
        helper.make_node("Constant", [], ["c_sparse"], sparse_value=helper.make_sparse_tensor(
            tensor("v", [5.0], np.float32), tensor("i", [3], np.int64), [2, 2])),
    ]
    uses = [
        node("Mul", ["x", "c_float"], ["a"]),
        node("Add", ["a", "c_tensor"], ["b"]),
        node("Identity", ["c_floats"], ["o1"]),
        node("Identity", ["c_int"], ["o2"]),
        node("Reshape", ["b", "c_ints"], ["o3"]),
        node("Identity", ["c_string"], ["o4"]),
        node("Identity", ["c_strings"], ["o5"]),
        node("Identity", ["c_sparse"], ["o6"]),
    ]
    model = make_model(forms + uses, inputs=[("x", [3, 2])], outputs=["o1", "o2", "o3", "o4", "o5", "o6"])
    g = load_onnx(model, ShapeRequest()).graph
    assert all(n.op != "Constant" for n in g.nodes)
    w = g.weights
    assert (w["c_tensor"].shape, w["c_tensor"].values) == (Shape((1, 2)), (1.0, 2.0))
    assert (w["c_float"].dtype.name, w["c_float"].shape, w["c_float"].values) == ("float32", Shape(()), (0.5,))
    assert (w["c_floats"].shape, w["c_floats"].values) == (Shape((3,)), (1.0, 2.0, 3.0))
    assert (w["c_int"].dtype.name, w["c_int"].shape, w["c_int"].values) == ("int64", Shape(()), (7,))
    assert (w["c_ints"].shape, w["c_ints"].values) == (Shape((2,)), (2, 3))
    assert (w["c_string"].dtype.name, w["c_string"].values) == ("string", None)
    assert w["c_strings"].shape == Shape((2,))
    assert (w["c_sparse"].shape, w["c_sparse"].values) == (Shape((2, 2)), (0.0, 0.0, 0.0, 5.0))
    assert all(x.role is None for x in w.values())
    assert g.values["o3"].shape == Shape((2, 3))  # Reshape by the Constant's value_ints


def test_initializers_listed_as_graph_inputs_are_weights_not_inputs() -> None:
    model = conv_net(batch="N")
    for t in model.graph.initializer:
        model.graph.input.append(vinfo(t.name, list(t.dims)))
    lm = load_onnx(model, ShapeRequest())
    assert lm.graph.inputs == ("x",)
    assert [s.name for s in lm.inputs] == ["x"]
    assert "conv.weight" in lm.graph.weights
    # a positional shape goes to the real input, not to a weight
    lm2 = load_onnx(model, ShapeRequest(inputs=((None, (2, 3, 8, 8)),)))
    assert lm2.graph.values["c"].shape == Shape((2, 4, 6, 6))


def test_sparse_initializer_is_a_weight() -> None:
    sparse = helper.make_sparse_tensor(tensor("w", [1.0, 2.0], np.float32), tensor("idx", [0, 3], np.int64), [2, 2])
    graph = helper.make_graph([node("MatMul", ["x", "w"], ["y"])], "g", [vinfo("x", [1, 2])], [vinfo("y", None)],
                              sparse_initializer=[sparse])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    g = load_onnx(model, ShapeRequest()).graph
    assert g.weights["w"].shape == Shape((2, 2))
    assert g.weights["w"].values == (1.0, 0.0, 0.0, 2.0)
    assert g.values["y"].shape == Shape((1, 2))


def test_custom_domain_op_is_named_domain_colon_op() -> None:
    model = make_model(
        [node("FusedConv", ["x"], ["y"], domain="com.microsoft", name="fc"), node("Relu", ["y"], ["z"], domain="ai.onnx")],
        inputs=[("x", [1, 3])], outputs=["z"], domains={"com.microsoft": 1},
        value_info=[("y", [1, 3])],
    )
    lm = load_onnx(model, ShapeRequest())
    assert [n.op for n in lm.graph.nodes] == ["com.microsoft::FusedConv", "Relu"]
    assert lm.graph.nodes[0].source_op == "FusedConv"
    assert lm.graph.values["y"].shape == Shape((1, 3))  # the exporter's value_info for a custom op
    assert lm.info.opset == "ai.onnx:17, com.microsoft:1"


def test_model_local_functions_are_inlined() -> None:
    body = [node("Mul", ["a", "a"], ["sq"]), node("Relu", ["sq"], ["b"])]
    fn = helper.make_function("local", "SquareRelu", ["a"], ["b"], body, [helper.make_opsetid("", 17)])
    model = make_model(
        [node("SquareRelu", ["x"], ["h"], domain="local", name="/block1/SquareRelu"),
         node("SquareRelu", ["h"], ["y"], domain="local", name="/block2/SquareRelu")],
        inputs=[("x", [2, 5])], outputs=["y"], domains={"local": 1}, functions=[fn],
    )
    lm = load_onnx(model, ShapeRequest())
    g = lm.graph
    assert [n.op for n in g.nodes] == ["Mul", "Relu", "Mul", "Relu"]
    assert [n.scope for n in g.nodes] == ["block1", "block1", "block2", "block2"]
    assert all(g.values[o].shape == Shape((2, 5)) for n in g.nodes for o in n.outputs)
    p = edgeprof.profile(model)
    assert p.totals.flops == 2 * (10 + 10)  # Mul 10 + Relu 10, twice


def test_node_names_are_unique_and_unnamed_nodes_get_op_index() -> None:
    model = make_model(
        [node("Relu", ["x"], ["a"]), node("Relu", ["a"], ["b"], name="dup"), node("Neg", ["b"], ["c"], name="dup"),
         node("Abs", ["c"], ["d"], name="Relu_0")],
        inputs=[("x", [4])], outputs=["d"],
    )
    names = [n.name for n in load_onnx(model, ShapeRequest()).graph.nodes]
    assert len(set(names)) == 4
    assert names[1] == "dup" and names[3] == "Relu_0"  # real names are kept first
    assert names[0] == "Relu_0_1"  # the generated Relu_0 was taken by a real node
    assert names[2] == "dup_1"


def test_attributes_are_converted() -> None:
    value = helper.make_tensor("v", TensorProto.FLOAT, [1], [2.5])
    model = make_model(
        [node("Shape", ["x"], ["s"]), node("ConstantOfShape", ["s"], ["y"], value=value),
         node("LeakyRelu", ["y"], ["z"], alpha=0.01)],
        inputs=[("x", [2, 3])], outputs=["z"],
    )
    g = load_onnx(model, ShapeRequest()).graph
    cos = next(n for n in g.nodes if n.op == "ConstantOfShape")
    assert cos.attrs["value"] == TensorConst(cos.attrs["value"].dtype, Shape((1,)), (2.5,))  # type: ignore[union-attr]
    leaky = next(n for n in g.nodes if n.op == "LeakyRelu")
    assert leaky.attrs["alpha"] == 0.01  # the float32 attribute read back as the decimal written
    assert g.values["y"].shape == Shape((2, 3))


def test_unsorted_nodes_are_put_in_order() -> None:
    model = make_model(
        [node("Neg", ["a"], ["b"], name="second"), node("Relu", ["x"], ["a"], name="first")],
        inputs=[("x", [3])], outputs=["b"],
    )
    g = load_onnx(model, ShapeRequest()).graph
    assert [n.name for n in g.nodes] == ["first", "second"]
    assert g.values["b"].shape == Shape((3,))


def test_unknown_option_is_a_usage_error() -> None:
    with pytest.raises(edgeprof.UsageError, match="bogus"):
        load_onnx(conv_net(), ShapeRequest(), bogus=1)


def test_big_graph_loads(tmp_path: Path) -> None:
    """A 20k-node chain loads (a linear-time check without a timed assertion)."""
    n = 20000
    nodes = [node("Relu", ["x" if i == 0 else f"v{i - 1}"], [f"v{i}"]) for i in range(n)]
    model = make_model(nodes, inputs=[("x", ["batch", 8])], outputs=[f"v{n - 1}"])
    lm = load_onnx(save(model, tmp_path / "chain.onnx"), ShapeRequest())
    assert len(lm.graph.nodes) == n
    assert lm.graph.values[f"v{n - 1}"].shape == Shape((1, 8))


# ---- a real torch export: module paths as scopes ------------------------------------------------

torch = pytest.importorskip("torch")


class _Block(torch.nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.act = torch.nn.ReLU()

    def forward(self, x: Any) -> Any:
        return self.act(self.conv1(x)) + x


class _Net(torch.nn.Module):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 4, 3)
        self.layer1 = torch.nn.Sequential(_Block(), _Block())
        self.blocks = torch.nn.ModuleList([_Block()])
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x: Any) -> Any:
        x = self.stem(x)
        x = self.layer1(x)
        for b in self.blocks:
            x = b(x)
        return self.head(x.mean((2, 3)))


_CONV_SCOPES = {"stem", "layer1.0.conv1", "layer1.1.conv1", "blocks.0.conv1"}


def _export(tmp_path: Path, dynamo: bool) -> Path:
    import warnings

    torch.manual_seed(0)
    path = tmp_path / ("dynamo.onnx" if dynamo else "torchscript.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(_Net().eval(), (torch.randn(1, 3, 16, 16),), str(path), dynamo=True,
                              input_names=["x"], dynamic_shapes={"x": {0: torch.export.Dim("batch")}}, verbose=False)
        else:
            torch.onnx.export(_Net().eval(), (torch.randn(1, 3, 16, 16),), str(path), dynamo=False,
                              input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    return path


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_torch_export_scopes_are_module_paths(tmp_path: Path, dynamo: bool) -> None:
    lm = load_onnx(_export(tmp_path, dynamo), ShapeRequest(dims={"batch": 2}))
    g = lm.graph
    assert {n.scope for n in g.nodes if n.op == "Conv"} == _CONV_SCOPES
    assert {n.scope for n in g.nodes if n.op == "Relu"} == {"layer1.0.act", "layer1.1.act", "blocks.0.act"}
    gemm = [n for n in g.nodes if n.op == "Gemm"]
    assert len(gemm) == 1 and gemm[0].scope == "head"
    assert g.values[g.outputs[0]].shape == Shape((2, 2))
    assert lm.inputs[0].shape == (2, 3, 16, 16) and lm.inputs[0].source == "flag"
    assert lm.info.producer.startswith("pytorch")
    p = edgeprof.profile(_export(tmp_path, dynamo), dims={"batch": 1})
    # stem 3->4, 3x3, 14x14 out; three blocks of 4->4 3x3 convs at 14x14; head 4->2
    assert p.totals.macs == 27 * 4 * 196 + 3 * 36 * 4 * 196 + 8
    rows = {r.module: r for r in p.by_module(depth=1)}
    assert rows["layer1"].macs == 2 * 36 * 4 * 196


def test_torch_modules_exported_as_functions_keep_call_site_scopes(tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "functions.onnx"
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Net().eval(), (torch.randn(1, 3, 16, 16),), str(path), dynamo=False,
                          input_names=["x"], export_modules_as_functions={_Block}, opset_version=17)
    assert onnx.load(str(path)).functions  # the export really holds local functions
    g = load_onnx(path, ShapeRequest()).graph
    assert {n.scope for n in g.nodes if n.op == "Conv"} == {"stem", "layer1.0", "layer1.1", "blocks.0"}
    assert sum(1 for n in g.nodes if n.op == "Relu") == 3


def test_value_info_dtypes_survive(tmp_path: Path) -> None:
    model = make_model(
        [node("Cast", ["x"], ["y"], to=INT64), node("Cast", ["y"], ["z"], to=FLOAT)],
        inputs=[("x", [2])], outputs=["z"],
    )
    g = load_onnx(model, ShapeRequest()).graph
    assert g.values["y"].dtype.name == "int64" and g.values["z"].dtype.name == "float32"


def test_constant_node_in_subgraph_is_a_subgraph_weight() -> None:
    then_g = helper.make_graph([const("t", [1.0, 2.0], np.float32), node("Add", ["x", "t"], ["ty"])], "then",
                               [], [vinfo("ty", None)])
    else_g = helper.make_graph([node("Neg", ["x"], ["ey"])], "else", [], [vinfo("ey", None)])
    model = make_model(
        [node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
        inputs=[("x", [2]), ("c", [], TensorProto.BOOL)], outputs=["y"],
    )
    g = load_onnx(model, ShapeRequest()).graph
    sub = g.nodes[0].subgraphs["then_branch"]
    assert sub.weights["t"].values == (1.0, 2.0)
    assert [n.op for n in sub.nodes] == ["Add"]
    assert sub.values["ty"].shape == Shape((2,))


def test_softmax_before_opset_13_is_counted_over_the_flattened_rows() -> None:
    import edgeprof
    from tests.frontends.onnx_builders import make_model, node

    for opset, expected in ((11, 2 * (5 * 12 - 2)), (13, 2 * 3 * (5 * 4 - 2))):
        model = make_model([node("Softmax", ["x"], ["y"])], inputs=[("x", (2, 3, 4))], outputs=["y"], opset=opset)
        assert edgeprof.profile(model).totals.flops == expected, opset
