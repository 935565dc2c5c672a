"""Module paths from exporter node names and metadata."""

from __future__ import annotations

import pytest
from onnx import helper

from edgeprof.frontends.onnx._scope import node_scope, scope_from_metadata, scope_from_name


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("/layer1/layer1.0/conv1/Conv", "layer1.0.conv1"),  # a Sequential's child: 'layer1.0'
        ("/blocks.0/conv1/Conv", "blocks.0.conv1"),  # a ModuleList called from the parent
        ("/model/encoder/layer.0/attention/self/query/MatMul", "model.encoder.layer.0.attention.self.query"),
        ("/blocks/blocks.0/blocks.0.1/Relu", "blocks.0.1"),  # nested Sequentials
        ("/layer/layer/layer.0/Relu", "layer.layer.0"),  # a child named like its parent
        ("/Constant", ""),
        ("Conv_12", ""),
        ("", ""),
    ],
)
def test_scope_from_torchscript_names(name: str, scope: str) -> None:
    assert scope_from_name(name) == scope


def test_scope_from_dynamo_metadata() -> None:
    props = {"pkg.torch.onnx.name_scopes": "['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d_1']"}
    assert scope_from_metadata(props) == "layer1.0.conv1"
    assert scope_from_metadata({"pkg.torch.onnx.name_scopes": "['', 'mean']"}) == ""
    ns = ": __main__.Net/head: torch.nn.modules.linear.Linear/linear: aten.linear.default"
    assert scope_from_metadata({"namespace": ns}) == "head"
    assert scope_from_metadata({"pkg.torch.onnx.name_scopes": "not a list ["}) is None
    assert scope_from_metadata({}) is None


def test_metadata_wins_over_the_name() -> None:
    n = helper.make_node("Relu", ["x"], ["y"], name="/wrong/Relu")
    p = n.metadata_props.add()
    p.key, p.value = "pkg.torch.onnx.name_scopes", "['', 'right', 'relu']"
    assert node_scope(n) == "right"
    assert node_scope(helper.make_node("Relu", ["x"], ["y"], name="/wrong/Relu")) == "wrong"
