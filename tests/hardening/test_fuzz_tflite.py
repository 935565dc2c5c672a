"""Mutation fuzzing of the TFLite loader (fixed seed): byte flips, 32-bit words set to huge or
negative values (claimed lengths and offsets), deletions and truncations of the repo's own .tflite
models. Every outcome is a Profile with non-negative integer counts or a typed one-line edgeprof
error (ft.run_profile); the model file is never changed."""

from __future__ import annotations

import struct
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edgeprof
from tests.frontends.tflite_files import builders
from tests.hardening import fuzz_targets as ft

_SETTINGS = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])
_SEEDS = ("float_cnn", "int8_cnn", "while_loop", "transpose_conv", "custom_op")
_WORDS = (0, 1, 0xFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 0xFFFF, 3, 64)

Edit = tuple[str, int, int]
edits = st.lists(st.tuples(st.sampled_from(("flip", "word", "delete", "truncate")), st.integers(0, 1 << 20),
                           st.integers(0, 255)), min_size=1, max_size=4)


@cache
def _seed(index: int) -> bytes:
    return builders().MODELS[_SEEDS[index]]()  # type: ignore[no-any-return]


def _mutate(data: bytes, changes: list[Edit]) -> bytes:
    out = bytearray(data)
    for kind, where, value in changes:
        if len(out) < 9:
            break
        pos = 8 + where % (len(out) - 8)  # keep the identifier: damage what the parser reads
        if kind == "flip":
            out[pos] ^= 1 << (value % 8)
        elif kind == "word":
            pos -= pos % 4
            out[pos : pos + 4] = struct.pack("<I", _WORDS[value % len(_WORDS)])
        elif kind == "delete":
            del out[pos : pos + 1 + value % 16]
        else:
            del out[pos:]
    return bytes(out)


def _check(data: bytes, what: str) -> str:
    with tempfile.TemporaryDirectory(prefix="edgeprof-fuzz-tflite-") as tmp:
        path = Path(tmp) / "m.tflite"
        path.write_bytes(data)
        outcome = ft.run_profile(lambda: edgeprof.profile(path, search_order=False), what)
        assert path.read_bytes() == data, f"{what}: the model file was changed"
    return outcome


@_SETTINGS
@given(index=st.integers(0, len(_SEEDS) - 1), changes=edits)
def test_damaged_tflite_files_give_a_profile_or_one_typed_line(index: int, changes: list[Edit]) -> None:
    _check(_mutate(_seed(index), changes), f"{_SEEDS[index]} {changes}")


def test_every_seed_loads_undamaged() -> None:
    """The seeds are loadable models (else the mutations test only the identifier check)."""
    for i, name in enumerate(_SEEDS):
        assert _check(_seed(i), name) == "profile", name


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(spec=ft.tflite_subgraph_graphs)
def test_subgraphs_shared_by_several_operators_are_counted_exactly_or_refused(
        spec: tuple[list[list[ft.TfliteStep]], int]) -> None:
    """Random subgraph call graphs (IF branches and CALL_ONCE sharing subgraphs, cycles): the
    expanded operator count predicted before building equals a walk of every call site; above
    the node limit or on a cycle, one typed line before any graph is built; else a profile."""
    ft.check_tflite_shared_subgraphs(*spec)
