"""The CSV renderer: one row per layer with every LayerCost field; not-counted ops never dropped."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest

from edgeprof.render.csv import CSV_COLUMNS, render_csv
from edgeprof.report.model import LayerCost, NotCounted
from tests.render import check_golden, e2e_profile, normalise_tmp, tiny_cnn, wide_mixed

INT_FIELDS = ("flops", "int_ops", "macs", "bytes_read", "bytes_written", "params", "calls")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_golden_tiny_cnn(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "tiny_cnn.csv", render_csv(tiny_cnn()))


def test_golden_wide_mixed(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "wide_mixed.csv", render_csv(wide_mixed()))


def test_header_is_every_layer_field_in_order() -> None:
    header = render_csv(tiny_cnn()).splitlines()[0]
    assert header == (
        "name,op,category,state,output_shape,flops,int_ops,macs,bytes_read,bytes_written,params,precision,scope,"
        "calls,range_group,note,in_totals"
    )
    assert CSV_COLUMNS == tuple(f.name for f in dataclasses.fields(LayerCost))


@pytest.mark.parametrize("make", [tiny_cnn, wide_mixed])
def test_rows_read_back_to_the_layers(make: Any) -> None:
    profile = make()
    rows = _rows(render_csv(profile))
    assert len(rows) == len(profile.layers)
    for row, layer in zip(rows, profile.layers, strict=True):
        for name in INT_FIELDS:
            assert int(row[name]) == getattr(layer, name)
        assert tuple(json.loads(row["output_shape"])) == layer.output_shape
        for name in ("name", "op", "category", "state", "precision", "scope", "range_group", "note"):
            assert row[name] == getattr(layer, name)


def test_not_counted_ops_appear_as_rows_with_their_reason() -> None:
    rows = _rows(render_csv(tiny_cnn()))
    missing = [(r["name"], r["op"], r["state"], r["note"]) for r in rows if r["state"] == "not_counted"]
    assert missing == [
        ("/post/Mystery", "com.example::Mystery", "not_counted", "no formula for this op"),
        ("/post/Mystery_1", "com.example::Mystery", "not_counted", "no formula for this op"),
    ]


def test_a_not_counted_op_without_a_layer_row_still_gets_a_row() -> None:
    base = tiny_cnn()
    profile = dataclasses.replace(
        base, not_counted=(*base.not_counted, NotCounted("Weird", 3, "/w/0", "shape unknown")),
    )
    rows = _rows(render_csv(profile))
    assert len(rows) == len(base.layers) + 1
    last = rows[-1]
    assert (last["name"], last["op"], last["state"], last["note"]) == (
        "/w/0", "Weird", "not_counted", "shape unknown (3 node(s))",
    )


def test_commas_quotes_and_newlines_in_names_stay_in_their_cell() -> None:
    base = tiny_cnn()
    odd = dataclasses.replace(base.layers[0], name='a,"b"\nc')
    rows = _rows(render_csv(dataclasses.replace(base, layers=(odd, *base.layers[1:]))))
    assert rows[0]["name"] == 'a,"b"\nc'
    assert len(rows) == len(base.layers)


def test_golden_end_to_end_from_onnx(pytestconfig: pytest.Config, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Depends on the ONNX frontend and the Conv/Relu/Flatten/Gemm formulas."""
    profile = e2e_profile(tmp_path, monkeypatch)
    text = render_csv(profile)
    assert [r["state"] for r in _rows(text)].count("not_counted") == 2
    check_golden(pytestconfig, "e2e_tiny_cnn.csv", normalise_tmp(text, tmp_path))
