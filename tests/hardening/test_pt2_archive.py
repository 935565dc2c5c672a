"""Hostile ``.pt2`` archives, built in code from a real ``torch.export.save`` archive.

Each must be refused with one line (exit 2 from the CLI) with no code run, no pickle loaded and
no file written anywhere: the marker files below exist only if a pickle ran or a member was
extracted."""

from __future__ import annotations

import json
import pickle
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn

import edgeprof
from edgeprof.cli import main
from edgeprof.errors import ModelLoadError

Edit = Callable[[dict[str, bytes]], None]


class _Marker:
    """Unpickling this writes a file: proof that a pickle was loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "pwned"))  # type: ignore[return-value]


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.register_buffer("shift", torch.ones(3))
        self.scale = torch.tensor([1.0, 2.0, 3.0])  # a tensor constant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.fc(x) + self.shift) * self.scale


@pytest.fixture(scope="module")
def good_members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    path = tmp_path_factory.mktemp("pt2") / "good.pt2"
    torch.export.save(torch.export.export(_Net().eval(), (torch.randn(2, 4),)), str(path))
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _root(members: dict[str, bytes]) -> str:
    return next(iter(members)).split("/")[0]


def _write(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symbolic link
            z.writestr(info, "../../../etc/passwd")
    return path


def _refused(path: Path, capsys: pytest.CaptureFixture[str], match: str) -> str:
    with pytest.raises(ModelLoadError, match=match):
        edgeprof.profile(path)
    capsys.readouterr()
    assert main(["profile", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err  # one line, no torch warning, no traceback
    assert "Traceback" not in captured.err
    return captured.err


def _constants_config(members: dict[str, bytes]) -> str:
    return f"{_root(members)}/data/constants/model_constants_config.json"


def test_the_untouched_archive_profiles(good_members: dict[str, bytes], tmp_path: Path) -> None:
    p = edgeprof.profile(_write(tmp_path / "ok.pt2", good_members))
    assert p.totals.macs == 2 * 4 * 3
    assert p.totals.params == 4 * 3 + 3


@pytest.mark.parametrize("prefix", ["opaque_obj_0", "opaque_obj_0/x", "custom_obj_0", "something_else"])
def test_a_constant_that_is_an_object_is_refused_unread(good_members: dict[str, bytes], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str], prefix: str) -> None:
    """torch follows the *config's* path_name (not the member's file name) to pickle.loads."""
    marker = tmp_path / "marker.txt"
    members = dict(good_members)
    cfg = json.loads(members[_constants_config(members)])
    entry = next(iter(cfg["config"].values()))
    entry.update(path_name=prefix, use_pickle=True)
    members[_constants_config(members)] = json.dumps(cfg).encode()
    members[f"{_root(members)}/data/constants/{prefix}"] = pickle.dumps(_Marker(str(marker)))
    err = _refused(_write(tmp_path / "obj.pt2", members), capsys, "not a tensor|not a plain member name")
    assert "refusing" in err or "plain member name" in err
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["weights", "constants", "sample_inputs"])
def test_a_pickled_payload_runs_no_code(good_members: dict[str, bytes], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], kind: str) -> None:
    marker = tmp_path / "marker.txt"
    members = dict(good_members)
    root = _root(members)
    evil = pickle.dumps(_Marker(str(marker)))
    if kind == "sample_inputs":
        members[f"{root}/data/sample_inputs/model.pt"] = evil  # read tensors-only; a failure is ignored
        edgeprof.profile(_write(tmp_path / "samples.pt2", members))
        assert not marker.exists()
        return
    config = f"{root}/data/{kind}/model_{kind}_config.json"
    cfg = json.loads(members[config])
    entry = next(iter(cfg["config"].values()))
    entry["use_pickle"] = True
    members[config] = json.dumps(cfg).encode()
    members[f"{root}/data/{kind}/{entry['path_name']}"] = evil
    _refused(_write(tmp_path / f"{kind}.pt2", members), capsys, "not a plain tensor")
    assert not marker.exists()


def test_a_compiled_artefact_is_refused(good_members: dict[str, bytes], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    members = dict(good_members)
    members[f"{_root(members)}/data/aotinductor/model/model.so"] = b"\x7fELF" + b"\0" * 60
    err = _refused(_write(tmp_path / "aoti.pt2", members), capsys, "compiled artefact")
    assert "data/aotinductor/model/model.so" in err


@pytest.mark.parametrize("name", ["{root}/models/../../../escaped.txt", "/abs/escaped.txt", "{root}/./x",
                                  "{root}\\..\\escaped.txt", "other_root/models/model.json"])
def test_member_names_that_leave_the_archive_are_refused(good_members: dict[str, bytes], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str], name: str) -> None:
    members = dict(good_members)
    members[name.format(root=_root(members))] = b"escaped"
    before = set(tmp_path.parent.rglob("escaped.txt"))
    _refused(_write(tmp_path / "slip.pt2", members), capsys, "unsafe member name|root folders")
    assert set(tmp_path.parent.rglob("escaped.txt")) == before
    assert not Path("/abs/escaped.txt").exists()


def test_a_symbolic_link_member_is_refused(good_members: dict[str, bytes], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "link.pt2", good_members, links=(f"{_root(good_members)}/extra/link",))
    _refused(path, capsys, "symbolic link")


def test_a_payload_path_outside_its_folder_is_refused(good_members: dict[str, bytes], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    members = dict(good_members)
    root = _root(members)
    config = f"{root}/data/weights/model_weights_config.json"
    cfg = json.loads(members[config])
    next(iter(cfg["config"].values()))["path_name"] = "../constants/tensor_0"
    members[config] = json.dumps(cfg).encode()
    _refused(_write(tmp_path / "path.pt2", members), capsys, "not a plain member name")


def test_the_legacy_pickled_format_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker.txt"
    members = {"archive/version": b"8.0", "archive/serialized_exported_program.json": b"{}",
               "archive/serialized_state_dict.json": pickle.dumps(_Marker(str(marker)))}
    _refused(_write(tmp_path / "legacy.pt2", members), capsys, "pre-2.8 format")
    assert not marker.exists()


def test_a_tensor_smaller_than_its_shape_is_refused(good_members: dict[str, bytes], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    members = dict(good_members)
    root = _root(members)
    config = f"{root}/data/weights/model_weights_config.json"
    cfg = json.loads(members[config])
    entry = next(iter(cfg["config"].values()))
    entry["tensor_meta"]["sizes"] = [{"as_int": 1 << 20}, {"as_int": 1 << 20}]
    members[config] = json.dumps(cfg).encode()
    start = time.monotonic()
    _refused(_write(tmp_path / "short.pt2", members), capsys, "smaller than its shape")
    assert time.monotonic() - start < 30  # refused from the metadata, nothing of 2**40 elements made


def test_a_shape_only_archive_costs_no_memory(good_members: dict[str, bytes], tmp_path: Path) -> None:
    """Empty records (a program saved from fake tensors) become meta tensors, never zeros."""
    members = dict(good_members)
    root = _root(members)
    config = f"{root}/data/weights/model_weights_config.json"
    cfg = json.loads(members[config])
    for entry in cfg["config"].values():
        members[f"{root}/data/weights/{entry['path_name']}"] = b""
    members[config] = json.dumps(cfg).encode()
    p = edgeprof.profile(_write(tmp_path / "meta.pt2", members))
    assert p.totals.macs == 2 * 4 * 3
