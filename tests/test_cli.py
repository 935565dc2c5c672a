"""The command line, run in-process through ``main(argv)`` (plus a few runs of the installed
``edgeprof`` console script).

Most tests replace ``edgeprof.api.profile`` with a stub returning a hand-built Profile, so
that they test the CLI alone (argument parsing, exit codes, output, -o safety). The tests
marked "end to end" run the real pipeline on a small ONNX model built in code and depend on
the ONNX frontend (src/edgeprof/frontends/onnx/) and the Conv/Relu/Flatten/Gemm formulas.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import edgeprof
from edgeprof import api
from edgeprof.cli import MAX_DIM, main, parse_dim, parse_input_spec, parse_value
from edgeprof.errors import ShapeError, UsageError
from edgeprof.report.model import Profile
from tests.render import tiny_cnn, wide_mixed, write_tiny_cnn_onnx

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CONSOLE_SCRIPT = Path(sys.executable).parent / "edgeprof"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code: int, err: str, *, exit_code: int = 2, says: str = "") -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("edgeprof: "), err
    assert code == exit_code, err
    assert says in lines[0], lines[0]
    return lines[0]


class StubProfile:
    """Stands in for edgeprof.api.profile: records the call, returns (or raises) what it is given."""

    def __init__(self, result: Profile | BaseException) -> None:
        self.result = result
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, model: Any, **kwargs: Any) -> Profile:
        progress = kwargs.pop("progress", None)  # the CLI's spinner (tests/test_cli_daily.py)
        assert progress is None or callable(progress)
        self.calls.append((model, kwargs))
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return write_tiny_cnn_onnx(tmp_path / "tiny_cnn.onnx")


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> StubProfile:
    s = StubProfile(tiny_cnn())
    monkeypatch.setattr(api, "profile", s)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return s


# ---- the spec parsers -----------------------------------------------------------------------


def test_parse_input_spec_accepts_plain_and_named_shapes() -> None:
    assert parse_input_spec("1x3x224x224") == (None, (1, 3, 224, 224))
    assert parse_input_spec("images=1x3x320x320") == ("images", (1, 3, 320, 320))
    assert parse_input_spec("7") == (None, (7,))
    assert parse_input_spec(f"x=1x{MAX_DIM}") == ("x", (1, 2**62 - 1))
    assert parse_input_spec("input_ids:0=2x16") == ("input_ids:0", (2, 16))


BAD_SPECS = [
    ("", "the shape is empty"),
    ("1x3xx4", "dim 3 is empty"),
    ("x1x2", "dim 1 is empty"),
    ("1x2x", "dim 3 is empty"),
    ("=1x2", "the input name before '=' is empty"),
    ("images=", "the shape is empty"),
    ("1x-3", "dim 2 (-3) is negative"),
    ("-1", "dim 1 (-1) is negative"),
    ("0x3", "dim 1 is 0; dims must be at least 1"),
    ("1x0", "dim 2 is 0; dims must be at least 1"),
    ("1x2.5", "dim 2 ('2.5') is not an integer"),
    ("1xabc", "dim 2 ('abc') is not an integer"),
    ("1X3", "dim 1 ('1X3') is not an integer"),
    ("1,3,224", "dim 1 ('1,3,224') is not an integer"),
    ("1x+3", "dim 2 ('+3') is not an integer"),
    ("1x 3", "dim 2 (' 3') is not an integer"),
    ("1x３", "dim 2 ('３') is not an integer"),  # a full-width digit is not an ASCII integer
    (f"1x{2**62}", "dim 2 (4611686018427387904) is larger than 2**62-1"),
    (f"1x{2**62 + 1}", "dim 2 (4611686018427387905) is larger than 2**62-1"),
    ("a=b=1x2", "dim 1 ('b=1') is not an integer"),
    (" x=1", "the input name has leading or trailing spaces"),
    ("garbage", "dim 1 ('garbage') is not an integer"),
]


@pytest.mark.parametrize(("spec", "problem"), BAD_SPECS)
def test_parse_input_spec_names_what_is_wrong(spec: str, problem: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_input_spec(spec)
    assert str(info.value).startswith(f"--input {spec!r}: {problem} (expected [NAME=]")


@pytest.mark.parametrize(("spec", "problem"), BAD_SPECS)
def test_a_bad_input_spec_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, spec: str, problem: str
) -> None:
    code, out, err = run(capsys, "profile", str(model_file), f"--input={spec}")
    line = assert_one_error_line(code, err)
    assert line.startswith(f"edgeprof: --input {spec!r}: {problem}")
    assert out == ""
    assert stub.calls == []  # rejected before the model is touched


def test_parse_dim_and_value() -> None:
    assert parse_dim("batch=8") == ("batch", 8)
    assert parse_dim("past_sequence_length=0") == ("past_sequence_length", 0)
    assert parse_value("use_cache=1") == ("use_cache", (1.0,))
    assert parse_value("scales=1,1,2.5,-2") == ("scales", (1.0, 1.0, 2.5, -2.0))


@pytest.mark.parametrize(
    ("flag", "spec", "says"),
    [
        ("--dim", "batch", "expected NAME=N"),
        ("--dim", "=4", "the dim name before '=' is empty"),
        ("--dim", "batch=", "the size is empty"),
        ("--dim", "batch=-1", "the size is negative"),
        ("--dim", "batch=x", "the size is not an integer"),
        ("--dim", "batch=1.5", "the size is not an integer"),
        ("--dim", f"batch={2**62}", "larger than 2**62-1"),
        ("--dim", f"batch={2**62 + 1}", "larger than 2**62-1"),
        ("--value", "flag", "expected NAME=V"),
        ("--value", "=1", "the input name before '=' is empty"),
        ("--value", "flag=", "no value after '='"),
        ("--value", "flag=yes", "value 1 ('yes') is not a number"),
        ("--value", "s=1,,2", "value 2 ('') is not a number"),
        ("--value", "s=1, 2", "value 2 (' 2') is not a number"),
        ("--value", "s=nan", "value 1 (nan) is not a finite number"),
        ("--value", "s=1,inf", "value 2 (inf) is not a finite number"),
    ],
)
def test_bad_dim_and_value_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, flag: str, spec: str, says: str
) -> None:
    code, out, err = run(capsys, "profile", str(model_file), f"{flag}={spec}")
    line = assert_one_error_line(code, err)
    assert line.startswith(f"edgeprof: {flag} {spec!r}: ")
    assert says in line
    assert out == "" and stub.calls == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--input", "a=1x2", "--input", "a=1x3"], "--input 'a' is given twice"),
        (["--dim", "n=1", "--dim", "n=2"], "--dim 'n' is given twice"),
        (["--value", "v=1", "--value", "v=2"], "--value 'v' is given twice"),
    ],
)
def test_a_name_given_twice_is_refused(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, argv: list[str], says: str
) -> None:
    code, _, err = run(capsys, "profile", str(model_file), *argv)
    assert_one_error_line(code, err, says=says)


# ---- argparse's own errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["profile"], "the following arguments are required: MODEL"),
        (["profile", "m.onnx", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["profile", "m.onnx", "--format=xml"], "argument --format: invalid choice: 'xml'"),
        (["profile", "m.onnx", "--top", "-1"], "argument --top: '-1' is not a non-negative integer"),
        (["profile", "m.onnx", "--top", "ten"], "argument --top: 'ten' is not a non-negative integer"),
        (["profile", "m.onnx", "--by-module", "0"], "argument --by-module: '0' is not a positive integer"),
        (["profile", "m.onnx", "--inp", "1x3"], "unrecognized arguments: --inp"),  # no abbreviations
        (["profile", "m.onnx", "--input"], "argument --input: expected one argument"),
        (["profile", "m.onnx", "--input", "-1x3"], "argument --input: expected one argument"),
        (["profile", "m.onnx", "extra.onnx"], "unrecognized arguments: extra.onnx"),
        (["ops", "--format", "csv"], "argument --format: invalid choice: 'csv'"),
        (["--bogus", "ops"], "unrecognized arguments: --bogus"),
        (["--bogus"], "the following arguments are required: COMMAND"),
    ],
)
def test_argparse_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, argv: list[str], says: str
) -> None:
    code, out, err = run(capsys, *argv)
    line = assert_one_error_line(code, err, says=says)
    assert line.endswith("--help'")
    assert out == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert (code, out, err) == (0, f"edgeprof {edgeprof.__version__}\n", "")


def test_help_is_printed_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profile", "--help")
    assert code == 0
    for flag in ("--input", "--dim", "--value", "--format", "-o", "--top", "--by-module", "--by-operator",
                 "--strict", "--no-color"):
        assert flag in out


# ---- what the CLI passes to the API ---------------------------------------------------------


def test_positional_inputs_are_passed_as_a_list(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    code, _, _ = run(capsys, "profile", str(model_file), "--input", "1x3x8x8", "--input", "2x5")
    assert code == 0
    assert stub.calls == [
        (str(model_file), {"input_shapes": [(1, 3, 8, 8), (2, 5)], "dims": {}, "values": {}, "memory": True})
    ]


def test_named_inputs_dims_and_values_are_passed_as_dicts(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    code, _, _ = run(
        capsys, "profile", str(model_file), "--input", "images=1x3x8x8", "--input", "mask=1x8",
        "--dim", "batch=4", "--dim", "past=0", "--value", "use_cache=1", "--value", "scales=1,1,2,2",
    )
    assert code == 0
    (model, kwargs), = stub.calls
    assert model == str(model_file)
    assert kwargs == {
        "input_shapes": {"images": (1, 3, 8, 8), "mask": (1, 8)},
        "dims": {"batch": 4, "past": 0},
        "values": {"use_cache": [1.0], "scales": [1.0, 1.0, 2.0, 2.0]},
        "memory": True,
    }


def test_no_input_flag_passes_none(capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path) -> None:
    run(capsys, "profile", str(model_file))
    assert stub.calls[0][1]["input_shapes"] is None


def test_mixed_input_forms_pass_through_as_ordered_pairs(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, tmp_path: Path
) -> None:
    code, _, _ = run(capsys, "profile", str(tmp_path / "m.pt2"), "--input", "1x3", "--input", "b=1x4")
    assert code == 0
    assert stub.calls[0][1]["input_shapes"] == [(None, (1, 3)), ("b", (1, 4))]


# ---- output formats ----------------------------------------------------------------------------


def test_table_is_plain_when_stdout_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    code, out, err = run(capsys, "profile", str(model_file))
    assert (code, err) == (0, "")
    assert not ANSI.search(out)
    assert "edgeprof report: tiny_cnn" in out
    assert max(len(line) for line in out.splitlines()) <= 100


class FakeTty(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no fd")


@pytest.mark.parametrize(
    ("argv", "env", "coloured"),
    [([], {}, True), (["--no-color"], {}, False), ([], {"NO_COLOR": "1"}, False), (["--format", "md"], {}, False)],
)
def test_colour_only_on_a_terminal_for_the_table(
    monkeypatch: pytest.MonkeyPatch, stub: StubProfile, model_file: Path, argv: list[str], env: dict[str, str],
    coloured: bool,
) -> None:
    tty = FakeTty()
    monkeypatch.setattr(sys, "stdout", tty)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["profile", str(model_file), *argv]) == 0
    assert bool(ANSI.search(tty.getvalue())) is coloured


def test_columns_sets_the_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stub: StubProfile, model_file: Path
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    _, out, _ = run(capsys, "profile", str(model_file))
    assert max(len(line) for line in out.splitlines()) <= 60
    assert max(len(line) for line in out.splitlines()) > 50


def test_json_output_is_the_profile(capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path) -> None:
    code, out, err = run(capsys, "profile", str(model_file), "--format", "json")
    assert (code, err) == (0, "")
    assert Profile.from_json(out) == tiny_cnn()


def test_csv_output_has_a_row_per_layer(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    code, out, _ = run(capsys, "profile", str(model_file), "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("name,op,category,state,")
    assert len(lines) == 1 + len(tiny_cnn().layers)
    assert sum(",not_counted," in line for line in lines) == 2


def test_md_output_honours_top_and_grouping(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    stub.result = wide_mixed()
    code, out, _ = run(capsys, "profile", str(model_file), "--format", "md", "--top", "3", "--by-module", "2",
                       "--by-operator")
    assert code == 0
    assert "### Layers: the 3 costliest of 30" in out
    assert "### By module (depth 2)" in out
    assert "### By operator" in out


def test_top_zero_lists_every_layer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stub: StubProfile, model_file: Path
) -> None:
    stub.result = wide_mixed()
    monkeypatch.setenv("COLUMNS", "250")  # wide enough for the longest name on one line
    _, default, _ = run(capsys, "profile", str(model_file))
    _, everything, _ = run(capsys, "profile", str(model_file), "--top", "0")
    assert "... 5 more layers (use --top 0 for all)" in default
    assert "more layers" not in everything
    for layer in wide_mixed().layers:
        assert layer.name in everything


# ---- --strict ------------------------------------------------------------------------------------


def test_strict_prints_the_report_then_exits_1_naming_the_ops(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    code, out, err = run(capsys, "profile", str(model_file), "--strict")
    assert "edgeprof report: tiny_cnn" in out and "Not counted (" in out
    assert assert_one_error_line(code, err, exit_code=1) == (
        "edgeprof: --strict: 2 node(s) of 1 op type(s) not counted: com.example::Mystery (2)"
    )


def test_strict_writes_the_file_first(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    code, out, err = run(capsys, "profile", str(model_file), "--strict", "--format", "json", "-o", str(target))
    assert_one_error_line(code, err, exit_code=1, says="com.example::Mystery (2)")
    assert out == ""
    assert Profile.from_json(target.read_text()) == tiny_cnn()


def test_strict_with_everything_counted_exits_0(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    stub.result = wide_mixed()
    code, _, err = run(capsys, "profile", str(model_file), "--strict")
    assert (code, err) == (0, "")


# ---- -o FILE --------------------------------------------------------------------------------------


def test_output_file_is_written_and_stdout_stays_empty(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "report.md"
    target.write_text("an older report")
    code, out, err = run(capsys, "profile", str(model_file), "--format", "md", "-o", str(target))
    assert (code, out, err) == (0, "", "")
    assert target.read_text().startswith("## edgeprof report: tiny\\_cnn")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "tiny_cnn.onnx"]


def test_table_to_a_file_has_no_colour(
    monkeypatch: pytest.MonkeyPatch, stub: StubProfile, model_file: Path, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "stdout", FakeTty())
    target = tmp_path / "report.txt"
    assert main(["profile", str(model_file), "-o", str(target)]) == 0
    assert not ANSI.search(target.read_text())


def test_output_into_a_missing_folder(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "profile", str(model_file), "-o", str(tmp_path / "no" / "such" / "r.txt"))
    assert_one_error_line(code, err, says="does not exist")
    assert stub.calls == []
    assert not (tmp_path / "no").exists()


def test_output_onto_a_directory(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "profile", str(model_file), "-o", str(tmp_path))
    assert_one_error_line(code, err, says="is a directory")


@pytest.mark.parametrize("how", ["same", "dotted", "symlink", "hardlink"])
def test_output_onto_the_model_is_refused_and_the_model_is_unchanged(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, tmp_path: Path, how: str
) -> None:
    before = model_file.read_bytes()
    if how == "same":
        target = str(model_file)
    elif how == "dotted":
        target = str(tmp_path / "." / model_file.name)
    elif how == "symlink":
        target = str(tmp_path / "alias.onnx")
        os.symlink(model_file, target)
    else:
        target = str(tmp_path / "hard.onnx")
        os.link(model_file, target)
    code, out, err = run(capsys, "profile", str(model_file), "-o", target)
    assert_one_error_line(code, err, says="that is the model file")
    assert out == ""
    assert model_file.read_bytes() == before
    assert stub.calls == []


def test_a_failed_run_leaves_an_existing_output_file_alone(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "report.txt"
    target.write_bytes(b"keep me")
    stub.result = ShapeError("input 'nope' is not an input of the model (inputs: images)")
    code, out, err = run(capsys, "profile", str(model_file), "-o", str(target))
    assert_one_error_line(code, err, says="input 'nope' is not an input of the model")
    assert out == ""
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt", "tiny_cnn.onnx"]


def test_a_crash_while_rendering_leaves_the_output_file_alone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stub: StubProfile, model_file: Path,
    tmp_path: Path,
) -> None:
    import edgeprof.render.json as render_json

    def explode(profile: Profile) -> Iterator[str]:
        yield "{\n"  # the report is written as it is rendered: a first chunk, then the bug
        raise RuntimeError("renderer bug")

    monkeypatch.setattr(render_json, "json_chunks", explode)
    target = tmp_path / "report.json"
    target.write_bytes(b"keep me")
    code, _, err = run(capsys, "profile", str(model_file), "--format", "json", "-o", str(target))
    assert_one_error_line(code, err, exit_code=3, says="internal error: RuntimeError: renderer bug")
    assert target.read_bytes() == b"keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ---- errors that are not the user's ------------------------------------------------------------


def test_an_unexpected_exception_is_one_line_and_exit_3(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    stub.result = RuntimeError("boom\nsecond line")
    code, out, err = run(capsys, "profile", str(model_file))
    assert assert_one_error_line(code, err, exit_code=3) == (
        "edgeprof: internal error: RuntimeError: boom second line (run with --debug for the traceback)"
    )
    assert out == ""


@pytest.mark.parametrize("where", ["after", "before"])
def test_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path, where: str
) -> None:
    stub.result = RuntimeError("boom")
    argv = ["profile", str(model_file), "--debug"] if where == "after" else ["--debug", "profile", str(model_file)]
    code, _, err = run(capsys, *argv)
    assert code == 3
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("edgeprof: internal error: RuntimeError: boom")


def test_an_edgeprof_error_keeps_its_exit_code_and_one_line(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    stub.result = UsageError("cannot profile this\nat all")
    code, _, err = run(capsys, "profile", str(model_file))
    assert assert_one_error_line(code, err) == "edgeprof: cannot profile this at all"


def test_keyboard_interrupt_is_130_and_one_line(
    capsys: pytest.CaptureFixture[str], stub: StubProfile, model_file: Path
) -> None:
    stub.result = KeyboardInterrupt()
    code, out, err = run(capsys, "profile", str(model_file))
    assert assert_one_error_line(code, err, exit_code=130) == "edgeprof: interrupted"
    assert out == ""


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_broken_pipe_is_quiet(monkeypatch: pytest.MonkeyPatch, stub: StubProfile, model_file: Path) -> None:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["profile", str(model_file)]) == 141
    assert err.getvalue() == ""


# ---- edgeprof ops ----------------------------------------------------------------------------------


def test_ops_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from edgeprof.ops.registry import registered_ops

    entries = registered_ops()
    code, out, _ = run(capsys, "ops", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert sorted(r["op"] for r in rows) == sorted(entries)
    matmul = next(r for r in rows if r["op"] == "MatMul")
    assert matmul == {"op": "MatMul", "state": "counted", "category": "linear", "formula": entries["MatMul"].doc}
    code, out, _ = run(capsys, "ops")
    assert code == 0 and f"Registered ops ({len(entries)})" in out and not ANSI.search(out)
    code, out, _ = run(capsys, "ops", "--format", "md")
    assert code == 0 and "| MatMul | counted | linear |" in out


# ---- the console script, in a real process -----------------------------------------------------


def _script(*argv: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([str(CONSOLE_SCRIPT), *argv], capture_output=True, text=True, env=env, timeout=120,
                          check=False, **kwargs)


def test_console_script_version_and_a_bad_flag() -> None:
    done = _script("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"edgeprof {edgeprof.__version__}\n", "")
    done = _script("profile", "whatever.onnx", "--input", "1x3xx4")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("edgeprof: --input '1x3xx4': dim 3 is empty")
    assert len(done.stderr.splitlines()) == 1


def test_console_script_survives_a_closed_pipe() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before edgeprof writes: like `edgeprof ops | head -0`
    try:
        done = subprocess.run([str(CONSOLE_SCRIPT), "ops"], stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=120, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


# ---- end to end (needs the ONNX frontend and the Conv/Relu/Flatten/Gemm formulas) -------------


def test_end_to_end_table_and_strict(capsys: pytest.CaptureFixture[str], model_file: Path) -> None:
    code, out, err = run(capsys, "profile", str(model_file), "--strict")
    assert "com.example::Mystery" in out
    assert re.search(r"FLOPs \(float ops\) +19,200 ", out)
    assert re.search(r"MACs +9,472 ", out)
    assert assert_one_error_line(code, err, exit_code=1) == (
        "edgeprof: --strict: 2 node(s) of 1 op type(s) not counted: com.example::Mystery (2)"
    )


def test_end_to_end_json_round_trips(capsys: pytest.CaptureFixture[str], model_file: Path) -> None:
    code, out, _ = run(capsys, "profile", str(model_file), "--format", "json", "--input", "images=1x3x8x8")
    assert code == 0
    profile = Profile.from_json(out)
    assert (profile.totals.flops, profile.totals.macs, profile.totals.params) == (19_200, 9_472, 2_682)
    assert profile.totals.is_lower_bound


def test_end_to_end_positional_input_and_batch(capsys: pytest.CaptureFixture[str], model_file: Path) -> None:
    code, out, _ = run(capsys, "profile", str(model_file), "--format", "json", "--input", "2x3x8x8")
    assert code == 0
    assert Profile.from_json(out).totals.macs == 2 * 9_472


def test_end_to_end_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "profile", str(tmp_path / "nope.onnx"))
    assert_one_error_line(code, err, says="nope.onnx")
    assert out == ""


def test_end_to_end_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder = tmp_path / "model.onnx"
    folder.mkdir()
    code, _, err = run(capsys, "profile", str(folder))
    assert_one_error_line(code, err, says="model.onnx")


def test_end_to_end_not_an_onnx_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bogus = tmp_path / "notes.onnx"
    bogus.write_text("this is not a model\n")
    code, _, err = run(capsys, "profile", str(bogus))
    assert_one_error_line(code, err, says="notes.onnx")


def test_end_to_end_truncated_onnx(capsys: pytest.CaptureFixture[str], model_file: Path, tmp_path: Path) -> None:
    data = model_file.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "profile", str(cut))
    assert_one_error_line(code, err, says="cut.onnx")


def test_end_to_end_unknown_input_name(capsys: pytest.CaptureFixture[str], model_file: Path) -> None:
    code, _, err = run(capsys, "profile", str(model_file), "--input", "nosuch=1x3x8x8")
    assert_one_error_line(code, err, says="nosuch")


def test_end_to_end_failure_keeps_the_existing_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.txt"
    target.write_bytes(b"keep me")
    code, _, err = run(capsys, "profile", str(tmp_path / "nope.onnx"), "-o", str(target))
    assert_one_error_line(code, err)
    assert target.read_bytes() == b"keep me"


def test_end_to_end_mixed_named_and_positional_inputs(capsys: pytest.CaptureFixture[str], model_file: Path) -> None:
    code, out, err = run(capsys, "profile", str(model_file), "--format", "json", "--input", "images=1x3x8x8",
                         "--input", "1x3x8x8")
    # the model has one input: the positional shape has no input left to go to
    assert_one_error_line(code, err)
    assert out == ""


def test_end_to_end_console_script(model_file: Path) -> None:
    done = _script("profile", str(model_file), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(",not_counted,") == 2


def test_end_to_end_mixed_forms_fill_the_unnamed_inputs_in_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["a"], ["ra"], name="relu_a"), helper.make_node("Relu", ["b"], ["rb"], name="relu_b")],
        "two_inputs",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n", 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["m", 4])],
        [helper.make_tensor_value_info("ra", TensorProto.FLOAT, ["n", 4]),
         helper.make_tensor_value_info("rb", TensorProto.FLOAT, ["m", 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "two.onnx"
    onnx.save(model, str(path))
    code, out, err = run(capsys, "profile", str(path), "--format", "json", "--input", "b=2x4", "--input", "5x4")
    assert (code, err) == (0, "")
    profile = Profile.from_json(out)
    assert [(s.name, s.shape, s.source) for s in profile.inputs] == [("a", (5, 4), "flag"), ("b", (2, 4), "flag")]
    assert profile.totals.flops == 5 * 4 + 2 * 4  # ReLU: one FLOP per element


def test_every_flag_and_exit_code_is_documented() -> None:
    import argparse

    from edgeprof.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE, build_parser

    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {s for a in parser._actions for s in a.option_strings}
    for sub in subparsers.choices.values():
        flags |= {s for a in sub._actions for s in a.option_strings}
        assert f"edgeprof {sub.prog.split()[-1]}" in doc
    for flag in sorted(flags - {"-h", "--help"}):
        assert f"`{flag}" in doc, f"{flag} is not documented in docs/cli.md"
    for code in (0, 1, 2, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE):
        assert f"| {code} |" in doc
