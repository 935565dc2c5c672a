"""No code from models: no unpickling, eval, exec, YAML or marshal loading of anything a model
file provides; checkpoints (``.pt/.pth/.bin/.ckpt/.pkl``) are refused unread, a pickle renamed
``.onnx`` is recognised and refused, and a Hugging Face config's ``auto_map`` custom code is
never imported. ``package.module:callable`` is imported: it is what the *user* typed on the
command line (like ``python -m``), never a string read from a model."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import pytest

import edgeprof
from edgeprof.cli import main
from edgeprof.errors import ModelLoadError
from tests.hardening.fuzz_targets import HF_BASES

SRC = Path(edgeprof.__file__).resolve().parent

# Calls that load code or objects. Each allowed site is named with why it is safe.
_DANGEROUS = {"pickle.load", "pickle.loads", "torch.load", "eval", "exec", "yaml.load", "yaml.unsafe_load",
              "marshal.load", "marshal.loads", "__import__", "importlib.import_module", "dill.load", "joblib.load",
              "cloudpickle.load", "compile", "runpy.run_path", "runpy.run_module"}
_ALLOWED = {
    # 'package.module:callable' typed by the user on the command line / passed to the API
    ("frontends/pytorch/_load.py", "importlib.import_module"),
    ("measure/torch_memory.py", "importlib.import_module"),  # the same user-given spec, in the measuring child
    ("sweeps/jobs.py", "importlib.import_module"),  # a sweep's 'module:callable' search space, typed by the user
    # tflite's own generated option classes, by names from the tflite package's enum tables
    ("frontends/tflite/_read.py", "importlib.import_module"),
    # a .pt2 tensor saved as a pickle: torch.load(weights_only=True), tensors only (checked below)
    ("frontends/pytorch/_pt2.py", "torch.load"),
}


def _calls(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                    and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module":
                continue  # importlib.import_module("pynvml"): a fixed name, not data
            f = node.func
            if isinstance(f, ast.Name):
                out.add(f.id)
            elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                out.add(f"{f.value.id}.{f.attr}")
    return out


def test_no_module_loads_code_or_pickles_except_the_named_sites() -> None:
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        found |= {(rel, c) for c in _calls(path) & _DANGEROUS}
    assert found - _ALLOWED == set()


def test_every_torch_load_is_tensors_only() -> None:
    """Each allowed torch.load passes weights_only=True, literally."""
    sites = 0
    for rel, call in _ALLOWED:
        if call != "torch.load":
            continue
        for node in ast.walk(ast.parse((SRC / rel).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
                sites += 1
                flags = {k.arg: k.value for k in node.keywords}
                assert isinstance(flags.get("weights_only"), ast.Constant) and flags["weights_only"].value is True, \
                    f"{rel}:{node.lineno}: torch.load without weights_only=True"
    assert sites >= 2


def test_the_scan_finds_a_call() -> None:
    """The scan can fail: it sees pickle.loads and eval in a file."""
    tree = "import pickle\npickle.loads(b'')\neval('1')\nmodel.eval()\n"
    tmp = SRC.parent / "__scan_probe__.py"
    try:
        tmp.write_text(tree)
        assert _calls(tmp) & _DANGEROUS == {"pickle.loads", "eval"}
    finally:
        tmp.unlink()


class _Marker:
    """Unpickling this creates a file: proof that a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "pwned"))  # type: ignore[return-value]


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".bin", ".ckpt", ".pkl", ".PT"])
def test_checkpoints_are_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    marker = tmp_path / "marker.txt"
    path = tmp_path / f"weights{suffix}"
    path.write_bytes(pickle.dumps(_Marker(str(marker))))
    with pytest.raises(ModelLoadError, match="refusing to unpickle"):
        edgeprof.profile(path)
    assert main(["profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unpickling runs code" in err
    assert not marker.exists()


def test_a_pickle_named_onnx_is_recognised_and_refused(tmp_path: Path) -> None:
    marker = tmp_path / "marker.txt"
    path = tmp_path / "model.onnx"
    path.write_bytes(pickle.dumps(_Marker(str(marker)), protocol=4))
    with pytest.raises(ModelLoadError, match="looks like a Python pickle"):
        edgeprof.profile(path)
    assert not marker.exists()


def test_hf_custom_code_is_never_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "marker.txt"
    (tmp_path / "evil_modeling.py").write_text(f"open({str(marker)!r}, 'w').write('pwned')\nclass Evil: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = dict(HF_BASES[0], auto_map={"AutoModel": "evil_modeling.Evil", "AutoConfig": "evil_modeling.Evil"},
                  architectures=["evil_modeling.Evil", "Evil"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    try:
        edgeprof.profile(path, seq_len=4, memory=False)
    except ModelLoadError:
        pass  # refusing is fine too; running the file is not
    assert not marker.exists()


def test_a_file_named_like_a_callable_is_read_as_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'os:system' is imported only when no file of that name exists: a model file can never
    turn into an import."""
    monkeypatch.chdir(tmp_path)
    Path("os:system").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="not an ONNX model"):
        edgeprof.profile("os:system")
