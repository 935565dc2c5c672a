"""Random command lines over the real flags (fixed seed), run in-process with ``main(argv)``:
every outcome is exit 0, 1 or 2 (3 is an internal error: a bug) with at most one line on
stderr starting ``edgeprof:``, no traceback, no input file changed and nothing written
outside the ``-o`` target. Commands that would really run or time a model (``--measure``,
``bench``/``validate`` with valid flags, ``calibrate``) are left to their own tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from edgeprof.cli import main
from tests.hardening import fuzz_targets as ft


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> ft.CliFiles:
    return ft.make_cli_files(tmp_path_factory.mktemp("cli-fuzz"))


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(parts=ft.cli_argv)
def test_random_command_lines_exit_0_1_or_2_with_one_line(
    parts: tuple[str, list[str], list[Any]], files: ft.CliFiles, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ft.cli_args(files, *parts)
    if ft.slow_argv(argv):
        return
    monkeypatch.chdir(files.folder)
    monkeypatch.setenv("COLUMNS", "100")
    before = files.protected([files.resolve(m) for m in parts[1]])
    listing = _listing(files.folder)
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    ft.check_cli_outcome(argv, code, out, err, files, before)
    new = {p for p in _listing(files.folder) - listing if not p.startswith("out")}
    assert not new, f"{argv}: wrote outside the -o target: {sorted(new)}"
    report = files.folder / "out" / "report.txt"
    if report.exists():
        os.unlink(report)


def test_the_cli_check_catches_an_internal_error(files: ft.CliFiles) -> None:
    """The check can fail: exit 3, or two lines on stderr, is a FuzzFailure."""
    before = files.protected()
    with pytest.raises(ft.FuzzFailure):
        ft.check_cli_outcome(["profile"], 3, "", "edgeprof: internal error: KeyError\n", files, before)
    with pytest.raises(ft.FuzzFailure):
        ft.check_cli_outcome(["profile"], 2, "", "Traceback (most recent call last):\nedgeprof: x\n", files, before)
