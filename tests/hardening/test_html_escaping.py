"""The HTML report escapes every model-provided string: op types, domains, node names, input
and output names, the graph name, producer name and version, doc strings, metadata and the
model's file name, all set to markup that would run script if it were not escaped. Checked on
the HTML text (no browser): the hostile report has exactly the tags and script blocks of a
benign one, no event-handler attribute, and every hostile string shows up escaped."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main

HOSTILE = (
    "<script>window.__xss=1</script>",
    '"><svg onload="window.__xss=2">',
    "'><img src=x onerror=window.__xss=3>",
    "</script><script>window.__xss=4</script>&amp;",
    "<!--",
    "]]><iframe src=javascript:alert(5)>",
)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.handlers += [(tag, k) for k, v in attrs if k.startswith("on") or (v or "").strip().startswith("javascript:")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _model(names: list[str]) -> onnx.ModelProto:
    h = names
    nodes = [
        helper.make_node("Relu", [h[0]], [h[1]], name=h[2], doc_string=h[3]),
        helper.make_node(h[4] if h[4].isidentifier() else "Mystery", [h[1]], [h[5]], name=h[3], domain=h[0]),
        helper.make_node("Neg", [h[5]], ["n"], name=h[1]),
        # a module path (scope) from a TorchScript-style node name: /<module>/<module>/Op
        helper.make_node("Abs", ["n"], ["y"], name=f"/{h[1].replace('/', '|')}/{h[0].replace('/', '|')}/Abs"),
    ]
    graph = helper.make_graph(nodes, h[2], [helper.make_tensor_value_info(h[0], TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], doc_string=h[4])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(h[0], 1)],
                              producer_name=h[5], producer_version=h[1], doc_string=h[3], domain=h[2])
    helper.set_model_props(model, {h[0]: h[1], "description": h[2]})
    model.ir_version = 8
    return model


def _report(tmp_path: Path, capsys: pytest.CaptureFixture[str], names: list[str], file_name: str) -> str:
    path = tmp_path / file_name
    path.write_bytes(_model(names).SerializeToString())
    out = tmp_path / "report.html"
    code = main(["profile", str(path), "--format", "html", "--top", "0", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    return out.read_text(encoding="utf-8")


@pytest.mark.skipif(os.name != "posix", reason="file names with < > \" ' need POSIX")
def test_hostile_strings_in_every_field_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benign = _report(tmp_path, capsys, [f"name{i}" for i in range(6)], "plain.onnx")
    hostile = _report(tmp_path, capsys, list(HOSTILE), "evil\"'<img src=x onerror=window.__xss=6>.onnx")
    plain, evil = _Tags(), _Tags()
    plain.feed(benign)
    evil.feed(hostile)
    assert evil.handlers == plain.handlers == []
    assert sorted(evil.tags) == sorted(plain.tags)  # no tag came from the model
    assert evil.scripts == plain.scripts
    for raw in ("<script>window.__xss", "<svg onload", "<img src=x onerror", "<iframe"):
        assert raw not in hostile
    shown = "".join(evil.text)
    assert "name2" in "".join(plain.text) and "name2" not in shown
    # the hostile names are shown, as text: the node name, the op's domain, the file name
    assert HOSTILE[2] in shown and "evil\"'<img src=x onerror=window.__xss=6>" in shown


def test_the_check_catches_an_unescaped_tag() -> None:
    """The check can fail: a raw tag in the text is seen as a tag with a handler."""
    evil = _Tags()
    evil.feed("<p>" + HOSTILE[2] + "</p>")
    assert evil.handlers == [("img", "onerror")]
