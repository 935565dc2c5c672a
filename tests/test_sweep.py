"""edgeprof sweep: the jobs and their keys, the database (schema, versions, uniqueness, read-only
queries), the Pareto front on hand-made points, the budget marks, the renderers, the API and the
command line (``sweep`` and ``db query``) on small ONNX models and tiny Hugging Face configs."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import edgeprof
from edgeprof.cli import main
from edgeprof.errors import UsageError
from edgeprof.report.sweep import SweepRow
from edgeprof.sweeps import SweepModel, SweepRows, sweep
from edgeprof.sweeps.db import SCHEMA_VERSION, ResultsDB, query
from edgeprof.sweeps.pareto import mark_rows, pareto_front
from edgeprof.sweeps.spec import expand, parse_set

BERT = {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 32, "num_hidden_layers": 1,
        "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 64}


def mlp(path: Path, width: int = 32) -> Path:
    """x[1, 64] -> MatMul [64, width] -> Relu -> y."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.full((64, width), 0.5, dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["h"], name="mm"), helper.make_node("Relu", ["h"], ["y"], name="relu")],
        "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def broken(path: Path) -> Path:
    path.write_bytes(b"not an onnx file")
    return path


def tiny_mlp(width: int = 8, delay: float = 0.0) -> Any:
    """A 'module:callable' with keyword arguments for the search-space tests (``delay``: seconds
    spent building it, so that a sweep can be killed half way)."""
    import torch

    if delay:
        time.sleep(delay)
    return torch.nn.Sequential(torch.nn.Linear(16, width), torch.nn.ReLU(), torch.nn.Linear(width, 4))


def models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    for width in (16, 32, 64):
        mlp(folder / f"mlp{width}.onnx", width)
    return folder


# ---- the jobs ---------------------------------------------------------------------------------


def test_parse_set_reads_json_values_and_keeps_text() -> None:
    assert parse_set("hidden_size=256,384,512") == ("hidden_size", [256, 384, 512])
    assert parse_set("act=gelu,relu") == ("act", ["gelu", "relu"])
    assert parse_set("p=0.1,true,null") == ("p", [0.1, True, None])
    with pytest.raises(UsageError, match="NAME=V"):
        parse_set("hidden_size")


def test_a_search_space_is_the_cross_product_with_a_content_hash_per_point(tmp_path: Path) -> None:
    config = tmp_path / "bert.json"
    config.write_text(json.dumps(BERT))
    jobs = expand([str(config)], space={"hidden_size": [32, 64], "num_hidden_layers": [1, 2, 3]}, seq_len=8)
    assert [j.point for j in jobs] == [{"hidden_size": h, "num_hidden_layers": n} for h in (32, 64) for n in (1, 2, 3)]
    assert len({j.model_hash for j in jobs}) == 6 and len({j.options_hash for j in jobs}) == 1
    assert jobs[0].label == f"{config}[hidden_size=32,num_hidden_layers=1]"
    assert jobs[0].config is not None and jobs[0].config["hidden_size"] == 32
    # the same config written differently is the same model; another seq_len is other options
    config.write_text(json.dumps(dict(reversed(list(BERT.items()))), indent=4))
    again = expand([str(config)], space={"hidden_size": [32, 64], "num_hidden_layers": [1, 2, 3]}, seq_len=8)
    assert [j.model_hash for j in again] == [j.model_hash for j in jobs]
    other = expand([str(config)], space={"hidden_size": [32]}, seq_len=16)
    assert other[0].options_hash != jobs[0].options_hash


def test_folders_globs_and_file_hashes(tmp_path: Path) -> None:
    folder = models(tmp_path)
    jobs = expand([str(folder)])
    assert [Path(j.source).name for j in jobs] == ["mlp16.onnx", "mlp32.onnx", "mlp64.onnx"]
    assert [j.source for j in expand([str(folder / "mlp*.onnx")])] == [j.source for j in jobs]
    assert len({j.model_hash for j in jobs}) == 3
    with pytest.raises(UsageError, match="no file matches"):
        expand([str(folder / "none*.onnx")])
    with pytest.raises(UsageError, match="applies to a Hugging Face config"):
        expand([str(folder)], space={"width": [1]})
    with pytest.raises(UsageError, match="applies to a Hugging Face config"):
        expand([SweepModel(str(folder / "mlp16.onnx"), space={"width": [1]})])


def test_pinned_jobs_are_one_per_device() -> None:
    jobs = expand(["tests.test_sweep:tiny_mlp"], targets=[("rpi5", ""), ("rpi5", "int8"), ("orin-nano", "")],
                  pin_devices=True)
    assert [(j.resource, j.targets) for j in jobs] == [("rpi5", (("rpi5", ""), ("rpi5", "int8"))),
                                                       ("orin-nano", (("orin-nano", ""),))]


# ---- the Pareto front ---------------------------------------------------------------------------


def test_pareto_front_on_hand_made_points() -> None:
    points = [(1, 9), (2, 5), (3, 6), (4, 2), (5, 2), (6, 1), (2, 5), (7, 7), (1, 10)]
    #          opt     opt     dom     opt     dom     opt     opt(=)  dom     dom (same x, higher y)
    assert pareto_front(points) == [True, True, False, True, False, True, True, False, False]
    assert pareto_front([]) == []
    assert pareto_front([(3.0, 3.0)]) == [True]
    assert pareto_front([(1, 1), (1, 1)]) == [True, True]


def _row(label: str, params: int, latency: float, device: str = "rpi5") -> SweepRow:
    return SweepRow(label, "o", device, "", "0", label, label, flops=params, macs=params, params=params,
                    weight_bytes=4 * params, peak_bytes=8 * params, latency_s=latency)


def test_mark_rows_charts_one_device_and_marks_the_front() -> None:
    rows = [_row("a", 10, 3.0), _row("b", 20, 1.0), _row("c", 30, 2.0), _row("a", 10, 9.0, "stm32h7"),
            SweepRow("d", "o", "rpi5", "", "0", "d", "d", status="error", error="boom")]
    y_axis, marks = mark_rows(rows)
    assert y_axis == "latency"
    assert [(m.row.label, m.row.device, m.charted, m.pareto) for m in marks] == [
        ("a", "rpi5", True, True), ("b", "rpi5", True, True), ("c", "rpi5", True, False),
        ("a", "stm32h7", False, False)]
    _, by_peak = mark_rows(rows, x="peak", device="stm32h7")
    assert [(m.row.label, m.charted, m.pareto, m.x) for m in by_peak if m.charted] == [("a", True, True, 80.0)]
    no_device = [SweepRow(n, "o", "", "", "0", n, n, macs=m, params=p) for n, p, m in (("x", 1, 5), ("y", 2, 4),
                                                                                       ("z", 3, 6))]
    y_axis, marks = mark_rows(no_device)
    assert y_axis == "macs" and [m.pareto for m in marks] == [True, True, False]


# ---- the database -------------------------------------------------------------------------------


def test_the_database_keeps_one_row_per_key_and_its_version(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with ResultsDB(path) as db:
        db.put(_row("a", 10, 1.0))
        db.put(_row("a", 10, 2.0))  # the same key: replaced
        db.put(_row("a", 10, 2.0, "stm32h7"))
        assert [(r.device, r.latency_s) for r in db.rows()] == [("rpi5", 2.0), ("stm32h7", 2.0)]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    with pytest.raises(sqlite3.IntegrityError):  # unique (model, options, device, precision, version)
        conn.execute("INSERT INTO results (model_hash, options_hash, device, precision, edgeprof_version, label, source, "
                     "point, options, status, error, measurement_error, runner, host, created_at, report) "
                     "SELECT model_hash, options_hash, device, precision, edgeprof_version, label, source, point, "
                     "options, status, error, measurement_error, runner, host, created_at, report FROM results")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(UsageError, match="schema version 99"):
        ResultsDB(path)


def test_query_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with ResultsDB(path) as db:
        db.put(_row("a", 10, 1.0))
    assert query(path, "SELECT label, params FROM results") == (["label", "params"], [("a", 10)])
    with pytest.raises(UsageError, match="readonly"):
        query(path, "DELETE FROM results")
    with pytest.raises(UsageError, match="No such file"):
        query(tmp_path / "none.sqlite")


# ---- the API -----------------------------------------------------------------------------------


def test_the_api_sweeps_in_process_keeps_failures_and_resumes(tmp_path: Path) -> None:
    folder = models(tmp_path)
    bad = broken(folder / "zz_bad.onnx")
    db = tmp_path / "r.sqlite"
    seen: list[tuple[str, int, int]] = []
    rows = edgeprof.sweep([folder], devices=["rpi5", "stm32h7"], db=db,
                          progress=lambda row, done, total: seen.append((row.label, done, total)))
    assert isinstance(rows, SweepRows) and len(rows) == 8
    assert [r.status for r in rows] == ["ok"] * 6 + ["error"] * 2
    assert rows[-1].error.startswith(str(bad)) and rows[-1].report == ""
    assert [s[1:] for s in seen] == [(i, 8) for i in range(1, 9)]
    ok = rows[0]
    p = edgeprof.predict_latency(edgeprof.profile(str(folder / "mlp16.onnx")), ["rpi5"])
    assert ok.params == p.totals.params and ok.macs == p.totals.macs
    assert p.latency is not None and ok.latency_s == p.latency.predicted["rpi5"].total_s
    profile = ok.profile()
    assert profile is not None and profile.totals == p.totals
    # run again: every row comes from the database, none is made again
    made: list[str] = []
    again = edgeprof.sweep([folder], devices=["rpi5", "stm32h7"], db=db,
                           progress=lambda row, done, total: made.append(row.created_at))
    assert [r.to_dict() for r in again] == [r.to_dict() for r in rows]
    # retry_failed runs the failed model again (it fails again, and is replaced)
    retried = edgeprof.sweep([folder], devices=["rpi5", "stm32h7"], db=db, retry_failed=True)
    assert [r.status for r in retried] == [r.status for r in rows]
    assert len(query(db, "SELECT id FROM results")[1]) == 8


def test_to_dict_and_to_frame(tmp_path: Path) -> None:
    rows = sweep([mlp(tmp_path / "m.onnx")])
    d = rows.to_dicts()[0]
    assert d["params"] == 64 * 32 and d["point"] == {} and d["options"]["memory"] is True and "report" not in d
    assert rows[0].to_dict(report=True)["report"]["totals"]["params"] == 64 * 32
    pandas = pytest.importorskip("pandas")
    frame = rows.to_frame()
    assert isinstance(frame, pandas.DataFrame) and list(frame["params"]) == [64 * 32]


def test_a_callable_search_space_profiles_each_point(tmp_path: Path) -> None:
    rows = sweep(["tests.test_sweep:tiny_mlp"], space={"width": [4, 8]}, input_shapes=[(1, 16)])
    assert [r.label for r in rows] == ["tests.test_sweep:tiny_mlp[width=4]", "tests.test_sweep:tiny_mlp[width=8]"]
    assert [r.params for r in rows] == [16 * 4 + 4 + 4 * 4 + 4, 16 * 8 + 8 + 8 * 4 + 4]
    assert [json.loads(r.point) for r in rows] == [{"width": 4}, {"width": 8}]


def test_a_pool_and_this_process_give_the_same_rows(tmp_path: Path) -> None:
    folder = models(tmp_path)
    config = tmp_path / "bert.json"
    config.write_text(json.dumps(BERT))
    kwargs: dict[str, Any] = {"devices": ["rpi5"], "space": {"hidden_size": [16, 32]}, "seq_len": 8}
    inline = sweep([folder, config], jobs=1, **kwargs)
    pooled = sweep([folder, config], jobs=2, **kwargs)
    assert len(inline) == 5 and all(r.ok for r in inline)
    assert all(a.same_result(b) for a, b in zip(inline, pooled, strict=True))


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    m = str(mlp(tmp_path / "m.onnx"))
    with pytest.raises(UsageError, match="unknown device"):
        sweep([m], devices=["no-such-board"])
    with pytest.raises(UsageError, match="give devices too"):
        sweep([m], precisions=["int8"])
    with pytest.raises(UsageError, match="No such file"):
        sweep([str(tmp_path / "none.onnx")])


# ---- the command line --------------------------------------------------------------------------


def test_cli_sweep_writes_the_database_and_db_query_reads_it(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    folder = models(tmp_path)
    db = tmp_path / "r.sqlite"
    assert main(["sweep", str(folder), "--device", "rpi5", "--db", str(db), "--jobs", "1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [Path(r["label"]).name for r in out["rows"]] == ["mlp16.onnx", "mlp32.onnx", "mlp64.onnx"]
    assert [r["pareto"] for r in out["rows"]] == [True, False, False]
    assert main(["db", "query", str(db), "SELECT params, device FROM results ORDER BY params"]) == 0
    assert capsys.readouterr().out == (
        "params  device\n------  ------\n  1024  rpi5\n  2048  rpi5\n  4096  rpi5\n(3 row(s))\n")
    assert main(["db", "query", str(db), "SELECT count(*) AS n, sum(params) AS p FROM results", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "n,p\n3,7168\n"
    assert main(["db", "query", str(db), "SELECT params FROM results WHERE params > 2000", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"params": 2048}, {"params": 4096}]
    assert main(["db", "query", str(db), "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("| label | device | precision | status | params |") and md.count("\n") == 5
    assert main(["db", "query", str(db), "DROP TABLE results"]) == 2
    assert "readonly" in capsys.readouterr().err


def test_cli_sweep_keeps_a_failure_and_marks_the_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = models(tmp_path)
    broken(folder / "zz_bad.onnx")
    code = main(["sweep", str(folder), "--device", "rpi5", "--no-db", "--jobs", "1", "--max-params", "3000"])
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.out.splitlines()
    assert lines[0].split()[:3] == ["model", "device", "precision"]
    assert "over budget: max_params" in lines[4] and "over budget" not in lines[3]
    assert "failed: " in lines[5] and lines[-1] == "4 row(s), 3 ok, 1 failed"
    assert "1 of 4 row(s) failed" in captured.err
    assert not (tmp_path / "results.sqlite").exists()


def test_cli_sweep_html_draws_the_front(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = models(tmp_path)
    out = tmp_path / "s.html"
    assert main(["sweep", str(folder), "--device", "rpi5", "--db", str(tmp_path / "r.sqlite"), "--jobs", "1",
                 "--format", "html", "-o", str(out), "--x", "macs", "--max-latency-ms", "0.0001"]) == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "default-src 'none'" in html
    assert html.count('class="point pareto') == 1 and html.count('class="point other') == 2
    assert html.count(" over\"") == 3  # every candidate breaks a 0.1 us budget
    assert "latency on rpi5 vs MACs" in html
    data = json.loads(html.split('id="edgeprof-data">')[1].split("</script>")[0])
    assert data["pareto_axes"] == {"x": "macs", "y": "latency"} and len(data["rows"]) == 3


def test_cli_sweep_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = str(mlp(tmp_path / "m.onnx"))
    assert main(["sweep"]) == 2
    assert "no model given" in capsys.readouterr().err
    assert main(["sweep", m, "--set", "width"]) == 2
    assert "NAME=V" in capsys.readouterr().err
    assert main(["sweep", m, "--set", "width=1"]) == 2
    assert "no model given is one" in capsys.readouterr().err
    assert main(["sweep", m, "--pareto-device", "rpi5"]) == 2
    assert "not one of the --device" in capsys.readouterr().err
    assert main(["sweep", m, "--db", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
