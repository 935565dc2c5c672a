"""The terminal renderer: goldens at width 100 without colour, and its invariants (no line wider
than the width, nothing silently empty, model strings shown literally)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.render.console import shorten_path
from edgeprof.render.format import ViewOptions
from edgeprof.render.terminal import render_terminal, wrap_path
from edgeprof.report.model import LayerCost, NotCounted
from tests.render import check_golden, e2e_profile, normalise_tmp, tiny_cnn, wide_mixed

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_golden_tiny_cnn(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "tiny_cnn.txt", render_terminal(tiny_cnn(), width=100))


def test_golden_tiny_cnn_by_module_and_operator(pytestconfig: pytest.Config) -> None:
    text = render_terminal(tiny_cnn(), ViewOptions(by_module=1, by_operator=True), width=100)
    check_golden(pytestconfig, "tiny_cnn_grouped.txt", text)


def test_golden_wide_mixed(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "wide_mixed.txt", render_terminal(wide_mixed(), width=100))


def test_golden_wide_mixed_all_layers_at_80_columns(pytestconfig: pytest.Config) -> None:
    text = render_terminal(wide_mixed(), ViewOptions(top=0, by_module=2, by_operator=True), width=80)
    check_golden(pytestconfig, "wide_mixed_all_w80.txt", text)


def test_summary_shows_exact_and_human_forms_with_units() -> None:
    text = render_terminal(tiny_cnn(), width=100)
    assert re.search(r"FLOPs \(float ops\) +19,200 +19\.2 kFLOPs +counted, LOWER BOUND", text)
    assert re.search(r"MACs +9,472 +9\.47 kMACs +counted, LOWER BOUND", text)
    assert re.search(r"params +2,682 +2\.68 k +counted\n", text)
    assert re.search(r"weight bytes +10,728 +10\.7 kB +counted\n", text)
    assert "256 FLOPs (1.3%) foldable at deployment: 1 x Relu into the preceding kernel" in text
    assert not re.search(r"^integer OPs", text, flags=re.M)  # no integer arithmetic here: no row for it
    assert "(batch assumed 1)" in text


def test_lower_bound_and_not_counted_table_when_ops_are_missing() -> None:
    text = render_terminal(tiny_cnn(), width=100)
    assert "LOWER BOUND: 2 node(s) of 1 op type(s) were not counted" in text
    section = text[text.index("Not counted ("):]
    assert re.search(r"com\.example::Mystery +2 +/post/Mystery +no formula for this op", section)
    assert "all ops counted" not in text


def test_all_ops_counted_is_said_not_left_empty() -> None:
    text = render_terminal(wide_mixed(), width=100)
    assert "Not counted: none - all ops counted" in text
    assert "LOWER BOUND" not in text


def test_if_range_and_integer_ops_are_shown() -> None:
    text = render_terminal(wide_mixed(), width=100)
    assert "FLOPs 325,256 .. 325,448" in text
    assert re.search(r"integer OPs +124 +124 OPs", text)
    assert "(branch of /if)" not in text.split("Layers:")[0]


def test_default_top_is_25_and_says_how_many_are_hidden() -> None:
    text = render_terminal(wide_mixed(), width=100)
    shown = re.findall(r"^/encoder/layers\.(\d+)/mlp/MatMul", text, flags=re.M)
    assert shown == [str(i) for i in range(24, -1, -1)]  # costliest first
    assert "... 5 more layers (use --top 0 for all)" in text
    assert "Layers: the 25 costliest of 30" in text


def test_top_zero_shows_every_layer_in_graph_order() -> None:
    profile = wide_mixed()
    text = render_terminal(profile, ViewOptions(top=0), width=200)
    positions = [text.index(layer.name) for layer in profile.layers]
    assert positions == sorted(positions)
    assert "more layers" not in text
    assert "Layers: all 30, in graph order" in text


def test_top_n_limits_rows() -> None:
    text = render_terminal(wide_mixed(), ViewOptions(top=2), width=100)
    assert re.findall(r"^/encoder/layers\.(\d+)/", text, flags=re.M) == ["24", "23"]
    assert "... 28 more layers (use --top 0 for all)" in text


def test_not_counted_layers_are_marked_in_the_layer_table() -> None:
    text = render_terminal(tiny_cnn(), width=100)
    assert re.search(r"/post/Mystery_1 +com\.example::Mystery +1x10 +not counted +- +0 +-", text)


def test_model_strings_are_not_read_as_rich_markup() -> None:
    base = tiny_cnn()
    odd = dataclasses.replace(base.layers[0], name="[bold red]x[/bold red]")
    profile = dataclasses.replace(base, layers=(odd, *base.layers[1:]))
    text = render_terminal(profile, width=100, color=True)
    assert "[bold red]x[/bold red]" in ANSI.sub("", text)
    assert "[q]MatMulInteger" in render_terminal(wide_mixed(), ViewOptions(top=0), width=200)


def test_colour_only_when_asked() -> None:
    assert not ANSI.search(render_terminal(tiny_cnn(), width=100))
    coloured = render_terminal(tiny_cnn(), width=100, color=True)
    assert ANSI.search(coloured)
    plain_words = ANSI.sub("", coloured).split()
    assert plain_words == render_terminal(tiny_cnn(), width=100).split()


def test_ascii_destination_gets_ascii_borders() -> None:
    text = render_terminal(tiny_cnn(), width=100, encoding="ascii")
    text.encode("ascii")  # raises if a box-drawing character slipped through
    assert "-----" in text


@settings(max_examples=40, deadline=None)
@given(width=st.integers(min_value=20, max_value=220), which=st.sampled_from(["tiny", "wide"]))
def test_no_line_is_wider_than_the_width(width: int, which: str) -> None:
    profile = tiny_cnn() if which == "tiny" else wide_mixed()
    text = render_terminal(profile, ViewOptions(top=0, by_module=2, by_operator=True), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    if width >= 70:  # the summary fits: the exact totals are whole on their lines
        assert re.search(rf"^FLOPs \(float ops\) +{profile.totals.flops:,} ", text, flags=re.M)
        assert re.search(rf"^MACs +{profile.totals.macs:,} ", text, flags=re.M)


def test_empty_profile_sections_say_so() -> None:
    base = tiny_cnn()
    empty = dataclasses.replace(
        base, inputs=(), layers=(), categories=(), weights_by_dtype=(), not_counted=(), notices=(),
        totals=dataclasses.replace(base.totals, flops=0, macs=0, params=0, weight_bytes=0, bytes_read=0,
                                   bytes_written=0, flops_max=0, macs_max=0, is_lower_bound=False),
    )
    text = render_terminal(empty, width=100)
    for line in ("Inputs: none", "Stored weights: none", "Categories: no counted ops", "Layers: none",
                 "Not counted: none - all ops counted"):
        assert line in text


def test_calls_above_one_are_shown_on_the_op() -> None:
    text = render_terminal(wide_mixed(), ViewOptions(top=0), width=250)
    assert re.search(r"very_long_module_name_Add +Add x3 ", text)


def test_golden_end_to_end_from_onnx(pytestconfig: pytest.Config, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Depends on the ONNX frontend and the Conv/Relu/Flatten/Gemm formulas."""
    profile = e2e_profile(tmp_path, monkeypatch)
    assert profile.not_counted and profile.not_counted[0].op == "com.example::Mystery"
    assert (profile.totals.flops, profile.totals.macs, profile.totals.params) == (19_200, 9_472, 2_682)
    text = render_terminal(profile, width=100)
    check_golden(pytestconfig, "e2e_tiny_cnn.txt", normalise_tmp(text, tmp_path))


def test_the_not_counted_list_is_never_silently_empty() -> None:
    base = tiny_cnn()
    only = dataclasses.replace(base, not_counted=(NotCounted("X", 1, "n", "why"),), layers=(
        LayerCost("n", "X", "other", "not_counted", ()),))
    assert re.search(r"X +1 +n +why", render_terminal(only, width=100))


@pytest.mark.parametrize(
    ("name", "width", "lines"),
    [
        ("/features/features.5/project/project.0/Conv", 42, ["/features/features.5/project/project.0/", "Conv"]),
        ("/features/features.5/project/Conv", 100, ["/features/features.5/project/Conv"]),
        ("/a/b", 3, ["/a/", "b"]),
        ("abcdefghijk", 4, ["abcd", "efgh", "ijk"]),  # no separator: cut where it must be
        ("layer1.0.conv1", 7, ["layer1.", "0.conv1"]),
        ("", 5, [""]),
    ],
)
def test_wrap_path_breaks_after_separators(name: str, width: int, lines: list[str]) -> None:
    assert wrap_path(name, width) == lines
    assert "".join(lines) == name


def test_long_layer_names_are_shortened_in_the_middle_on_one_line() -> None:
    base = tiny_cnn()
    long_name = "/features/features.5/project/project.0/block/inner/Conv"
    layer = dataclasses.replace(base.layers[0], name=long_name)
    text = render_terminal(dataclasses.replace(base, layers=(layer,)), width=60)
    table = text[text.index("Layers: all 1"):].split("\n\n")[0].splitlines()
    block = table[next(i for i, line in enumerate(table) if line.startswith("───")) + 1:]  # rows under the rule
    assert len(block) == 1 and len(block[0]) <= 60
    shown = block[0].split()[0]
    assert shown.startswith("...") and long_name.endswith(shown[3:]) and shown.endswith("/inner/Conv")


@pytest.mark.parametrize(
    ("name", "width", "shown"),
    [
        ("/features/features.2/expand/expand.0/Conv", 30, "/features.2/expand.0/Conv"),  # repeats dropped
        ("/features/features.2/expand/expand.0/Conv", 21, "...es.2/expand.0/Conv"),  # the block index stays
        ("/encoder/block/inner/expand/expand_conv/Conv", 27, ".../expand/expand_conv/Conv"),
        ("/encoder/layers.0/mlp/MatMul", 20, "...yers.0/mlp/MatMul"),
        ("/m/very_long_block_name_here/Conv", 20, "/m/...name_here/Conv"),
        ("/short/Conv", 20, "/short/Conv"),
        ("x" * 50, 10, "...xxxxxxx"),
    ],
)
def test_shorten_path_keeps_the_tail(name: str, width: int, shown: str) -> None:
    assert shorten_path(name, width) == shown
    assert len(shorten_path(name, width)) <= width
