"""Budgets: exact quantity parsing, TOML files, flags overriding the file, the checks and their
statuses, the renderers and the ``edgeprof check`` exit codes (0 all hold, 1 one fails, 2 bad input)."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import onnx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.budget import Budget, check_budget, load_budget_file, merge_budgets, parse_quantity
from edgeprof.cli import main
from edgeprof.errors import UsageError
from edgeprof.render.budget import render_check
from tests.render import tiny_cnn, tiny_cnn_onnx


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2G", 2_000_000_000), ("1g", 1_000_000_000), ("5M", 5_000_000), ("500K", 500_000), ("500k", 500_000),
     ("3T", 3_000_000_000_000), ("10", 10), ("1.5M", 1_500_000), (".5K", 500), ("0.001G", 1_000_000),
     (" 7 G ", 7_000_000_000), (42, 42), ("1.0000001G", 1_000_000_100)],
)
def test_parse_quantity_is_exact(text: str | int, expected: int) -> None:
    assert parse_quantity(text, "x") == expected


def test_parse_quantity_keeps_fractions() -> None:
    assert parse_quantity("1.5", "x") == Fraction(3, 2)


@pytest.mark.parametrize("text", ["", "G", "2GB", "-1", "1e9", "2 G G", "1,000", "nan", "0x10"])
def test_parse_quantity_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="--max-flops"):
        parse_quantity(text, "--max-flops")


def test_parse_quantity_rejects_bools_and_negative_ints() -> None:
    with pytest.raises(UsageError):
        parse_quantity(True, "x")
    with pytest.raises(UsageError):
        parse_quantity(-3, "x")


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from([("", 1), ("K", 10**3), ("M", 10**6),
                                                                   ("G", 10**9), ("T", 10**12)]))
def test_parse_quantity_integer_times_suffix(n: int, suffix: tuple[str, int]) -> None:
    assert parse_quantity(f"{n}{suffix[0]}", "x") == n * suffix[1]


def test_megabytes_are_decimal() -> None:
    assert Budget.from_values({"max_size_mb": "10", "max_peak_mb": "0.5"}, "flags") == Budget(
        max_size_mb=Fraction(10_000_000), max_peak_mb=Fraction(500_000))


def test_flag_names_appear_in_errors() -> None:
    with pytest.raises(UsageError, match=r"^--max-size-mb: 'ten'"):
        Budget.from_values({"max_size_mb": "ten"}, "flags")


def test_toml_file_and_flags_override(tmp_path: Path) -> None:
    path = tmp_path / "budget.toml"
    path.write_text('[budget]\nmax_flops = "2G"\nmax_params = 5000000\nmax_size_mb = 1.5\n', encoding="utf-8")
    from_file = load_budget_file(str(path))
    assert from_file == Budget(max_flops=Fraction(2 * 10**9), max_params=Fraction(5 * 10**6),
                               max_size_mb=Fraction(1_500_000))
    merged = merge_budgets(from_file, Budget.from_values({"max_flops": "1K", "max_macs": None}, "flags"))
    assert merged == Budget(max_flops=Fraction(1000), max_params=Fraction(5 * 10**6), max_size_mb=Fraction(1_500_000))


@pytest.mark.parametrize(
    ("content", "message"),
    [("[budget]\nmax_flop = 1\n", "unknown budget 'max_flop'"), ("max_flops = 1\n", "no \\[budget\\] table"),
     ("[budget\n", "not valid TOML"), ('[budget]\nmax_flops = "lots"\n', "max_flops: 'lots' is not a quantity"),
     ("[budget]\nmax_flops = true\n", "expected a number")],
)
def test_bad_toml_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_budget_file(str(path))


def test_missing_toml_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No such file"):
        load_budget_file(str(tmp_path / "none.toml"))


def test_checks_against_tiny_cnn_figures() -> None:
    # tiny_cnn (worked out in tests.render): 19,200 FLOPs, 9,472 MACs, 2,682 params, 10,728 weight bytes;
    # two nodes are not counted, so FLOPs and MACs are lower bounds.
    counted = dataclasses.replace(tiny_cnn(), not_counted=(),
                                  totals=dataclasses.replace(tiny_cnn().totals, is_lower_bound=False))
    budget = Budget(max_flops=Fraction(19_200), max_macs=Fraction(9_471), max_params=Fraction(2_682),
                    max_size_mb=Fraction(10_728))
    result = check_budget(counted, budget)
    assert [(c.budget, c.value, c.limit, c.status) for c in result.checks] == [
        ("max_flops", 19_200, 19_200, "pass"), ("max_macs", 9_472, 9_471, "fail"),
        ("max_params", 2_682, 2_682, "pass"), ("max_size_mb", 10_728, 10_728, "pass"),
    ]
    assert not result.ok
    assert check_budget(counted, dataclasses.replace(budget, max_macs=Fraction(9_472))).ok


def test_a_lower_bound_cannot_prove_a_budget() -> None:
    result = check_budget(tiny_cnn(), Budget(max_flops=Fraction(10**9), max_params=Fraction(10**9)))
    assert [c.status for c in result.checks] == ["unproven", "pass"]
    assert not result.ok


def test_peak_memory_unknown_without_a_memory_report() -> None:
    result = check_budget(tiny_cnn(), Budget(max_peak_mb=Fraction(10**9)))
    assert result.checks[0].status == "unknown" and result.checks[0].value is None and not result.ok


def test_no_budget_is_an_error() -> None:
    with pytest.raises(UsageError, match="no budget given"):
        check_budget(tiny_cnn(), Budget())


def test_renderers() -> None:
    result = check_budget(tiny_cnn(), Budget(max_params=Fraction(2_000), max_size_mb=Fraction(3, 2)))
    data = json.loads(render_check(result, "json"))
    assert data["ok"] is False
    assert [(c["budget"], c["value"], c["limit"], c["status"]) for c in data["checks"]] == [
        ("max_params", 2_682, 2_000, "fail"), ("max_size_mb", 10_728, "3/2", "fail")]
    md = render_check(result, "md")
    assert md.startswith("## edgeprof budget check: tiny\\_cnn\n\n**FAIL**: 2 budget(s) not met.")
    assert "| `max_params` | params | 2,682 | 2,000 | ❌ **fail** |" in md
    table = render_check(result, "table")
    assert table.splitlines()[0] == "edgeprof budget check: tiny_cnn: FAIL (2 budget(s) not met)"
    assert table.splitlines()[2].startswith("─") and "FAIL" in table.splitlines()[3]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "m.onnx"
    model = tiny_cnn_onnx()
    del model.graph.node[-2:]  # drop the two uncountable custom nodes: every figure exact
    model.graph.output[0].name = "logits"
    model.opset_import.pop()
    onnx.save(model, str(path))
    return path


def test_cli_exit_codes(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # at batch 1: 19,200 FLOPs, 9,472 MACs, 2,682 params, 10,728 weight bytes
    assert main(["check", str(model), "--max-flops", "19.2K", "--max-macs", "9472", "--max-params", "2682"]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["check", str(model), "--max-flops", "19199"]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert main(["check", str(model), "--max-flops", "2X"]) == 2
    assert "--max-flops: '2X' is not a quantity" in capsys.readouterr().err
    assert main(["check", str(model)]) == 2
    assert "no budget given" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.onnx"), "--max-flops", "1G"]) == 2
    budget = tmp_path / "b.toml"
    budget.write_text('[budget]\nmax_flops = "1K"\nmax_size_mb = "0.010728"\n', encoding="utf-8")
    assert main(["check", str(model), "--budget", str(budget), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["checks"][0]["status"] == "fail"
    assert main(["check", str(model), "--budget", str(budget), "--max-flops", "1G", "--format", "md"]) == 0
    assert "**PASS**: all budgets hold." in capsys.readouterr().out


# ---- latency and energy budgets on a device -------------------------------------------------


def _on_device(profile: Any, power_w: float = 2.0) -> Any:
    """``profile`` with a prediction and an energy estimate on a hand-made device 'dev'
    (1 GFLOP/s, 1 GB/s, no overheads, 45 nm, 1 MB on chip, ``power_w``)."""
    from edgeprof.devices.catalogue import Device, Figure
    from edgeprof.passes.energy import with_energy
    from edgeprof.passes.latency import with_predictions

    def fig(v: float) -> Figure:
        return Figure(v, "measured", "test")

    dev = Device("dev", "Dev", "", "host", peak_fp32_flop_per_s=fig(1e9), memory_bandwidth_bytes_per_s=fig(1e9),
                 process_node_nm=fig(45), onchip_bytes=fig(2**20), power_w=fig(power_w))
    return with_energy(with_predictions(profile, [dev]), [dev])


def _exact_tiny() -> Any:
    p = tiny_cnn()
    return dataclasses.replace(p, not_counted=(), layers=tuple(x for x in p.layers if x.state != "not_counted"),
                               totals=dataclasses.replace(p.totals, is_lower_bound=False))


def test_latency_budget_on_a_device() -> None:
    p = _on_device(_exact_tiny())
    total_ms = p.latency.predicted["dev"].total_s * 1e3
    ok = check_budget(p, Budget.from_values({"max_latency_ms": repr(total_ms * 1.01)}, "flags"))
    assert ok.ok and ok.checks[0].figure == "predicted latency on dev" and "not a measurement" in ok.checks[0].detail
    bad = check_budget(p, Budget.from_values({"max_latency_ms": repr(total_ms * 0.99)}, "flags"))
    assert bad.checks[0].status == "fail"
    assert bad.checks[0].value == pytest.approx(total_ms)


def test_a_latency_that_is_a_lower_bound_cannot_prove_a_budget() -> None:
    p = _on_device(tiny_cnn())  # two ops not counted: the prediction is a lower bound
    result = check_budget(p, Budget.from_values({"max_latency_ms": "1000"}, "flags"))
    assert result.checks[0].status == "unproven" and "lower bound" in result.checks[0].detail


def test_energy_budget_uses_the_range() -> None:
    p = _on_device(_exact_tiny())
    e = p.energy.estimated["dev"].estimated_j
    mj = [x * 1e3 for x in (e.low, e.mid, e.high)]

    def status(limit_mj: float) -> str:
        return check_budget(p, Budget.from_values({"max_energy_mj": f"{limit_mj:.30f}"}, "flags")).checks[0].status

    assert status(mj[2] * 1.01) == "pass"
    assert status(mj[1] * 0.99) == "fail"
    assert mj[1] < mj[2]  # the range spans the uncertainty of the latency and the power figure
    between = (mj[1] + mj[2]) / 2
    check = check_budget(p, Budget.from_values({"max_energy_mj": f"{between:.30f}"}, "flags")).checks[0]
    assert check.status == "unproven" and "high end" in check.detail


def test_device_budget_without_a_prediction_is_unknown() -> None:
    result = check_budget(tiny_cnn(), Budget.from_values({"max_energy_mj": "5"}, "flags"))
    assert result.checks[0].status == "unknown" and "--device" in result.checks[0].detail


def test_cli_latency_and_energy_budgets(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(model), "--max-latency-ms", "50"]) == 2
    assert "needs --device ID" in capsys.readouterr().err
    assert main(["check", str(model), "--max-latency-ms", "1000", "--max-energy-mj", "1000", "--device", "rpi5",
                 "--format", "json"]) == 0
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert [(c["budget"], c["status"]) for c in checks] == [("max_latency_ms", "pass"), ("max_energy_mj", "pass"),
                                                            ("fits_device", "pass")]
    assert checks[2]["figure"] == "fits in RAM on rpi5" and checks[2]["limit"] == 8_000_000_000
    assert main(["check", str(model), "--max-energy-mj", "0.000001", "--device", "rpi5", "--device", "stm32h7"]) == 1
    out = capsys.readouterr().out
    assert "rpi5: estimated" in out and "stm32h7: estimated" in out
    budget = tmp_path / "b.toml"
    budget.write_text('[budget]\nmax_latency_ms = "0.000001"\n', encoding="utf-8")
    assert main(["check", str(model), "--budget", str(budget), "--device", "rpi5"]) == 1
    assert main(["check", str(model), "--max-energy-mj", "5", "--device", "nope"]) == 2
    assert "unknown device 'nope'" in capsys.readouterr().err


def test_a_model_that_does_not_fit_the_device_fails_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 1.6 GB float32 MatMul weight on a 0.5 GB device: check fails on the fit alone, and the
    latency notes say it does not fit."""
    import onnx
    from onnx import TensorProto, helper

    big = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[20000, 20000])
    big.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "w.bin"), ("offset", "0"), ("length", str(4 * 20000 * 20000))):
        entry = big.external_data.add()
        entry.key, entry.value = k, v
    with open(tmp_path / "w.bin", "wb") as f:
        f.truncate(4 * 20000 * 20000)  # sparse: no disk used
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 20000])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 20000])], [big])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = tmp_path / "big.onnx"
    onnx.save(m, str(path))
    assert main(["check", str(path), "--max-params", "10000000000", "--device", "ncs2", "--device", "rpi5",
                 "--format", "json"]) == 1
    checks = {c["figure"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["fits in RAM on ncs2"]["status"] == "fail"
    assert checks["fits in RAM on ncs2"]["detail"].startswith("ncs2: does not fit: needs 1.65 GB, has 500 MB")
    assert checks["fits in RAM on rpi5"]["status"] == "pass"
    assert main(["profile", str(path), "--device", "ncs2"]) == 0
    out = capsys.readouterr().out
    assert "ncs2: does not fit: needs 1.65 GB, has 500 MB of RAM" in " ".join(out.split())
