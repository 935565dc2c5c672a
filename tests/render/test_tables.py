"""The table writers: one Markdown writer that escapes every plain cell, one plain-text writer."""

from __future__ import annotations

from edgeprof.render.tables import Md, csv_columns, csv_table, md_table, text_table


def test_markdown_cells_are_escaped_and_markdown_is_kept() -> None:
    lines = md_table(("name", "n"), [("a|b\\c", "1"), ("two\nlines", Md("**2**")), ("  padded ", "3")], (False, True))
    assert lines[:2] == ["| name | n |", "|---|---:|"]
    assert lines[2] == "| a\\|b\\\\c | 1 |"
    assert lines[3] == "| two lines | **2** |"
    assert lines[4] == "| &#32;&#32;padded&#32; | 3 |"


def test_a_short_markdown_row_leaves_the_last_columns_empty() -> None:
    assert md_table(("a", "b", "c"), [("x", "why")], (False,) * 3)[2] == "| x | why | |"


def test_text_table_aligns_and_lets_a_short_row_run_on() -> None:
    lines = text_table([("model", "FLOPs", "MACs"), ("a.onnx", "10", "5"), ("b", "could not be profiled: a reason")],
                       (False, True, True), rule=True)
    assert lines == ["model   FLOPs  MACs", "------  -----  ----", "a.onnx     10     5",
                     "b       could not be profiled: a reason"]


def test_csv_quotes_what_needs_quoting() -> None:
    assert csv_table(("a", "b"), [("x,y", 'q"')]) == 'a,b\n"x,y","q"""\n'


def test_csv_columns_writes_what_csv_table_writes_of_the_same_rows() -> None:
    """Clean columns are written as they are; one cell needing an escape or a ``'`` makes its
    column go cell by cell, and only that cell changes."""
    rows: list[tuple[str | int | float, ...]] = [
        ("a", 1, 0.5, "=cmd", "x\x1by", True, "two\nlines", 3),
        ("b,c", -2, 1e300, "ok", "plain", False, "", None),  # type: ignore[list-item]
        ('q"', 10**30, float("nan"), "+1", "\u202e", True, "z", 2.5),
    ]
    columns = list(zip(*rows, strict=True))
    header = [f"h{i}" for i in range(len(columns))]
    assert csv_columns(header, columns) == csv_table(header, rows)
    assert csv_columns(["a", "b"], [(), ()]) == "a,b\n"
    clean = [("x", "y"), (1, 2)]
    assert csv_columns(["s", "n"], clean) == "s,n\nx,1\ny,2\n"
