"""The table writers, one per format: plain text (:func:`text_table`), GitHub-flavoured Markdown
(:func:`md_table`, which escapes every cell itself) and CSV (:func:`csv_table`).

Every terminal table is drawn with rich in one style (``render/console.py``); these writers
serve every Markdown table, the CSV report and plain columns of text (:func:`text_table`).

Every cell is model-provided text as far as these writers know: control and bidi characters
are written as visible escapes (:func:`edgeprof.report.text.printable`) in every format, and a
CSV text cell that a spreadsheet would take for a formula gets a leading ``'``
(:func:`csv_cell`); a number cell (``int``/``float``) is written as the number it is.
"""

from __future__ import annotations

import csv
import io
import typing
from collections.abc import Iterable, Sequence
from itertools import repeat

from edgeprof.report.text import printable

__all__ = ["Md", "csv_cell", "csv_columns", "csv_table", "md_escape", "md_table", "text_table"]

_BACKSLASHED = set("\\`*_[]|#~")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


class Md(str):
    """Text that is Markdown already (``**bold**``, a code span, an icon): a Markdown table
    writes it as it is. Any other ``str`` cell is plain text and gets escaped."""

    __slots__ = ()


def md_escape(text: str) -> str:
    """Escape ``text`` for a Markdown line: Markdown punctuation (and the backslash) gets a
    backslash, ``< > &`` become entities, line breaks become spaces, other control and bidi
    characters visible escapes (their backslash escaped in turn)."""
    out = []
    for ch in printable(" ".join(text.splitlines())) if text else "":
        if ch in _BACKSLASHED:
            out.append("\\" + ch)
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        else:
            out.append(ch)
    return "".join(out)


def _md_cell(cell: str) -> str:
    """A table cell: :class:`Md` as it is; plain text escaped (pipes, backslashes and markup by
    :func:`md_escape`, line breaks as spaces), with its leading and trailing spaces kept as
    ``&#32;`` (a table trims them otherwise)."""
    if isinstance(cell, Md):
        return printable(str(cell))
    text = md_escape(cell)
    core = text.strip(" ")
    if core == text:
        return text
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text) - len(text.rstrip(" ")) if core else 0
    return "&#32;" * lead + core + "&#32;" * trail


def md_table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """A GFM table as lines. Every cell is escaped here (give :class:`Md` for Markdown kept as
    it is); ``right`` marks right-aligned columns. A row shorter than ``headers`` leaves its
    last columns empty (``| |``)."""
    n = len(headers)

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(_md_cell(c) for c in cells) + " |" + " |" * (n - len(cells))

    lines = [line(headers), "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    return lines + [line(row) for row in rows]


def text_table(rows: Sequence[Sequence[str]], right: Sequence[bool], *, rule: bool = False) -> list[str]:
    """Plain-text columns two spaces apart, as lines without trailing spaces. ``rows[0]`` is
    the header (``rule``: a line of dashes under it); ``right`` marks right-aligned columns. A
    row shorter than ``right`` ends in a cell that runs on past the columns (a message in place
    of figures); that cell does not widen any column."""
    n = len(right)
    rows = [[printable(c) for c in row] for row in rows]
    widths = [0] * n
    for row in rows:
        for i, cell in enumerate(row if len(row) == n else row[:-1]):
            widths[i] = max(widths[i], len(cell))

    def line(row: Sequence[str]) -> str:
        full = len(row) == n
        body = row if full else row[:-1]
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(body, widths, right, strict=False)]
        return "  ".join(cells if full else [*cells, row[-1]]).rstrip()

    lines = [line(rows[0])] if rows else []
    if rule:
        lines.append("  ".join("-" * w for w in widths))
    return lines + [line(row) for row in rows[1:]]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(cell: str | int | float) -> str:
    """One CSV cell: a number as it is (a negative count stays a number); text with its control
    and bidi characters escaped (but for ``\\n``: the csv module quotes the cell) and, when it starts like a spreadsheet formula (``= + - @``, a
    tab or a carriage return), a leading ``'`` so that the spreadsheet shows it as text."""
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return repr(cell) if isinstance(cell, float) else str(cell)
    text = printable(str(cell), newlines=True)  # a quoted cell holds a line break safely
    return "'" + text if str(cell).startswith(_FORMULA_START) else text


def csv_table(header: Sequence[str], rows: Iterable[Sequence[str | int | float]]) -> str:
    """CSV with ``\\n`` line ends (the csv module quotes what needs quoting); every cell goes
    through :func:`csv_cell`."""
    return _csv_text(header, ([csv_cell(c) for c in row] for row in rows))


def csv_columns(header: Sequence[str], columns: Sequence[Sequence[str | int | float]]) -> str:
    """:func:`csv_table` of the rows that ``columns`` make (row ``i``: the ``i``-th cell of each
    column), a column at a time: a column of ints, or of text that needs no escape and no ``'``,
    is written as it is without a call per cell."""
    cells = [_csv_column(column) for column in columns]
    return _csv_text(header, zip(*cells, strict=True))


def _csv_column(cells: Sequence[str | int | float]) -> Iterable[str]:
    """:func:`csv_cell` of each of ``cells``."""
    kinds = set(map(type, cells))
    if kinds == {int}:
        return map(int.__repr__, cells)
    if kinds == {str}:
        text = typing.cast("Sequence[str]", cells)
        joined = "".join(text)  # one check for the whole column
        if printable(joined, newlines=True) == joined and not any(map(str.startswith, text, repeat(_FORMULA_START))):
            return text
    return map(csv_cell, cells)


def _csv_text(header: Sequence[str], rows: Iterable[Iterable[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in header])
    writer.writerows(rows)
    return buf.getvalue()
