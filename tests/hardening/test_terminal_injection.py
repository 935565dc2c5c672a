"""Terminal escape injection: a model whose graph name, node names, input name, producer, doc
string and op domain hold terminal control sequences (an OSC 52 clipboard write, a screen clear,
an OSC 8 hyperlink, a C1 CSI, a right-to-left override, a bare carriage return) never gets them
to the terminal: every text format (table, Markdown, CSV), ``compare``, ``check`` and the
one-line errors on stderr show them as visible escapes (``\\x1b``, ``\\u202e``)."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.api import profile as api_profile
from edgeprof.cli import main
from edgeprof.render.html import render_html
from edgeprof.render.terminal import render_terminal

CLIPBOARD = "\x1b]52;c;cHduZWQ=\x07"
CLEAR = "\x1b[2J"
LINK = "\x1b]8;;http://evil\x1b\\"
RLO = "\u202e"
CR = "\r"
CSI_C1 = "\x9b31m"
HOSTILE = CLIPBOARD + CLEAR + LINK + RLO + CR + CSI_C1
FORBIDDEN = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


def _hostile_model(folder: Path) -> Path:
    """Relu -> a custom-domain op (not counted: its node name shows in the 'Not counted' table)
    -> Abs, every name and string hostile."""
    x = f"in{HOSTILE}put"
    nodes = [
        helper.make_node("Relu", [x], ["a"], name=f"/enc{CLIPBOARD}/relu{RLO}/Relu", doc_string=HOSTILE),
        helper.make_node("Mystery", ["a"], ["b"], name=f"/blk{LINK}/Mystery{CR}", domain=f"evil{CLEAR}"),
        helper.make_node("Abs", ["b"], ["y"], name=f"/{CSI_C1}/Abs{CLEAR}"),
    ]
    graph = helper.make_graph(nodes, f"graph{HOSTILE}", [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], doc_string=HOSTILE)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(f"evil{CLEAR}", 1)],
                              producer_name=f"prod{HOSTILE}", producer_version=LINK, doc_string=HOSTILE)
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"model{CLEAR}{RLO}.onnx"  # the file name is the model's name in 'check' and 'compare'
    path.write_bytes(model.SerializeToString())
    return path


def _assert_clean(text: str, what: str) -> None:
    found = [repr(c) for c in FORBIDDEN if c in text]
    assert not found, f"{what}: {', '.join(found)} reached the output"


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["table", "md", "csv"])
def test_profile_prints_no_control_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = _hostile_model(tmp_path)
    code, out, err = _run(["profile", str(path), "--format", fmt, "--by-module", "2", "--by-operator", "--strict"],
                          capsys)
    assert code == 1  # --strict: the Mystery op is not counted; its message names the hostile op
    _assert_clean(out, f"{fmt} stdout")
    _assert_clean(err, f"{fmt} stderr")
    assert err.count("\n") == 1 and err.startswith("edgeprof: ")
    assert "\\x1b" in out  # shown, escaped: the reader sees what the model holds
    if fmt != "csv":
        assert "\\u202e" in out.replace("\\\\", "\\")


def test_terminal_with_colour_and_html_keep_no_control_sequence(tmp_path: Path) -> None:
    profile = api_profile(str(_hostile_model(tmp_path)))
    coloured = render_terminal(profile, color=True)
    assert "\x1b[" in coloured  # rich's own colours are kept...
    for sgr in ("\x1b[1m", "\x1b[0m", "\x1b[33m", "\x1b[31m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[2m", "\x1b[32m"):
        coloured = coloured.replace(sgr, "")
    _assert_clean(coloured, "terminal with colour")  # ...and nothing else
    html = render_html(profile)
    assert "\u202e" not in html and "\x1b" not in html and "\\u202e" in html


def test_compare_and_check_print_no_control_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _hostile_model(tmp_path)
    for fmt in ("table", "md"):
        code, out, err = _run(["compare", str(path), str(path), "--format", fmt], capsys)
        assert code == 0, err
        _assert_clean(out + err, f"compare {fmt}")
        code, out, err = _run(["check", str(path), "--max-flops", "1", "--format", fmt], capsys)
        assert code == 1, err
        _assert_clean(out + err, f"check {fmt}")
        assert "model\\x1b" in out.replace("\\\\", "\\")  # the name, shown escaped


def test_one_line_errors_quoting_model_strings_print_no_control_sequence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _hostile_model(tmp_path)
    # the error lists the model's inputs: the hostile input name
    code, out, err = _run(["profile", str(path), "--input", "nosuch=1x4"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("edgeprof: ") and "in\\x1b" in err.replace("\\\\", "\\"), err
    _assert_clean(err, "--input error")
    # a name typed by the user is echoed escaped too
    code, out, err = _run(["profile", str(path), "--input", f"x{CLEAR}{RLO}=1x4"], capsys)
    assert code == 2 and err.count("\n") == 1
    _assert_clean(err, "--input name echoed")
    # compare keeps going past a failure and names it on stderr
    missing = tmp_path / f"gone{CLIPBOARD}.onnx"
    code, out, err = _run(["compare", str(path), str(missing)], capsys)
    assert code == 2 and err.count("\n") == 1
    _assert_clean(out + err, "compare failure")


def test_control_sequences_in_a_json_report_stay_exact_and_escaped(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path = _hostile_model(tmp_path)
    code, out, _ = _run(["profile", str(path), "--format", "json"], capsys)
    assert code == 0
    _assert_clean(out, "json")
    assert HOSTILE in json.loads(out)["model"]["producer"]  # JSON keeps the exact string
    assert onnx.load(str(path)).producer_name == f"prod{HOSTILE}"
