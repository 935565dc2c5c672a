"""The layers of docs/design.md hold: import-linter's contracts in pyproject.toml (a layers
contract, and no import cycle between the modules of any package) are kept. Every import
counts, a function-level one too, so no cycle can hide inside a function."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(config["tool"]["importlinter"]["contracts"])


def test_the_contracts_name_every_top_level_package() -> None:
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    named = {part.strip().removeprefix("edgeprof.") for layer in layers for part in str(layer).split("|")}  # type: ignore[union-attr]
    src = ROOT / "src" / "edgeprof"
    packages = {p.name for p in src.iterdir() if (p / "__init__.py").exists()}
    assert packages <= named, f"packages in no layer: {sorted(packages - named)}"
    assert {c["type"] for c in _contracts()} == {"layers", "acyclic_siblings"}


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is a dev dependency (pip install -e .[dev])")
def test_the_import_contracts_are_kept() -> None:
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout
