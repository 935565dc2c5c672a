"""``edgeprof compare``: one row per model, the best of each column marked, a failing model
keeps its row with the reason (exit 2), HTML with an escaped scatter plot, progress only on a TTY."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import onnx
import pytest

from edgeprof.cli import main
from edgeprof.compare import compare_models
from edgeprof.errors import ModelLoadError
from edgeprof.render.compare import render_compare
from edgeprof.report.compare import CompareEntry
from edgeprof.report.model import Profile
from tests.render import tiny_cnn, tiny_cnn_onnx


def with_prediction(profile: Profile, device: str = "rpi5", total_s: float = 0.004) -> Profile:
    """``profile`` with a hand-made latency prediction on ``device`` (one layer per layer of the
    profile, each taking an equal part of ``total_s``)."""
    from edgeprof.report.latency import LatencyReport, LayerLatency, PredictedLatency

    share = total_s / max(1, len(profile.layers))
    layers = tuple(LayerLatency(name=x.name, op=x.op, category=x.category, precision="float32", time_s=share,
                                compute_s=share, memory_s=share / 2, overhead_s=0.0, bound="compute")
                   for x in profile.layers)
    predicted = PredictedLatency(device_id=device, device_name="Test <board>", total_s=total_s, fps=1 / total_s,
                                 compute_s=total_s, memory_s=0.0, overhead_s=0.0, is_lower_bound=False, missing=(),
                                 dominant=(), layers=layers, method="hand-made", sources=())
    return dataclasses.replace(profile, latency=LatencyReport(predicted={device: predicted}))


def _small() -> Profile:
    """tiny_cnn with every figure halved-ish: 100 FLOPs, 40 MACs, 9,999 params, 50 weight bytes."""
    base = tiny_cnn()
    totals = dataclasses.replace(base.totals, flops=100, macs=40, params=9_999, weight_bytes=50)
    return dataclasses.replace(base, totals=totals, model=dataclasses.replace(base.model, name="small"))


def _entries() -> list[CompareEntry]:
    return [CompareEntry("a.onnx", tiny_cnn()), CompareEntry("b.onnx", _small()),
            CompareEntry("c.onnx", None, "c.onnx: not an ONNX model")]


def test_json_marks_the_best_of_each_column() -> None:
    data = json.loads(render_compare(_entries(), "json"))
    # tiny_cnn: 19,200 FLOPs, 9,472 MACs, 2,682 params, 10,728 weight bytes; no memory report
    assert [c["key"] for c in data["columns"]] == ["flops", "macs", "params", "weight_bytes"]
    assert data["best"] == {"flops": 100, "macs": 40, "params": 2_682, "weight_bytes": 50}
    a, b, c = data["models"]
    assert a["values"] == {"flops": 19_200, "macs": 9_472, "params": 2_682, "weight_bytes": 10_728}
    assert a["best"] == ["params"] and b["best"] == ["flops", "macs", "weight_bytes"]
    assert c == {"path": "c.onnx", "ok": False, "error": "c.onnx: not an ONNX model"}


def test_table_and_markdown() -> None:
    table = render_compare(_entries(), "table", width=120)
    lines = table.splitlines()
    assert lines[0].split() == ["model", "FLOPs", "MACs", "params", "weight", "size"]
    assert lines[1].startswith("─")  # the terminal's one style: a rule under the header
    assert lines[2].startswith("a.onnx (lower bound)") and "2,682 (2.68 k) *" in lines[2]
    assert "19,200 (19.2 kFLOPs)  " in lines[2] and "100 FLOPs *" in lines[3]
    assert lines[4].split()[:2] == ["c.onnx", "failed"]
    assert "c.onnx: could not be profiled: not an ONNX model" in table
    narrow = render_compare(_entries(), "table", width=60).splitlines()  # the human form alone, then columns dropped
    assert all(len(line) <= 60 for line in narrow)
    assert "19.2 kFLOPs" in narrow[2] and "19,200" not in narrow[2]
    assert any(line.startswith("Not shown, to fit 60 columns: MACs") for line in narrow)
    md = render_compare(_entries(), "md")
    assert "| b.onnx (lower bound) | **100 FLOPs** | **40 MACs** | 9,999 (10.0 k) | **50 B** |" in md
    assert "| c.onnx | could not be profiled: not an ONNX model | | | |\n" in md


def test_html_is_escaped_and_has_a_scatter_when_peaks_exist(tmp_path: Path) -> None:
    html = render_compare([CompareEntry("<script>alert(1)</script>.onnx", None, "<b>bad</b>")], "html")
    assert "<script>alert" not in html and "&lt;b&gt;bad&lt;/b&gt;" in html
    assert '<section id="scatter">' not in html  # no model has a peak memory
    import edgeprof

    path = tmp_path / "m.onnx"
    onnx.save(tiny_cnn_onnx(), str(path))
    profile = edgeprof.profile(str(path))
    html = render_compare([CompareEntry('x"<y>.onnx', profile)], "html")
    assert '<section id="scatter">' in html and html.count('<g class="point">') == 1
    assert 'x"<y>' not in html and "x&quot;&lt;y&gt;.onnx" in html


def test_compare_models_keeps_going_after_a_failure() -> None:
    def fake(path: str) -> Profile:
        if path == "bad":
            raise ModelLoadError("bad: truncated file")
        if path == "bug":
            raise RuntimeError("boom\nsecond line")
        return tiny_cnn()

    entries = compare_models(["ok", "bad", "bug", "ok2"], fake)
    assert [(e.path, e.profile is not None, e.error) for e in entries] == [
        ("ok", True, ""), ("bad", False, "bad: truncated file"),
        ("bug", False, "internal error: RuntimeError: boom second line"), ("ok2", True, "")]


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, so rich draws its live bar on it."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_is_drawn_on_the_given_stream() -> None:
    stream = _Terminal()
    seen: list[str] = []

    def profile(path: str) -> Profile:
        seen.append(path)
        return tiny_cnn() if path == "a.onnx" else _small()

    entries = compare_models(["a.onnx", "b.onnx"], profile, progress=stream)
    assert seen == ["a.onnx", "b.onnx"]  # each model profiled once, in order
    assert [(e.path, e.error) for e in entries] == [("a.onnx", ""), ("b.onnx", "")]
    figures = [(e.profile.totals.flops, e.profile.totals.macs, e.profile.totals.params) for e in entries if e.profile]
    assert figures == [(19_200, 9_472, 2_682), (100, 40, 9_999)]
    drawn = stream.getvalue()
    assert "profiling" in drawn and "0/2" in drawn  # the bar before the first model ...
    assert "profiling b.onnx" in drawn and "2/2" in drawn  # ... and after the last
    assert drawn.endswith("\x1b[2K")  # transient: the bar erases itself, the table follows on a clean line
    # the comparison of these entries marks tiny_cnn's params and _small's FLOPs, MACs and weight as best
    data = json.loads(render_compare(entries, "json"))
    assert [m["best"] for m in data["models"]] == [["params"], ["flops", "macs", "weight_bytes"]]


def test_cli_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.onnx"
    onnx.save(tiny_cnn_onnx(), str(a))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    assert main(["compare", str(a), str(a), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # not a terminal: no progress bar
    data = json.loads(captured.out)
    assert [m["ok"] for m in data["models"]] == [True, True]
    # tiny_cnn's figures (see test_json_marks_the_best_of_each_column) plus its peak memory;
    # two identical models: both are the best of every column
    tiny = {"flops": 19_200, "macs": 9_472, "params": 2_682, "weight_bytes": 10_728, "peak_bytes": 13_544}
    assert [m["values"] for m in data["models"]] == [tiny, tiny]
    assert data["best"] == tiny
    assert [sorted(m["best"]) for m in data["models"]] == [sorted(tiny)] * 2
    assert main(["compare", str(a), str(bad), "--all-columns"]) == 2
    captured = capsys.readouterr()
    row = next(x for x in captured.out.splitlines() if x.startswith(str(bad)))
    assert row.split() == [str(bad), "failed", "-", "-", "-", "-"]
    reason = next(x for x in captured.out.splitlines() if x.startswith(f"{bad}: could not be profiled: "))
    assert str(bad) not in reason[len(str(bad)):]
    good = next(x for x in captured.out.splitlines() if x.startswith(str(a)))
    assert good.split("  ")[1:] == ["19,200 (19.2 kFLOPs) *", "9,472 (9.47 kMACs) *", "2,682 (2.68 k) *",
                                    "10,728 (10.7 kB) *", "13,544 (13.5 kB) *"]
    assert captured.err.startswith("edgeprof: 1 of 2 model(s) could not be profiled")
    out = tmp_path / "cmp.html"
    assert main(["compare", str(a), str(a), "--format", "html", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('<g class="point">') == 2


def test_latency_columns_and_scatter_appear_with_predictions(tmp_path: Path) -> None:
    import edgeprof

    path = tmp_path / "m.onnx"
    onnx.save(tiny_cnn_onnx(), str(path))
    plain = edgeprof.profile(str(path))
    with_latency = with_prediction(plain)
    assert with_latency.latency is not None
    predicted = with_latency.latency.predicted["rpi5"]
    entries = [CompareEntry("plain.onnx", plain), CompareEntry("fast.onnx", with_latency)]
    data = json.loads(render_compare(entries, "json"))
    keys = [c["key"] for c in data["columns"]]
    assert keys[-2:] == ["latency_s:rpi5", "fps:rpi5"]
    assert [c["lower_is_better"] for c in data["columns"]][-2:] == [True, False]
    assert data["models"][0]["values"]["latency_s:rpi5"] is None
    assert data["models"][1]["values"]["fps:rpi5"] == predicted.fps
    assert data["best"]["fps:rpi5"] == predicted.fps
    html = render_compare(entries, "html")
    assert '<section id="latency-scatter">' in html
    assert html.count('<g class="point">') == 2 + 1  # MACs/peak: both; latency/FLOPs: the one with latency
    assert '<section id="latency-scatter">' not in render_compare(entries[:1], "html")


def test_cli_compare_on_devices_adds_latency_fps_and_energy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.onnx"
    onnx.save(tiny_cnn_onnx(), str(a))
    assert main(["compare", str(a), "models/demo.onnx", "--device", "rpi5", "--device", "stm32h7",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = [c["key"] for c in data["columns"]]
    for device in ("rpi5", "stm32h7"):
        assert {f"latency_s:{device}", f"fps:{device}", f"energy_j:{device}"} <= set(keys)
    tiny, demo = (m["values"] for m in data["models"])
    # the demo model does ~10^4 times the work of the tiny CNN: slower and hungrier on every device
    assert tiny["latency_s:rpi5"] < demo["latency_s:rpi5"] and tiny["energy_j:stm32h7"] < demo["energy_j:stm32h7"]
    assert data["best"]["energy_j:rpi5"] == tiny["energy_j:rpi5"]
    assert main(["compare", str(a), "--device", "no-such-device"]) == 2
    assert "unknown device 'no-such-device'" in capsys.readouterr().err


# ---- per-model shapes (issue #15 item 15) -------------------------------------------------


def _cnn(tmp_path: Path) -> Path:
    """tiny_cnn as a file: input ``images`` Nx3x8x8 (symbolic batch N)."""
    path = tmp_path / "cnn.onnx"
    onnx.save(tiny_cnn_onnx(), str(path))
    return path


def _relu(tmp_path: Path, name: str = "relu.onnx") -> Path:
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["B", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["B", 64])])
    path = tmp_path / name
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def _json_rows(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, int | None, str]]:
    data = json.loads(capsys.readouterr().out)
    return [(m["path"], m["values"]["flops"] if m.get("values") else None, m.get("error", "")) for m in data["models"]]


def test_each_model_its_own_shapes_and_one_model_at_several(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    cnn, relu = _cnn(tmp_path), _relu(tmp_path)
    argv = ["compare", f"{cnn}::--input=images=1x3x8x8", f"{cnn}::--input images=2x3x8x8", f"{relu}::--dim=B=4",
            "--format", "json"]
    assert main(argv) == 0
    rows = _json_rows(capsys)
    # tiny_cnn: 19,200 FLOPs per image (counted ops); Relu over 4x64 = 256
    assert rows == [(f"{cnn} [images=1x3x8x8]", 19_200, ""), (f"{cnn} [images=2x3x8x8]", 38_400, ""),
                    (str(relu), 256, "")]


def test_global_flags_apply_to_models_without_their_own(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    cnn, relu = _cnn(tmp_path), _relu(tmp_path)
    assert main(["compare", str(cnn), f"{relu}::--input=x=3x64", "--input", "images=2x3x8x8", "--format", "json"]) == 0
    assert _json_rows(capsys) == [(str(cnn), 38_400, ""), (str(relu), 192, "")]


def test_a_model_lacking_a_global_input_gets_a_row_error(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    cnn, relu = _cnn(tmp_path), _relu(tmp_path)
    assert main(["compare", str(cnn), str(relu), "--input", "images=2x3x8x8", "--format", "json"]) == 2
    out = capsys.readouterr()
    rows = json.loads(out.out)["models"]
    assert rows[0]["ok"] and not rows[1]["ok"]
    assert "no input named 'images'" in rows[1]["error"] and "MODEL::--input" in rows[1]["error"]
    assert out.err.count("\n") == 1


def test_models_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cnn(tmp_path)
    _relu(tmp_path)
    listing = tmp_path / "models.toml"
    listing.write_text('[[model]]\npath = "cnn.onnx"\ninput = ["images=1x3x8x8"]\n\n'
                       '[[model]]\npath = "cnn.onnx"\ninput = "images=3x3x8x8"\nlabel = "cnn at batch 3"\n\n'
                       '[[model]]\npath = "relu.onnx"\ndim = ["B=2"]\n')
    assert main(["compare", "--models-file", str(listing), "--format", "json"]) == 0
    assert _json_rows(capsys) == [(f"{tmp_path / 'cnn.onnx'} [images=1x3x8x8]", 19_200, ""), ("cnn at batch 3", 57_600, ""),
                                  (str(tmp_path / "relu.onnx"), 128, "")]
    assert main(["compare", "--models-file", str(listing), "-o", str(listing)]) == 2  # never over the listing


@pytest.mark.parametrize(("arg", "message"), [
    ("a.onnx::--shape=1x3", "after '::' expected --input=SPEC"),
    ("a.onnx::--input", "after '::' expected --input=SPEC"),
    ("::--input=x=1", "no model before '::'"),
    ("a.onnx::--input=x=1x0x", "a.onnx"),
])
def test_bad_model_flags_are_one_line_usage_errors(arg: str, message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", arg]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_models_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[model]]\npath = "a.onnx"\nshape = "1x3"\n')
    assert main(["compare", "--models-file", str(bad)]) == 2
    assert "unknown key(s) shape" in capsys.readouterr().err
    assert main(["compare"]) == 2
    assert "no model given" in capsys.readouterr().err


def test_validate_gives_each_model_its_shapes_and_a_row_error(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from edgeprof.measure.calibrate import render_toml
    from tests.measure.test_latency import CAL

    host = tmp_path / "host.toml"
    host.write_text(render_toml(CAL))
    relu, cnn = _relu(tmp_path), _cnn(tmp_path)
    argv = ["validate", f"{relu}::--input=x=1x64", f"{relu}::--input=x=8x64", str(cnn), "--input", "x=2x64",
            "--devices-file", str(host), "--max-time", "1", "--format", "json"]
    assert main(argv) == 2  # the cnn has no input x: its row says why, the others are measured
    out = capsys.readouterr()
    entries = json.loads(out.out)
    assert [e["model"] for e in entries] == [f"{relu} [x=1x64]", f"{relu} [x=8x64]", str(cnn)]
    assert all(e["measured_s"] for e in entries[:2])
    assert entries[0]["predicted_s"] < entries[1]["predicted_s"]  # 64 vs 512 elements
    assert entries[2]["measured_s"] is None and "no input named 'x'" in entries[2]["problem"]
    assert "1 model(s) not measured" in out.err
