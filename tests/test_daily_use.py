"""Issue #17, daily use: a short repr and a text summary, pandas views, the API names reachable from
``edgeprof``, a cost registered for a custom op (Python and a TOML ops file), waived ops."""

from __future__ import annotations

import builtins
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import edgeprof
from edgeprof.cli import main
from edgeprof.errors import UsageError
from edgeprof.ops.registry import Uncountable
from edgeprof.ops.user import Expression

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "demo.onnx"
CUSTOM = "com.example::FancyNorm"


def custom_model(path: Path, op: str = "FancyNorm", domain: str = "com.example") -> Path:
    """x (1x8x16) -> Relu -> a custom-domain op (attribute alpha=3) -> y (1x8x16)."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node(op, ["r"], ["y"], name="fancy", domain=domain, alpha=3)]
    graph = helper.make_graph(nodes, "custom", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16])],
                              value_info=[helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 8, 16])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(domain, 1)],
                              ir_version=8)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def forget_user_ops() -> Iterator[None]:
    """The registry is process-wide: every user formula a test registers is removed after it."""
    from edgeprof.ops.registry import registered_ops

    before = set(registered_ops())
    yield
    for op in set(registered_ops()) - before:
        edgeprof.unregister_op(op)
    edgeprof.unregister_op(CUSTOM)


@pytest.fixture(scope="module")
def demo() -> edgeprof.Profile:
    p = edgeprof.profile(str(DEMO))
    return edgeprof.estimate_energy(edgeprof.predict_latency(p, ["rpi5"]), ["rpi5"])


# ---- 8: repr and summary ------------------------------------------------------------------------------


def test_repr_is_one_short_line_and_str_is_the_summary(demo: edgeprof.Profile) -> None:
    text = repr(demo)
    assert len(text) < 200 and "\n" not in text
    assert text.startswith("<Profile 'demo' (onnx): 68.8 MFLOPs, 31.1 MMACs, 549 k params")
    summary = demo.summary()
    assert str(demo) == summary and f"{demo}" == summary
    assert len(summary) < 2000
    for expected in ("FLOPs   68,818,816", "MACs    31,059,088", "params  549,240", "image 1x3x224x224 float32",
                     "predicted on rpi5", "estimated on rpi5", "not counted: none", "peak    4.42 MB"):
        assert expected in summary, expected


def test_print_of_a_profile_prints_the_summary(demo: edgeprof.Profile, capsys: pytest.CaptureFixture[str]) -> None:
    print(demo)
    assert capsys.readouterr().out == demo.summary() + "\n"


def test_the_summary_escapes_model_strings_and_lists_ops_not_counted(tmp_path: Path) -> None:
    p = edgeprof.profile(str(custom_model(tmp_path / "m.onnx")))
    assert f"not counted: {CUSTOM} (1)" in p.summary()
    assert "lower bound" in p.summary() and "lower bound" in repr(p)


# ---- 9: pandas views, names reachable from edgeprof ---------------------------------------------------


def test_to_frame_gives_each_view_as_a_dataframe(demo: edgeprof.Profile) -> None:
    pd = pytest.importorskip("pandas")
    layers = demo.to_frame()
    assert isinstance(layers, pd.DataFrame) and len(layers) == len(demo.layers)
    assert int(layers["flops"].sum()) == demo.totals.flops
    ops = demo.to_frame("operators")
    assert list(ops["op"]) == [r.op for r in demo.by_operator()]
    modules = demo.to_frame("modules", depth=2)
    assert list(modules["module"]) == [r.module for r in demo.by_module(2)]
    with pytest.raises(ValueError, match="view must be"):
        demo.to_frame("rows")  # type: ignore[arg-type]


def test_to_frame_without_pandas_says_how_to_install_it(demo: edgeprof.Profile,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__
    monkeypatch.delitem(sys.modules, "pandas", raising=False)

    def no_pandas(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    monkeypatch.setattr("importlib.import_module", lambda name: no_pandas(name))
    with pytest.raises(ImportError, match=r"needs pandas.*pip install pandas"):
        demo.to_frame("operators")


def test_measurement_and_prediction_names_are_reachable_from_edgeprof() -> None:
    for name in ("predict_latency", "estimate_energy", "measure_latency", "measure_memory", "measure_energy",
                 "measured", "validate", "calibrate", "PredictedLatency", "MeasuredLatency", "LatencyReport",
                 "MemoryReport", "EnergyReport", "DeviceEnergy", "MeasuredEnergy", "ValidationEntry", "Calibration",
                 "Device", "LLMFigures", "OperatorRow", "ModuleRow", "check_budget", "Budget", "CheckResult",
                 "register_op", "load_ops_file", "OpCall", "Arith"):
        assert name in edgeprof.__all__ and getattr(edgeprof, name) is not None, name


def test_check_budget_from_python(demo: edgeprof.Profile) -> None:
    result = edgeprof.check_budget(demo, edgeprof.Budget.from_values({"max_flops": "100M"}, "python"))
    assert result.ok and result.checks[0].value == demo.totals.flops


# ---- 12: a cost for a custom op -------------------------------------------------------------------


@pytest.mark.usefixtures("forget_user_ops")
def test_register_op_with_a_function_counts_the_custom_op(tmp_path: Path) -> None:
    model = str(custom_model(tmp_path / "m.onnx"))
    before = edgeprof.profile(model)
    assert [n.op for n in before.not_counted] == [CUSTOM] and before.totals.is_lower_bound

    def fancy(call: edgeprof.OpCall) -> edgeprof.Arith:
        """5 * numel(in0) FLOPs, alpha MACs per element."""
        n = call.in_numel(0)
        return edgeprof.Arith(ops=5 * n, macs=call.attr_int("alpha", 1) * n)

    edgeprof.register_op(CUSTOM, fancy, category="normalisation")
    after = edgeprof.profile(model)
    assert after.not_counted == () and not after.totals.is_lower_bound
    layer = next(x for x in after.layers if x.op == CUSTOM)
    assert (layer.flops, layer.macs, layer.category, layer.state) == (5 * 128, 3 * 128, "normalisation", "counted")
    assert after.totals.flops == before.totals.flops + 5 * 128
    assert edgeprof.unregister_op(CUSTOM) and edgeprof.profile(model).not_counted


@pytest.mark.usefixtures("forget_user_ops")
def test_register_op_with_an_int_an_expression_or_a_table(tmp_path: Path) -> None:
    model = str(custom_model(tmp_path / "m.onnx"))

    def flops(call: edgeprof.OpCall) -> int:
        return 7 * call.out_numel(0)

    for formula, expected in ((flops, (7 * 128, 0)), ("2 * numel(in0) + in0[-1]", (2 * 128 + 16, 0)),
                              ({"flops": "alpha * numel(in0)", "macs": "in0[1] * in0[2]"}, (3 * 128, 128))):
        edgeprof.register_op(CUSTOM, formula)  # registering again replaces the formula
        layer = next(x for x in edgeprof.profile(model).layers if x.op == CUSTOM)
        assert (layer.flops, layer.macs) == expected, formula


@pytest.mark.usefixtures("forget_user_ops")
def test_a_formula_that_fails_leaves_the_node_not_counted_with_the_reason(tmp_path: Path) -> None:
    model = str(custom_model(tmp_path / "m.onnx"))

    def broken(call: edgeprof.OpCall) -> int:
        raise RuntimeError("no idea")

    edgeprof.register_op(CUSTOM, broken)
    (nc,) = edgeprof.profile(model).not_counted
    assert "RuntimeError: no idea" in nc.reason
    edgeprof.register_op(CUSTOM, "numel(in0) / 3")  # 128 / 3 is not an integer
    (nc,) = edgeprof.profile(model).not_counted
    assert "not an integer" in nc.reason and "use //" in nc.reason
    edgeprof.register_op(CUSTOM, "missing_attr * 2")
    (nc,) = edgeprof.profile(model).not_counted
    assert "'missing_attr'" in nc.reason
    edgeprof.register_op(CUSTOM, {"flops": "missing_attr * 2", "defaults": {"missing_attr": 4}})
    assert edgeprof.profile(model).not_counted == ()


def test_register_op_refuses_edgeprof_s_own_ops_and_bad_formulas() -> None:
    with pytest.raises(UsageError, match="already costs 'Conv'"):
        edgeprof.register_op("Conv", "1")
    with pytest.raises(UsageError, match="unknown category"):
        edgeprof.register_op(CUSTOM, lambda call: 1, category="magic")
    with pytest.raises(UsageError, match="not an expression"):
        edgeprof.register_op(CUSTOM, "2 *")
    with pytest.raises(UsageError, match="at least flops"):
        edgeprof.register_op(CUSTOM, {"macs": "1"})
    with pytest.raises(UsageError, match="unknown key"):
        edgeprof.register_op(CUSTOM, {"flops": "1", "flop": "2"})
    assert not edgeprof.unregister_op(CUSTOM) and not edgeprof.unregister_op("Conv")


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "open('x')", "in0.__class__", "[x for x in in0]", "lambda: 1", "a if b else c",
    "in0[1:]", "x == 1", "f'{in0}'", "'text'", "True", "max(in0, key=len)", "eval('1')", "exec('1')", "2 << 3",
    "(1).bit_length()", "x := 2",
])
def test_expressions_are_arithmetic_only(text: str) -> None:
    with pytest.raises(UsageError):
        Expression(text, "test")


@pytest.mark.parametrize(("text", "value"), [
    ("2 * numel(in0)", 256), ("in0[0] + in0[1] * in0[2]", 129), ("len(in0)", 3), ("max(in0)", 16), ("min(8, 3, 5)", 3),
    ("sum(out0)", 25), ("prod(k)", 6), ("k[-1] ** 2", 9), ("numel(in0) // 3", 42), ("numel(in0) % 3", 2),
    ("2.5 * 4", 10), ("-(-3)", 3), ("(in0[1] + 1) / 3", 3),
])
def test_expression_values(text: str, value: int) -> None:
    from fractions import Fraction

    def shape(*dims: int) -> tuple[Fraction, ...]:
        return tuple(Fraction(d) for d in dims)

    names = {"in0": shape(1, 8, 16), "out0": shape(1, 8, 16), "k": shape(2, 3)}
    assert Expression(text, "test").value(names) == value


@pytest.mark.parametrize(("text", "reason"), [
    ("in0", "is a shape"), ("in0[3]", "out of range"), ("2 ** 65", "exponent"), ("2 ** 64 ** 64", "beyond"),
    ("(2 ** 64) ** 5", "beyond"), ("1 // 0", "division by zero"), ("1 - 2", "negative"), ("in0 * 2", "is a shape"),
    ("1e300", "beyond"), ("nope", "no value"),
])
def test_expression_bounds(text: str, reason: str) -> None:
    from fractions import Fraction

    with pytest.raises(Uncountable, match=reason):
        Expression(text, "test").value({"in0": (Fraction(1), Fraction(8), Fraction(16))})


def test_expression_size_limits() -> None:
    with pytest.raises(UsageError, match="characters"):
        Expression("1+" * 600 + "1", "test")
    with pytest.raises(UsageError, match="parts"):
        Expression("+".join(["1"] * 150), "test")
    with pytest.raises(UsageError, match="not an expression"):
        Expression("(" * 300 + "1" + ")" * 300, "test")


# ---- 12 (command line): --ops-file ----------------------------------------------------------------

OPS_FILE = f'''
[ops."{CUSTOM}"]
category = "normalisation"
flops = "5 * numel(in0)"
macs = "alpha * numel(in0)"
'''


@pytest.mark.usefixtures("forget_user_ops")
def test_ops_file_costs_the_custom_op_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    model = str(custom_model(tmp_path / "m.onnx"))
    ops = tmp_path / "ops.toml"
    ops.write_text(OPS_FILE, encoding="utf-8")
    assert main(["profile", model, "--strict", "--format", "json", "--ops-file", str(ops)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["not_counted"] == [] and report["totals"]["flops"] == 128 + 5 * 128
    assert report["totals"]["macs"] == 3 * 128
    assert edgeprof.load_ops_file(ops) == [CUSTOM]


@pytest.mark.usefixtures("forget_user_ops")
@pytest.mark.parametrize(("text", "message"), [
    ("[ops.\"Conv\"]\nflops = \"1\"", "already costs 'Conv'"),
    ("[ops.\"a::B\"]\nflops = \"__import__('os')\"", "a call of something other than"),
    ("[ops.\"a::B\"]\nmacs = \"1\"", "at least flops"),
    ("[ops.\"a::B\"]\nflops = \"1\"\ncategory = \"magic\"", "unknown category"),
    ("[other]\nx = 1", "no \\[ops"),
    ("[ops.\"a::B\"\n", "not valid TOML"),
])
def test_a_bad_ops_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                               message: str) -> None:
    import re

    ops = tmp_path / "ops.toml"
    ops.write_text(text, encoding="utf-8")
    assert main(["profile", str(DEMO), "--ops-file", str(ops)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and err.count("\n") == 1, err
    from edgeprof.ops.registry import lookup

    assert lookup("a::B") is None  # nothing registered from a bad file


@pytest.mark.usefixtures("forget_user_ops")
def test_o_never_overwrites_the_ops_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ops = tmp_path / "ops.toml"
    ops.write_text(OPS_FILE, encoding="utf-8")
    assert main(["profile", str(DEMO), "--ops-file", str(ops), "-o", str(ops)]) == 2
    assert ops.read_text(encoding="utf-8") == OPS_FILE


# ---- 11: --allow-not-counted -------------------------------------------------------------------------


def test_strict_with_an_op_waived(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(custom_model(tmp_path / "m.onnx"))
    assert main(["profile", model, "--strict", "--format", "json"]) == 1
    assert CUSTOM in capsys.readouterr().err
    assert main(["profile", model, "--strict", "--format", "json", "--allow-not-counted", CUSTOM]) == 0
    assert main(["profile", model, "--strict", "--format", "json", "--allow-not-counted", "other::Op"]) == 1
    assert "not waived by --allow-not-counted" in capsys.readouterr().err


def test_check_with_an_op_waived_by_flag_or_budget_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    model = str(custom_model(tmp_path / "m.onnx"))
    base = ["check", model, "--max-flops", "1M", "--max-latency-ms", "100", "--device", "rpi5", "--format", "json"]
    assert main(base) == 1
    before = json.loads(capsys.readouterr().out)
    assert {c["budget"]: c["status"] for c in before["checks"]}["max_flops"] == "unproven"

    assert main([*base, "--allow-not-counted", CUSTOM]) == 0
    after = json.loads(capsys.readouterr().out)
    status = {c["budget"]: c for c in after["checks"]}
    assert status["max_flops"]["status"] == "pass" and "waived" in status["max_flops"]["detail"]
    assert status["max_latency_ms"]["status"] == "pass"
    assert status["allow_not_counted"]["status"] == "pass" and CUSTOM in status["allow_not_counted"]["detail"]

    budget = tmp_path / "budget.toml"
    budget.write_text(f'[budget]\nmax_flops = "1M"\nallow_not_counted = ["{CUSTOM}"]\n', encoding="utf-8")
    assert main(["check", model, "--budget", str(budget)]) == 0
    assert "waived" in capsys.readouterr().out
    budget.write_text('[budget]\nmax_flops = "1M"\nallow_not_counted = ["other::Op"]\n', encoding="utf-8")
    assert main(["check", model, "--budget", str(budget), "--format", "json"]) == 1
    failed = {c["budget"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert failed["max_flops"]["status"] == "unproven" and failed["allow_not_counted"]["status"] == "fail"
    budget.write_text('[budget]\nmax_flops = "1M"\nallow_not_counted = [1]\n', encoding="utf-8")
    assert main(["check", model, "--budget", str(budget)]) == 2
    assert "a list of op names" in capsys.readouterr().err


def test_budget_merges_the_ops_waived() -> None:
    from edgeprof.budget import merge_budgets

    a = edgeprof.Budget.from_values({"max_flops": "1G", "allow_not_counted": ["x::A"]}, "file:")
    b = edgeprof.Budget.from_values({"allow_not_counted": ["x::B", "x::A"]}, "flags")
    assert merge_budgets(a, b).allow_not_counted == ("x::A", "x::B")


# ---- 10: models with several required inputs; a Hugging Face model folder ---------------------------

WHISPER = {"model_type": "whisper", "d_model": 64, "encoder_layers": 1, "decoder_layers": 1,
           "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 128, "decoder_ffn_dim": 128,
           "num_mel_bins": 16, "max_source_positions": 50, "max_target_positions": 32, "vocab_size": 100,
           "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1,
           "architectures": ["WhisperForConditionalGeneration"]}


@pytest.fixture(scope="module")
def whisper_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import json

    pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("whisper-tiny")
    (folder / "config.json").write_text(json.dumps(WHISPER), encoding="utf-8")
    return folder


def test_a_whisper_style_model_says_which_inputs_to_give(whisper_folder: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(whisper_folder)
    assert main(["profile", folder]) == 2
    err = capsys.readouterr().err
    assert "give both, e.g. --input input_features=1x16x100 --input decoder_input_ids=1xT" in err, err
    assert main(["profile", folder, "--input", "input_features=1x16x100"]) == 2
    err = capsys.readouterr().err
    assert "needs the input 'decoder_input_ids' too: give --input decoder_input_ids=1xT" in err, err
    assert err.count("\n") == 1


def test_a_hugging_face_model_folder_is_accepted_where_a_config_file_is(whisper_folder: Path) -> None:
    shapes = {"input_features": (1, 16, 100), "decoder_input_ids": (1, 4)}
    from_folder = edgeprof.profile(str(whisper_folder), input_shapes=shapes, memory=False)
    from_file = edgeprof.profile(whisper_folder / "config.json", input_shapes=shapes, memory=False)
    assert from_folder.model.format == "hf-config" and from_folder.totals == from_file.totals
    assert from_folder.totals.flops > 0 and not from_folder.not_counted


# ---- 14: the docs say what the code does, in words that stand on their own ------------------------

HISTORY_WORDS = re.compile(r"the seed\b|seed's|seed document|latency issue|devices-and-energy\.md|shared/reference|"
                           r"issue #\d+", re.I)


def _texts() -> dict[str, str]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "src" / "edgeprof").rglob("*.py")), *sorted((ROOT / "src" / "edgeprof").rglob("*.toml"))]
    return {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8") for f in files}


def test_no_reference_to_files_or_history_outside_the_repository() -> None:
    found = [f"{name}: {m.group(0)!r}" for name, text in _texts().items() for m in HISTORY_WORDS.finditer(text)]
    assert not found, found


def test_latency_doc_does_not_deny_the_pytorch_and_litert_measurements() -> None:
    text = (ROOT / "docs" / "latency.md").read_text(encoding="utf-8")
    assert "not implemented" not in text
    assert "measure/litert.py" in text and "measure/torch_latency.py" in text


def test_every_count_of_calibration_benchmarks_is_the_code_s() -> None:
    source = (ROOT / "src" / "edgeprof" / "measure" / "calibrate.py").read_text(encoding="utf-8")
    labels = re.findall(r'run\(.+?, "(\w+)"\)', source) + re.findall(r'\("(\w+)", _\w+\([\d, ]+\), "\w+"\)', source)
    assert len(labels) == len(set(labels)) >= 9
    counts = {(name, int(n)) for name, text in _texts().items()
              for n in re.findall(r"(\d+) (?:single-op )?(?:micro-)?benchmarks\b", text)}
    assert counts and {n for _, n in counts} == {len(labels)}, counts
