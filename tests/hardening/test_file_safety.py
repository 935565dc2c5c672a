"""File safety: external-data locations that leave the model's folder (``..``, absolute paths,
drive letters, symlinks, a symlinked folder), device files, FIFOs, directories, NULs and
non-UTF-8 names are refused with one line (exit 2 on the command line); no model makes
edgeprof write anything but the ``-o`` file; ``-o`` naming the model (the same path, a symlink
or a hard link to it) is refused and the model is untouched."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeprof.cli import main
from edgeprof.errors import ModelLoadError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from tests.hardening.fuzz_targets import conv_model, external_model

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs and /dev are POSIX")


def _set_location(path: Path, location: str | bytes) -> None:
    model = onnx.load(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                if isinstance(location, bytes):  # protobuf refuses non-UTF-8 text: patch the bytes
                    data = model.SerializeToString().replace(b"weights.bin", location)
                    path.write_bytes(data)
                    return
                e.value = location
    path.write_bytes(model.SerializeToString())


def _refused(path: Path, capsys: pytest.CaptureFixture[str], *words: str) -> str:
    with pytest.raises(ModelLoadError) as info:
        load_onnx(path, ShapeRequest())
    msg = str(info.value)
    assert "\n" not in msg and all(w in msg for w in words), msg
    before = path.read_bytes()
    assert main(["profile", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("edgeprof: ") and "Traceback" not in err
    assert path.read_bytes() == before
    return msg


@pytest.mark.parametrize(("location", "words"), [
    ("../weights.bin", ("contains '..'", "refused")),
    ("sub/../../weights.bin", ("contains '..'",)),
    ("..\\weights.bin", ("contains '..'",)),
    ("/etc/passwd", ("absolute path", "refused")),
    ("/dev/zero", ("absolute path",)),
    ("\\\\server\\share\\w.bin", ("absolute path",)),
    ("C:\\weights.bin", ("absolute path",)),
    ("C:weights.bin", ("absolute path",)),
    ("weights\x00.bin", ("not a valid path",)),
    ("", ("names no location",)),
    (".", ("outside the model's folder",)),  # the folder itself
    ("nope.bin", ("missing",)),
])
def test_unsafe_or_bad_locations_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], location: str,
                                             words: tuple[str, ...]) -> None:
    path = external_model(tmp_path / "m")
    _set_location(path, location)
    _refused(path, capsys, *words)


def test_a_location_that_is_not_utf8_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = external_model(tmp_path / "m")
    _set_location(path, b"weights\xff.bi")  # same length: the protobuf framing stays valid
    _refused(path, capsys)


def test_a_location_naming_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = external_model(tmp_path / "m")
    (tmp_path / "m" / "sub").mkdir()
    _set_location(path, "sub")
    _refused(path, capsys, "not a regular file")


@posix_only
def test_symlinks_out_of_the_folder_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = external_model(tmp_path / "m")
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "m" / "weights.bin").rename(outside / "weights.bin")
    (tmp_path / "m" / "weights.bin").symlink_to(outside / "weights.bin")
    _refused(path, capsys, "outside the model's folder")
    (tmp_path / "m" / "weights.bin").unlink()
    (tmp_path / "m" / "weights.bin").symlink_to("/dev/zero")  # a device through a link
    _refused(path, capsys, "outside the model's folder")
    (tmp_path / "m" / "weights.bin").unlink()
    (tmp_path / "m" / "linked").symlink_to(outside, target_is_directory=True)  # a symlinked folder
    _set_location(path, "linked/weights.bin")
    _refused(path, capsys, "outside the model's folder")


@posix_only
def test_a_fifo_or_a_device_inside_the_folder_is_never_opened(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = external_model(tmp_path / "m")
    (tmp_path / "m" / "weights.bin").unlink()
    os.mkfifo(tmp_path / "m" / "weights.bin")  # opening it for reading would block forever
    _refused(path, capsys, "not a regular file")


def _listing(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() and not p.is_symlink() else None
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "md", "html"])
def test_nothing_but_the_o_file_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """A model whose names look like paths (``../../x``, ``/tmp/evil``) in every field: the
    only new file anywhere under tmp_path is the -o target; the model and its data are untouched."""
    folder = tmp_path / "m"
    path = external_model(folder)
    model = onnx.load(str(path), load_external_data=False)
    model.graph.name = "../../escaped"
    model.producer_name = "/tmp/evil-producer"
    model.graph.node[0].name = "../../../etc/cron.d/x"
    model.doc_string = "<script>alert(1)</script>"
    onnx.helper.set_model_props(model, {"path": "../../pwned", "out": "/tmp/pwned"})
    path.write_bytes(model.SerializeToString())
    out = tmp_path / "out" / f"report.{fmt}"
    out.parent.mkdir()
    before = _listing(tmp_path)
    assert main(["profile", str(path), "--format", fmt, "-o", str(out)]) == 0
    after = _listing(tmp_path)
    assert set(after) - set(before) == {"out/" + out.name}
    assert {k: v for k, v in after.items() if k in before} == before


def _o_variants(tmp_path: Path) -> tuple[Path, list[Path]]:
    model = tmp_path / "model.onnx"
    model.write_bytes(conv_model().SerializeToString())
    variants = [model, tmp_path / "." / "model.onnx"]
    if hasattr(os, "symlink"):
        (tmp_path / "link.onnx").symlink_to(model)
        variants.append(tmp_path / "link.onnx")
    if hasattr(os, "link"):
        os.link(model, tmp_path / "hard.onnx")
        variants.append(tmp_path / "hard.onnx")
    return model, variants


@pytest.mark.parametrize("command", ["profile", "check", "compare"])
def test_o_naming_the_model_is_refused_and_the_model_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               command: str) -> None:
    model, variants = _o_variants(tmp_path)
    before = model.read_bytes()
    extra = ["--max-flops", "1G"] if command == "check" else []
    for target in variants:
        assert main([command, str(model), *extra, "-o", str(target)]) == 2, target
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "model file" in err and "refusing to overwrite" in err
        assert model.read_bytes() == before
    assert np.frombuffer(model.read_bytes(), np.uint8).size == len(before)


def test_o_naming_a_budget_or_device_file_is_refused_and_the_file_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    budget = tmp_path / "budget.toml"
    budget.write_text('[budget]\nmax_flops = "1T"\n', encoding="utf-8")
    devices = tmp_path / "devices.toml"
    devices.write_text("", encoding="utf-8")
    before = (budget.read_bytes(), devices.read_bytes())
    assert main(["check", "models/demo.onnx", "--budget", str(budget), "-o", str(budget)]) == 2
    assert "that is the --budget file; refusing to overwrite it" in capsys.readouterr().err
    assert main(["profile", "models/demo.onnx", "--devices-file", str(devices), "-o", str(devices)]) == 2
    assert "that is a --devices-file" in capsys.readouterr().err
    assert main(["compare", "models/demo.onnx", "--devices-file", str(devices), "-o", str(devices)]) == 2
    assert (budget.read_bytes(), devices.read_bytes()) == before
