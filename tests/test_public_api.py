"""The public API: __all__ is complete, every name in it resolves to what it says, the orchestration
functions give the command line's figures, and the library's layers call upwards only through api."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import edgeprof
from edgeprof import api, errors
from edgeprof.cli import main
from tests.measure.test_power import FailingNvml

SRC = Path(edgeprof.__file__).resolve().parent
_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(SRC.parent), os.environ.get("PYTHONPATH", "")) if p)}
ORCHESTRATION = ("profile", "load", "predict_latency", "estimate_energy", "measure_memory", "measure_latency",
                 "measure_energy", "measured", "validate", "calibrate", "load_devices")


def test_all_names_exist_and_are_not_shadowed_by_submodules() -> None:
    for name in edgeprof.__all__:
        obj = getattr(edgeprof, name)
        assert not inspect.ismodule(obj), f"edgeprof.{name} is a module, not the API object"


def test_every_public_callable_and_error_is_exported() -> None:
    public = {n for n, o in vars(edgeprof).items() if not n.startswith("_") and not inspect.ismodule(o)}
    assert public <= set(edgeprof.__all__), sorted(public - set(edgeprof.__all__))
    error_types = {n for n, o in vars(errors).items() if inspect.isclass(o) and issubclass(o, Exception)}
    assert error_types <= set(edgeprof.__all__)


def test_every_name_in_all_imports_and_is_documented() -> None:
    namespace: dict[str, object] = {}
    exec(f"from edgeprof import {', '.join(edgeprof.__all__)}", namespace)  # what a user's import does
    for name in edgeprof.__all__:
        obj = namespace[name]
        if name == "__version__":
            assert isinstance(obj, str) and obj.count(".") == 2
            continue
        assert callable(obj), name
        assert inspect.getdoc(obj), f"edgeprof.{name} has no docstring"


def test_the_orchestration_functions_are_exported_from_api() -> None:
    for name in ORCHESTRATION:
        assert name in edgeprof.__all__ and name in api.__all__, name
        assert getattr(edgeprof, name) is getattr(api, name)
        assert inspect.isfunction(getattr(api, name))


def test_the_readme_python_example_uses_only_exported_names() -> None:
    readme = (SRC.parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    used = {name for block in blocks for name in re.findall(r"\bedgeprof\.(\w+)", block)}
    assert {"profile", "measured", "predict_latency", "estimate_energy", "measure_memory"} <= used
    assert used <= set(edgeprof.__all__), sorted(used - set(edgeprof.__all__))


def test_progress_callbacks_are_keyword_options_of_the_long_steps() -> None:
    for name in ("measure_latency", "measure_energy", "measured", "validate", "calibrate"):
        param = inspect.signature(getattr(api, name)).parameters["progress"]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is None, name


def test_the_library_gives_the_figures_of_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _small_mlp(tmp_path / "mlp.onnx")
    out = tmp_path / "cli.json"
    argv = ["profile", str(model), "--device", "rpi5", "--device", "stm32h7", "--fps", "10", "--format", "json"]
    assert main([*argv, "-o", str(out)]) == 0
    p = edgeprof.profile(str(model))
    p = edgeprof.predict_latency(p, ["rpi5", "stm32h7"])
    p = edgeprof.estimate_energy(p, ["rpi5", "stm32h7"], fps=10)
    assert json.loads(out.read_text()) == json.loads(p.to_json())

    measured_out = tmp_path / "measured.json"
    sysfs = tmp_path / "sys"
    assert main([*argv, "--measure", "--measure-runs", "1", "--sysfs-root", str(sysfs), "-o", str(measured_out)]) == 0
    cli = json.loads(measured_out.read_text())
    lib = json.loads(edgeprof.measured(p, runs=1, sysfs_root=sysfs, nvml=FailingNvml()).to_json())
    for section in ("totals", "layers", "inputs"):
        assert cli[section] == lib[section]
    assert cli["latency"]["predicted"] == lib["latency"]["predicted"]
    assert cli["energy"]["estimated"] == lib["energy"]["estimated"]
    # the measurements themselves vary from run to run: the same ones were made, with the same settings
    assert cli["memory"]["measured"]["rss"]["runs"] == lib["memory"]["measured"]["rss"]["runs"] == 1
    assert cli["memory"]["measured"]["rss"]["options"] == lib["memory"]["measured"]["rss"]["options"]
    assert cli["latency"]["measured"]["method"] == lib["latency"]["measured"]["method"]
    assert cli["latency"]["measurement_error"] == lib["latency"]["measurement_error"] == ""
    assert cli["energy"]["sensor_note"].startswith("no power sensor found")
    assert lib["energy"]["sensor_note"].startswith("no power sensor found")


def _small_mlp(path: Path) -> Path:
    """x[batch, 64] -> MatMul [64, 32] -> Relu -> y: ONNX Runtime runs it (the batch dim is assumed 1)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.full((64, 32), 0.5, dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"), helper.make_node("Relu", ["h"], ["y"], name="relu")],
        "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 32])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def _edgeprof_imports(path: Path) -> set[str]:
    """The edgeprof modules ``path`` imports, at any level (module or function)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("edgeprof")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("edgeprof"):
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_only_the_cli_the_sweep_worker_and_the_package_import_api() -> None:
    # the sweep (edgeprof.sweeps) is the layer between the command line and api: its worker calls api
    importers = {p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
                 if any(m == "edgeprof.api" or m.startswith("edgeprof.api.") for m in _edgeprof_imports(p))}
    assert importers == {"__init__.py", "cli.py", "sweeps/jobs.py"}


def test_measure_depends_only_on_report_data_and_itself() -> None:
    allowed = ("edgeprof.measure", "edgeprof.report", "edgeprof.errors")
    for path in (SRC / "measure").glob("*.py"):
        wrong = {m for m in _edgeprof_imports(path) if not m.startswith(allowed)}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"
        wrong = {m for m in _edgeprof_imports(path) if m.startswith("edgeprof.report.render")}
        assert not wrong, f"{path.name} imports the renderers {sorted(wrong)}"


def test_every_measurement_module_imports_without_a_cycle() -> None:
    for path in sorted((SRC / "measure").glob("*.py")):
        name = f"edgeprof.measure.{path.stem}" if path.stem != "__init__" else "edgeprof.measure"
        done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False,
                              env=_ENV)
        assert done.returncode == 0, f"{name}: {done.stderr}"


def test_import_edgeprof_loads_neither_onnx_nor_torch() -> None:
    code = "import edgeprof, sys; print('onnx' in sys.modules, 'torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_ENV)
    assert done.stdout.split() == ["False", "False"]


def test_calibration_lives_under_measure() -> None:
    assert importlib.util.find_spec("edgeprof.devices.calibrate") is None
    from edgeprof.measure.calibrate import Calibration

    assert inspect.signature(edgeprof.calibrate).return_annotation in ("Calibration", Calibration)
