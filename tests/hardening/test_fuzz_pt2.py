"""Mutation fuzzing of the ``.pt2`` reader (fixed seed): damaged JSON of the program and of the
weight/constant configurations (values swapped for hostile ones), bytes of the zip flipped or cut,
member names rewritten. Every outcome is a Profile with non-negative integer counts or a typed
one-line edgeprof error (ft.run_profile); no pickle is ever loaded (a marker pickle is planted in
every archive)."""

from __future__ import annotations

import json
import pickle
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import edgeprof
from tests.hardening import fuzz_targets as ft

_SETTINGS = settings(max_examples=120, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])
_HOSTILE: tuple[Any, ...] = (None, -1, 0, 2**40, 2**63, "", "../x", "opaque_obj_0", "custom_obj_0", [], {}, True,
                             1.5, "tensor_0/../../x", "\x1b]52;c;cHduZWQ=\x07")


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "pwned"))  # type: ignore[return-value]


@cache
def _seed() -> dict[str, bytes]:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seed.pt2"
        torch.export.save(torch.export.export(model.eval(), (torch.randn(1, 3, 6, 6),)), str(path))
        with zipfile.ZipFile(path) as z:
            return {i.filename: z.read(i) for i in z.infolist()}


def _json_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _json_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _json_paths(v, (*prefix, i))
    return out


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _mutated(edits: list[tuple[int, int, int]], marker: Path) -> bytes:
    members = dict(_seed())
    root = next(iter(members)).split("/")[0]
    members[f"{root}/data/constants/opaque_obj_0"] = pickle.dumps(_Marker(str(marker)))
    json_names = sorted(n for n in members if n.endswith(".json"))
    for kind, where, value in edits:
        if kind == 0:  # a JSON value replaced by a hostile one
            name = json_names[where % len(json_names)]
            doc = json.loads(members[name])
            paths = _json_paths(doc)
            if paths:
                _set(doc, paths[(where // 7) % len(paths)], _HOSTILE[value % len(_HOSTILE)])
            members[name] = json.dumps(doc).encode()
        elif kind == 1:  # a member renamed
            names = sorted(members)
            old = names[where % len(names)]
            new = (old + "/../../" + str(value), "/" + old, old.replace(root, "other", 1), old + ".so",
                   f"{root}/data/aotinductor/m/{value}.so")[value % 5]
            members[new] = members.pop(old)
        else:  # a payload's bytes cut
            names = sorted(n for n in members if "/data/" in n)
            name = names[where % len(names)]
            members[name] = members[name][: value % (len(members[name]) + 1)]
    with tempfile.SpooledTemporaryFile() as buf:
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
        buf.seek(0)
        return buf.read()


edits = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=3)


@_SETTINGS
@given(changes=edits, flip=st.one_of(st.none(), st.integers(0, 1 << 20)))
def test_damaged_pt2_archives_give_a_profile_or_one_typed_line(changes: list[tuple[int, int, int]],
                                                               flip: int | None) -> None:
    with tempfile.TemporaryDirectory(prefix="edgeprof-fuzz-pt2-") as tmp:
        marker = Path(tmp) / "marker.txt"
        data = bytearray(_mutated(changes, marker))
        if flip is not None:
            data[flip % len(data)] ^= 0x55
        path = Path(tmp) / "m.pt2"
        path.write_bytes(bytes(data))
        ft.run_profile(lambda: edgeprof.profile(path, search_order=False), f"pt2 {changes} flip={flip}")
        assert not marker.exists(), f"{changes}: a pickle ran"
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["m.pt2"], "something was written"


def test_the_seed_profiles() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.pt2"
        with zipfile.ZipFile(path, "w") as z:
            for name, data in _seed().items():
                z.writestr(name, data)
        assert ft.run_profile(lambda: edgeprof.profile(path, search_order=False), "seed") == "profile"
