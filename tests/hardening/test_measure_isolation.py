"""Measuring children (``--measure``, ``bench``, ``validate``, ``calibrate``) are isolated: they
import nothing from the folder the user stands in or the model's folder, run with a minimal
environment, have a memory cap, and never outlive edgeprof (Ctrl-C, SIGTERM, SIGHUP)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main
from edgeprof.errors import MeasurementError
from edgeprof.measure.runner import MAX_RSS_ENV, child_env, default_max_rss_bytes, parse_bytes, run_child

_SHADOWS = ("json", "numpy", "onnxruntime", "runpy", "site", "typing", "edgeprof")


def _plant_shadows(folder: Path, marker: Path) -> None:
    """Modules named like ones every child imports; importing any of them writes the marker."""
    for name in _SHADOWS:
        (folder / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\n")


def _relu_model(path: Path) -> Path:
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path.write_bytes(m.SerializeToString())
    return path


def test_a_measured_onnx_model_imports_nothing_from_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker.txt"
    _plant_shadows(tmp_path, marker)
    _relu_model(tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "m.onnx", "--measure", "--measure-runs", "2", "--format", "json"]) == 0
    assert main(["bench", "m.onnx", "--runs", "2"]) == 0
    capsys.readouterr()
    assert not marker.exists(), marker.read_text()


def test_a_measured_callable_imports_the_users_module_but_no_shadow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The user's own module (what they typed) is imported from the current folder, as in the
    parent; a json.py beside it is not."""
    marker = tmp_path / "marker.txt"
    _plant_shadows(tmp_path, marker)
    (tmp_path / "usernet.py").write_text(textwrap.dedent("""
        import torch
        def build():
            return torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU())
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # the parent imports it too (as the CLI does)
    for name in _SHADOWS:  # the parent has its real modules already; make sure no shadow sticks
        assert not ((sys.modules.get(name) and getattr(sys.modules[name], "__file__", "")) or "").startswith(
            str(tmp_path))
    code = main(["profile", "usernet:build", "--input", "1x8", "--measure", "--measure-runs", "2", "--format",
                 "json"])
    capsys.readouterr()
    assert code == 0
    assert not marker.exists(), marker.read_text()


def test_the_child_environment_is_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    monkeypatch.setenv("PYTHONSTARTUP", "/somewhere/startup.py")
    monkeypatch.setenv("SECRET_TOKEN", "x")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    env = child_env({"EXTRA": "1"})
    assert "PYTHONPATH" not in env and "PYTHONSTARTUP" not in env and "SECRET_TOKEN" not in env
    assert env["OMP_NUM_THREADS"] == "3" and env["EXTRA"] == "1"
    code = ("import json, os, sys; print('EDGEPROF_RESULT ' + json.dumps({'path': sys.path, 'flags': "
            "[sys.flags.isolated, sys.flags.ignore_environment], 'env': sorted(os.environ)}))")
    result = run_child(["-c", code], {}, what="probe", timeout_s=60)
    assert result["flags"] == [1, 1]
    assert "" not in result["path"] and os.getcwd() not in result["path"][1:]
    assert "SECRET_TOKEN" not in result["env"] and "PYTHONPATH" not in result["env"]


def test_a_child_that_grows_past_its_memory_cap_is_stopped() -> None:
    code = "import time\nblocks = []\nwhile True:\n    blocks.append(bytearray(32 << 20))\n    time.sleep(0.01)\n"
    start = time.monotonic()
    with pytest.raises(MeasurementError, match=r"over the 256 MiB memory cap \(set EDGEPROF_MEASURE_MAX_RSS"):
        run_child(["-c", code], {}, what="grow", timeout_s=300, max_rss_bytes=256 << 20)
    assert time.monotonic() - start < 120  # stopped by the cap, long before the timeout


def test_the_memory_cap_is_stated_and_adjustable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_RSS_ENV, raising=False)
    assert default_max_rss_bytes() > 1 << 28  # 75 % of this machine's RAM
    monkeypatch.setenv(MAX_RSS_ENV, "512M")
    assert default_max_rss_bytes() == 512 << 20
    assert parse_bytes("4GiB", "x") == 4 << 30 and parse_bytes("1500000", "x") == 1_500_000
    for bad in ("", "0", "-5", "lots", "1" * 40, "5X"):
        with pytest.raises(MeasurementError, match="not a memory size"):
            parse_bytes(bad, MAX_RSS_ENV)


def _hanging_model(path: Path) -> Path:
    """A Loop of 2**62 trips: ONNX Runtime runs it for ever."""
    def vi(name: str, shape: list[int] | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, elem, shape)

    body = helper.make_graph(
        [helper.make_node("Add", ["a", "a"], ["b"]), helper.make_node("Identity", ["c"], ["co"])], "body",
        [vi("i", [], TensorProto.INT64), vi("c", [], TensorProto.BOOL), vi("a", [4])],
        [vi("co", [], TensorProto.BOOL), vi("b", [4])])
    g = helper.make_graph(
        [helper.make_node("Constant", [], ["M"], value=helper.make_tensor("M", TensorProto.INT64, [], [2**62])),
         helper.make_node("Loop", ["M", "", "x"], ["y"], body=body)], "g", [vi("x", [4])], [vi("y", None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path.write_bytes(m.SerializeToString())
    return path


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc to find the child")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_no_orphan_when_edgeprof_is_stopped(tmp_path: Path, sig: signal.Signals) -> None:
    model = _hanging_model(tmp_path / "forever.onnx")
    parent = subprocess.Popen(
        [sys.executable, "-c", "import sys; from edgeprof.cli import main; sys.exit(main(sys.argv[1:]))",
         "profile", str(model), "--measure", "--measure-runs", "1", "--measure-timeout", "600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        children: list[int] = []
        while not children and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
            children = _children_of(parent.pid)
        assert children, "the measuring child never started"
        time.sleep(1.0)  # let it reach the runtime
        parent.send_signal(sig)
        parent.wait(timeout=60)
        gone_by = time.monotonic() + 30
        while any(_alive(c) for c in children) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), f"the child outlived edgeprof after {sig.name}"
        assert parent.returncode != 0
    finally:
        if parent.poll() is None:
            parent.kill()
        for c in _children_of(parent.pid):
            os.kill(c, signal.SIGKILL)
