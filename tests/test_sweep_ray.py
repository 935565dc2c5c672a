"""edgeprof sweep on Ray: a local Ray instance started here (2 CPUs, no dashboard, no outside network)
gives the same rows as the process pool, into the same kind of database; a ``--measure`` job pinned to
a device runs where a Ray node offers a resource of that name, and a resource no node offers is
refused before any task is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgeprof.errors import UsageError
from edgeprof.sweeps import sweep
from tests.test_sweep import BERT, broken, mlp

pytestmark = pytest.mark.slow  # starts a local Ray instance (about 15 s): `make test` runs it, `make test-fast` does not

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray.init(num_cpus=2, include_dashboard=False, resources={"rpi5": 1}, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_and_the_process_pool_give_identical_rows(tmp_path: Path, local_ray: Any) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    for width in (16, 32):
        mlp(folder / f"mlp{width}.onnx", width)
    broken(folder / "zz_bad.onnx")
    config = tmp_path / "bert.json"
    config.write_text(json.dumps(BERT))
    kwargs: dict[str, Any] = {"devices": ["rpi5", "stm32h7"], "space": {"hidden_size": [16, 32]}, "seq_len": 8}
    pooled = sweep([folder, config], jobs=2, db=tmp_path / "pool.sqlite", **kwargs)
    on_ray = sweep([folder, config], ray_address="auto", db=tmp_path / "ray.sqlite", **kwargs)
    assert len(pooled) == len(on_ray) == 10
    assert [r.status for r in on_ray] == ["ok"] * 4 + ["error"] * 2 + ["ok"] * 4
    assert {r.runner for r in pooled} == {"local"} and {r.runner for r in on_ray} == {"ray"}
    for a, b in zip(pooled, on_ray, strict=True):
        assert a.same_result(b), a.label
        assert a.report == b.report  # nothing measured: the full reports are identical too


def test_a_measurement_job_is_pinned_to_its_device_resource(tmp_path: Path, local_ray: Any) -> None:
    model = mlp(tmp_path / "m.onnx")
    rows = sweep([model], devices=["rpi5"], measure=True, measure_runs=1, measure_max_time_s=0.2,
                 ray_address="auto")
    assert len(rows) == 1 and rows[0].ok and rows[0].runner == "ray"
    assert rows[0].measured_latency_s is not None and rows[0].measured_latency_s > 0
    with pytest.raises(UsageError, match="no Ray node offers the resource"):
        sweep([model], devices=["orin-nano"], measure=True, ray_address="auto")
