"""The Markdown renderer: goldens, escaping (a model string cannot break a table or inject
HTML), and the sections a CI job summary needs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from edgeprof.render.format import ViewOptions
from edgeprof.render.markdown import render_markdown, render_ops_markdown
from edgeprof.render.tables import md_escape
from tests.render import check_golden, e2e_profile, normalise_tmp, tiny_cnn, wide_mixed


def test_golden_tiny_cnn(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "tiny_cnn.md", render_markdown(tiny_cnn()))


def test_golden_tiny_cnn_grouped(pytestconfig: pytest.Config) -> None:
    text = render_markdown(tiny_cnn(), ViewOptions(by_module=1, by_operator=True))
    check_golden(pytestconfig, "tiny_cnn_grouped.md", text)


def test_golden_wide_mixed(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "wide_mixed.md", render_markdown(wide_mixed()))


def _cells(line: str) -> int:
    """Cells in a table line: pipes not preceded by a backslash, minus one."""
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_every_table_row_has_as_many_cells_as_its_header() -> None:
    base = wide_mixed()
    odd = dataclasses.replace(base.layers[-1], name="x|y || z\\|w", op="A|B")
    profile = dataclasses.replace(base, layers=(*base.layers[:-1], odd))
    text = render_markdown(profile, ViewOptions(top=0, by_module=3, by_operator=True))
    header_cells = 0
    for line in text.splitlines():
        if not line.startswith("|"):
            header_cells = 0
            continue
        if header_cells == 0:
            header_cells = _cells(line)
        assert _cells(line) == header_cells, line


def test_html_and_markdown_in_model_strings_are_escaped() -> None:
    base = tiny_cnn()
    evil = dataclasses.replace(base.layers[0], name="<script>alert(1)</script>*bold*_u_`code`[l](x)")
    text = render_markdown(dataclasses.replace(base, layers=(evil, *base.layers[1:])))
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\*bold\\*\\_u\\_\\`code\\`\\[l\\](x)" in text


def test_md_escape() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("line1\nline2") == "line1 line2"
    assert md_escape("x & <y>") == "x &amp; &lt;y&gt;"
    assert md_escape("") == ""


def test_sections_for_a_ci_summary() -> None:
    text = render_markdown(tiny_cnn())
    for heading in ("## edgeprof report: tiny\\_cnn", "### Summary", "### Categories", "### Layers: all 6",
                    "### Not counted"):
        assert heading in text
    assert "| FLOPs (float ops) | 19,200 | 19.2 kFLOPs | counted, **lower bound** |" in text
    assert "| com.example::Mystery | 2 | /post/Mystery | no formula for this op |" in text
    assert "> **Lower bound:** 2 node(s) of 1 op type(s) were not counted" in text


def test_all_counted_and_truncation_are_said() -> None:
    text = render_markdown(wide_mixed())
    assert "None: all ops counted." in text
    assert "... 5 more layers (use `--top 0` for all)" in text
    assert "### Layers: the 25 costliest of 30" in text


def test_ops_listing_table() -> None:
    from edgeprof.ops.registry import registered_ops

    entries = list(registered_ops().values())
    text = render_ops_markdown(entries)
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| op |")]
    assert len(rows) == len(entries)
    assert f"## Registered ops ({len(entries)})" in text


def test_golden_end_to_end_from_onnx(pytestconfig: pytest.Config, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Depends on the ONNX frontend and the Conv/Relu/Flatten/Gemm formulas."""
    profile = e2e_profile(tmp_path, monkeypatch)
    text = render_markdown(profile)
    assert "### Not counted" in text and "com.example::Mystery" in text
    check_golden(pytestconfig, "e2e_tiny_cnn.md", normalise_tmp(text, tmp_path))
