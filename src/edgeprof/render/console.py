"""The terminal's one table style, shared by every command that prints a table (``profile``,
``bench``, ``compare``, ``check``, ``devices``, ``validate``, ``ops``).

A rich console that writes into a buffer (colour only on request; ASCII rules when the
destination cannot encode box characters), the one table look (a header, a rule under it,
columns two spaces apart, no edges), :func:`safe` for every model string, names shortened in
the middle to their column (:func:`shorten_path`: the informative tail stays), and
:func:`fit_table`: a table that fits ``width`` columns by shortening names, wrapping headers and
long text, and dropping its least useful columns (said in a note) unless asked for all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from edgeprof.report.text import printable, shorten

__all__ = [
    "CELL_LIMIT",
    "NAME_LIMIT",
    "Col",
    "FittedTable",
    "PathName",
    "SafeTable",
    "finish",
    "fit_table",
    "make_console",
    "new_table",
    "print_all",
    "safe",
    "shorten_path",
    "wrap_path",
]

NAME_LIMIT = 160  # a node, module or input name longer than this shows as its head, "..." and its tail
CELL_LIMIT = 2000  # any other cell or line of the report (a reason, a notice)
HEAD = "bold"
GAP = 2  # columns are two spaces apart


class _Sink(io.StringIO):
    """A text buffer that tells rich which encoding the text will be written in, so that rich
    falls back to ASCII table borders when the destination cannot encode box characters."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def make_console(width: int, color: bool, encoding: str) -> tuple[Console, io.StringIO]:
    """A console ``width`` columns wide writing into the returned buffer."""
    sink = _Sink(encoding)
    console = Console(
        file=sink,
        width=max(20, width),
        force_terminal=color,
        force_jupyter=False,
        force_interactive=False,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
        _environ={},  # the caller decides width and colour; no COLUMNS/FORCE_COLOR surprises
    )
    return console, sink


def safe(item: RenderableType | None, limit: int = CELL_LIMIT) -> RenderableType | None:
    """``item`` made safe for a terminal: a ``str`` or :class:`Text` with its control and bidi
    characters escaped and shortened to ``limit`` characters (a styled :class:`Text` keeps its
    styles unless it had to change); other renderables are edgeprof's own (they sanitise
    themselves)."""
    if isinstance(item, str):
        return shorten(printable(item), limit)
    if isinstance(item, Text):
        plain = item.plain
        if len(plain) <= limit and printable(plain) == plain:
            return item
        out = Text(style=item.style, justify=item.justify, overflow=item.overflow, no_wrap=item.no_wrap, end=item.end)
        cuts = sorted({s.start for s in item.spans} | {s.end for s in item.spans})
        for part in item.divide(cuts):
            style = " ".join(str(span.style) for span in part.spans)
            out.append(shorten(printable(part.plain), limit), style=style or None)
        return out
    return item


class SafeTable(Table):
    """A rich table whose every header and cell goes through :func:`safe`."""

    def add_column(self, header: RenderableType = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(safe(header) or "", *args, **kwargs)

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(safe(r) for r in renderables), **kwargs)


def new_table() -> Table:
    """An empty table in the one style: bold header, a rule under it, no edges."""
    return SafeTable(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style=HEAD,
        expand=False,
    )


_BREAK_AFTER = re.compile(r"[^/.]*[/.]|[^/.]+$")


def wrap_path(name: str, width: int) -> list[str]:
    """Split a node or module name into lines of at most ``width`` characters, breaking after
    a ``/`` or ``.`` where possible (a piece longer than ``width`` is cut where it must be)."""
    width = max(1, width)
    lines: list[str] = []
    line = ""
    for piece in _BREAK_AFTER.findall(name):
        if len(piece) > width:  # cut in one pass (slicing off the front again and again is quadratic)
            if line:
                lines.append(line)
                line = ""
            cut = (len(piece) - 1) // width * width
            lines += [piece[i:i + width] for i in range(0, cut, width)]
            piece = piece[cut:]
        if len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    if line or not lines:
        lines.append(line)
    return lines


def _collapse(name: str) -> str:
    """A PyTorch export's node path without its repeated module names: ``/features/features.2/
    expand/expand.0/Conv`` -> ``/features.2/expand.0/Conv`` (a piece followed by itself plus
    ``.index`` says nothing more)."""
    pieces = name.split("/")
    kept = [p for i, p in enumerate(pieces) if not (p and i + 1 < len(pieces) and pieces[i + 1].startswith(p + "."))]
    return "/".join(kept)


def shorten_path(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters, on one line: as it is when it fits, else without
    its repeated module names (:func:`_collapse`), else its first path piece (when short),
    ``...`` and as much of its tail as fits, the tail starting at a ``/`` where that costs
    little: ``/encoder/block/inner/expand/expand_conv/Conv`` in 24 columns is
    ``.../expand/expand_conv/Conv``. The tail names the op and its block; the head
    only says where the path starts."""
    if len(name) <= width:
        return name
    name = _collapse(name)
    if len(name) <= width:
        return name
    if width < 8:
        return shorten(name, max(width, 5), head=1)
    budget = width - 3
    first = name.find("/", 1)
    head = name[:first + 1] if 0 < first and first + 1 <= budget // 3 else ""
    tail = name[len(name) - (budget - len(head)):]
    cut = tail.find("/")
    if 0 < cut <= len(tail) // 4 and not any(ch.isdigit() for ch in tail[:cut]):  # keep a block index
        tail = tail[cut + 1:] if head else tail[cut:]
    return f"{head}...{tail}"


class PathName:
    """A table cell holding a name such as ``/features/features.5/project/Conv``: shortened in
    the middle to its column's width (:func:`shorten_path`), never wrapped over lines, with its
    ``suffix`` (`` (branch of /if)``) kept whole; control characters are escaped and a name over
    :data:`NAME_LIMIT` characters is cut first."""

    def __init__(self, name: str, suffix: str = "", short_suffix: str = "") -> None:
        self.name = shorten(printable(name), NAME_LIMIT)
        self.suffix = shorten(printable(suffix), NAME_LIMIT)
        self.short_suffix = shorten(printable(short_suffix), NAME_LIMIT) or self.suffix

    @property
    def text(self) -> str:
        return self.name + self.suffix

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(len(self.text), 16), len(self.text)).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        suffix = self.suffix if len(self.name + self.suffix) <= width or width - len(self.suffix) >= 12 \
            else self.short_suffix
        shown = shorten_path(self.name, width - len(suffix)) + suffix if width - len(suffix) >= 8 \
            else shorten_path(self.text, width)
        yield Text(shown, no_wrap=True, overflow="crop")


_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def finish(text: str, color: bool) -> str:
    """Drop the padding rich leaves at the end of lines (plain text only: with colour the
    padding sits inside the escape sequences and is left alone). A last guard: no control
    character is left but line ends and (with colour) rich's own colour sequences."""
    if color:
        parts = _SGR.split(text)  # odd items are colour sequences
        return "".join(p if i % 2 else printable(p, newlines=True) for i, p in enumerate(parts))
    return "\n".join(printable(line.rstrip()) for line in text.split("\n"))


# ---- tables that fit the terminal ------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """One column of :func:`fit_table`.

    ``kind``: ``"num"`` (right-aligned, never cut), ``"text"`` (left-aligned, kept whole),
    ``"name"`` (a name: shortened in the middle to the room left, down to 12 columns) or
    ``"wrap"`` (long text such as a reason: wrapped in the room left, at least 20 columns).
    ``drop``: 0 for a column always shown; a column with a higher number is dropped earlier
    when the table does not fit (ties: the rightmost first)."""

    header: str
    kind: str = "text"
    drop: int = 0


_FLEX_FLOOR = {"name": 12, "wrap": 20}


def _plain(cell: RenderableType) -> str:
    if isinstance(cell, PathName):
        return cell.text
    if isinstance(cell, Text):
        return cell.plain
    return cell if isinstance(cell, str) else ""


def _longest_word(text: str) -> int:
    return max((len(w) for w in text.split()), default=0)


def _needs(col: Col, cells: Sequence[str]) -> tuple[int, int]:
    """(least, natural) width of a column: headers wrap at spaces, numbers and short text never."""
    natural = max([len(col.header), *(len(c) for c in cells)])
    if col.kind in _FLEX_FLOOR:
        return min(natural, max(_FLEX_FLOOR[col.kind], _longest_word(col.header))), natural
    return max([_longest_word(col.header), *(len(c) for c in cells)]), natural


@dataclass(frozen=True)
class FittedTable:
    """A table built by :func:`fit_table` and the headers of the columns it left out."""

    table: Table
    dropped: tuple[str, ...]
    width: int

    def note(self, what: str = "every column") -> str:
        """The line that says which columns were left out ("" when none)."""
        if not self.dropped:
            return ""
        return (f"Not shown, to fit {self.width} columns: {', '.join(self.dropped)} (--all-columns shows {what}; "
                "so does --format json)")


def natural_width(columns: Sequence[Col], rows: Sequence[Sequence[str]]) -> int:
    """The width of the table with every cell on one line (no column left out)."""
    return sum(_needs(c, [r[i] for r in rows if len(r) > i])[1] for i, c in enumerate(columns)) \
        + GAP * (len(columns) - 1)


def fit_table(columns: Sequence[Col], rows: Sequence[Sequence[RenderableType]], width: int, *,
              all_columns: bool = False) -> FittedTable:
    """``rows`` under ``columns`` in at most ``width`` characters: numbers and short text keep
    their width, headers wrap at spaces, names are shortened in the middle and long text wraps
    in the room left; if that is not enough, columns are dropped by their ``drop`` rank.
    ``all_columns``: nothing dropped and nothing shortened (the table may be wider than
    ``width``)."""
    plain = [[_plain(c) for c in row] for row in rows]
    keep = list(range(len(columns)))
    needs = [_needs(c, [r[i] for r in plain if len(r) > i]) for i, c in enumerate(columns)]

    def least(kept: list[int]) -> int:
        return sum(needs[i][0] for i in kept) + GAP * (len(kept) - 1)

    dropped: list[int] = []
    while not all_columns and least(keep) > width:
        ranked = [i for i in keep if columns[i].drop > 0]
        if not ranked:
            break
        worst = max(ranked, key=lambda i: (columns[i].drop, i))
        keep.remove(worst)
        dropped.append(worst)
    widths = {i: needs[i][1] if all_columns else needs[i][0] for i in keep}
    room = width - least(keep)
    for i in keep:  # the flexible columns grow to their natural width, left to right, while room lasts
        if not all_columns and columns[i].kind in _FLEX_FLOOR and room > 0:
            extra = min(room, needs[i][1] - widths[i])
            widths[i] += extra
            room -= extra
    for i in keep:  # then headers get back their one line, left to right
        if not all_columns and columns[i].kind not in _FLEX_FLOOR and room > 0:
            extra = min(room, needs[i][1] - widths[i])
            widths[i] += extra
            room -= extra
    table = new_table()
    for i in keep:
        col = columns[i]
        justify: Literal["right", "left"] = "right" if col.kind == "num" else "left"
        table.add_column(Text(col.header, style=HEAD), justify=justify, width=widths[i],
                         overflow="fold")
    for row in rows:
        cells: list[RenderableType] = []
        for i in keep:
            cell = row[i] if i < len(row) else ""
            if columns[i].kind == "name" and isinstance(cell, str):
                cells.append(PathName(cell))
            else:
                cells.append(cell)
        table.add_row(*cells)
    return FittedTable(table, tuple(columns[i].header for i in sorted(dropped)), width)


def print_all(items: Sequence[RenderableType | str], width: int, color: bool, encoding: str) -> str:
    """Every item printed on a console ``width`` columns wide, as finished text."""
    console, sink = make_console(width, color, encoding)
    for item in items:
        console.print(safe(item))
    return finish(sink.getvalue(), color)
