"""TFLite resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE): the streaming state of
keyword spotters such as microWakeWord. No arithmetic: zero rows whose copied bytes are counted,
never "not counted"."""

from __future__ import annotations

from pathlib import Path

import edgeprof
from tests.frontends.tflite_files import builders


def _streaming_model() -> bytes:
    """state = READ_VARIABLE(VAR_HANDLE); y = x + state; ASSIGN_VARIABLE(handle, y); all 1x4x1x8 float."""
    m = builders()
    t = [
        m.Tensor("x", (1, 4, 1, 8)),  # 0
        m.Tensor("handle", (), 13),  # 1 (RESOURCE)
        m.Tensor("state", (1, 4, 1, 8)),  # 2
        m.Tensor("y", (1, 4, 1, 8)),  # 3
    ]
    ops = [
        m.Op("VAR_HANDLE", (), (1,)),
        m.Op("READ_VARIABLE", (1,), (2,)),
        m.Op("ADD", (0, 2), (3,), ("AddOptions", {"FusedActivationFunction": m.NONE})),
        m.Op("ASSIGN_VARIABLE", (1, 3), ()),
    ]
    data: bytes = m.build([m.Subgraph(t, (0,), (3,), ops, "main")])
    return data


def test_resource_variables_are_zero_rows_with_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "streaming.tflite"
    path.write_bytes(_streaming_model())
    p = edgeprof.profile(path)
    assert p.not_counted == () and not p.totals.is_lower_bound
    rows = {x.op: x for x in p.layers}
    assert {op: rows[op].state for op in rows} == {
        "tflite::VAR_HANDLE": "zero", "tflite::READ_VARIABLE": "zero", "Add": "counted", "tflite::ASSIGN_VARIABLE": "zero",
    }
    state_bytes = 4 * 8 * 4  # 32 float32 elements copied out of and back into the variable
    assert (rows["tflite::READ_VARIABLE"].bytes_read, rows["tflite::READ_VARIABLE"].bytes_written) == (state_bytes,) * 2
    assert (rows["tflite::ASSIGN_VARIABLE"].bytes_read, rows["tflite::ASSIGN_VARIABLE"].bytes_written) == (state_bytes,) * 2
    assert (rows["tflite::VAR_HANDLE"].bytes_read, rows["tflite::VAR_HANDLE"].bytes_written) == (0, 0)
    assert p.totals.flops == 32 and p.totals.macs == 0
