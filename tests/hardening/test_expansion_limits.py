"""Models that are small on disk but expand past the node limit (#12 items 6 and 7).

* ONNX: a chain of D model-local functions, each calling the next twice, holds 2·D nodes and
  inlines to 2**(D-1) (D = 20: a 1.6 KB file took 205 s and 8.5 GB). The expanded count is
  predicted by a memoised walk of the call graph (``frontends/onnx/_expansion.py``) and compared
  with the node limit before anything is inlined.
* TFLite: D subgraphs, each running the next from two IF operators (both branches): 4**D paths
  (a 3 KB file with D = 7 took 15 s, D = 10 over 120 s). The expanded operator count is
  predicted the same way (``frontends/tflite/_limits.py``); a shared subgraph's memory peak is
  evaluated once (``passes/schedule.py``), so what is under the limit profiles in seconds.

Timings are guarded generously (60 s), not measured: the refusals take about 2 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edgeprof.cli import main
from edgeprof.errors import GraphError, ModelLoadError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.frontends.onnx._expansion import expanded_node_count
from edgeprof.frontends.tflite._limits import expanded_operator_count
from edgeprof.frontends.tflite._read import read_model
from tests.hardening.fuzz_targets import FunctionStep, TfliteStep, function_model, shared_subgraph_tflite

GUARD_S = 60.0


def _doubling_chain(depth: int) -> list[list[FunctionStep]]:
    """F0..F(depth-1): each calls the next twice; the last is one Relu."""
    return [[i + 1, i + 1] for i in range(depth - 1)] + [[-1]]


def _shared_if_chain(depth: int) -> list[list[TfliteStep]]:
    """main -> IF(1, 1); subgraph k -> IF(k+1, k+1) twice; the last a RELU."""
    bodies: list[list[TfliteStep]] = [[("if", 0, 0)]]  # wraps to subgraph 1
    bodies += [[("if", k, k), ("if", k, k)] for k in range(1, depth + 1)]  # subgraph k runs k+1
    bodies.append([-1])
    return bodies


def _refused_by_cli(path: Path, capsys: pytest.CaptureFixture[str], *words: str) -> str:
    start = time.monotonic()
    code = main(["profile", str(path)])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code == 2 and out == "", err
    assert err.count("\n") == 1 and err.startswith("edgeprof: ") and "Traceback" not in err, err
    assert all(w in err for w in words), err
    assert elapsed < GUARD_S
    return err


@pytest.mark.parametrize("depth", [20, 40, 60])
def test_onnx_functions_that_expand_past_the_node_limit_are_refused_before_inlining(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int) -> None:
    model = function_model(_doubling_chain(depth))
    assert len(model.SerializeToString()) < 6000
    assert expanded_node_count(model) == 2 ** (depth - 1)  # exact, past 2**63 too
    path = tmp_path / "chain.onnx"
    path.write_bytes(model.SerializeToString())
    err = _refused_by_cli(path, capsys, "once its functions are inlined", "500,000", "EDGEPROF_MAX_NODES")
    assert f"{2 ** (depth - 1):,} nodes" in err


def test_onnx_functions_under_the_limit_still_profile_and_the_count_is_the_inliners(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = function_model([*_doubling_chain(6), [("if", 0)]])  # an unused function with a subgraph
    lm = load_onnx(model, ShapeRequest())
    assert sum(1 for n in lm.graph.nodes if n.op == "Relu") == 2**5
    monkeypatch.setenv("EDGEPROF_MAX_NODES", str(2**5 - 1))
    with pytest.raises(ModelLoadError, match="32 nodes once its functions are inlined"):
        load_onnx(model, ShapeRequest())


def test_a_huge_chain_of_onnx_functions_is_refused_without_recursion_or_decimal_overflow() -> None:
    """3,000 functions: 2**2999 nodes (over 4,300 digits in decimal): no RecursionError, no
    ValueError from int -> str, one line."""
    model = function_model(_doubling_chain(3000))
    with pytest.raises(ModelLoadError, match=r"more than 2\*\*2999 nodes once its functions are inlined") as info:
        load_onnx(model, ShapeRequest())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bodies", [[[0]], [[1], [0]], [[-1], [1]]])
def test_onnx_functions_that_call_themselves_are_refused(bodies: list[list[FunctionStep]]) -> None:
    with pytest.raises(ModelLoadError, match="calls itself"):
        load_onnx(function_model(bodies), ShapeRequest())


@pytest.mark.parametrize("depth", [10, 20, 60])
def test_tflite_subgraphs_shared_by_if_operators_are_refused_above_the_node_limit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], depth: int) -> None:
    data = shared_subgraph_tflite(_shared_if_chain(depth))
    assert len(data) < 25_000
    # count(leaf) = 1; count(k) = 2 + 4 count(k+1); main = 1 + 2 count(1)
    expected = 1
    for _ in range(depth):
        expected = 2 + 4 * expected
    expected = 1 + 2 * expected
    assert expanded_operator_count(read_model(data), "m") == expected
    path = tmp_path / "shared.tflite"
    path.write_bytes(data)
    _refused_by_cli(path, capsys, "operators once each subgraph is counted at every IF/WHILE/CALL_ONCE", "500,000")


def test_tflite_shared_subgraphs_under_the_limit_profile_in_seconds(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """D = 7: 4**7 paths, 54,613 operators once expanded (15 s before; a shared subgraph's
    memory peak was re-evaluated on every path)."""
    path = tmp_path / "shared.tflite"
    path.write_bytes(shared_subgraph_tflite(_shared_if_chain(7)))
    start = time.monotonic()
    assert main(["profile", str(path), "--format", "json", "-o", str(tmp_path / "out.json")]) == 0
    assert time.monotonic() - start < GUARD_S
    assert capsys.readouterr().err == ""


def test_a_flat_tflite_model_past_the_node_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The same limit as ONNX for a flat model (1 M RELUs took 196 s and 6 GB): shown with a
    lowered limit on 2,000 RELUs."""
    monkeypatch.setenv("EDGEPROF_MAX_NODES", "1999")
    path = tmp_path / "relus.tflite"
    path.write_bytes(shared_subgraph_tflite([[-1] * 2000, []]))
    _refused_by_cli(path, capsys, "2,000 operators", "1,999")


def test_a_tflite_subgraph_that_runs_itself_is_refused_before_building() -> None:
    data = shared_subgraph_tflite([[("if", 0, 0)], [("once", 1)], [("once", 0)]])  # sg1 -> sg2 -> sg1
    with pytest.raises(GraphError, match="calls itself"):
        expanded_operator_count(read_model(data), "m")
