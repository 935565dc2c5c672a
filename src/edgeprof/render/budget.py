"""``edgeprof check`` rendered: the verdict and one row per budget, as a text table, Markdown
(a CI job summary) or JSON."""

from __future__ import annotations

import json

from rich.text import Text

from edgeprof.render.console import Col, fit_table, print_all
from edgeprof.render.format import exact
from edgeprof.render.tables import Md, md_escape, md_table
from edgeprof.report.budget import CheckResult
from edgeprof.report.text import printable

__all__ = ["render_check"]

_MARK = {"pass": "pass", "fail": "FAIL", "unproven": "UNPROVEN", "unknown": "UNKNOWN"}


def _value_text(value: int | float | None) -> str:
    if value is None:
        return "-"
    return exact(value) if isinstance(value, int) else f"{value:.4g}"


def _limit_text(limit: int | str) -> str:
    return exact(limit) if isinstance(limit, int) else limit


def render_check(result: CheckResult, fmt: str, *, width: int = 100, color: bool = False,
                 encoding: str = "utf-8") -> str:
    """The result as ``table`` (the terminal's style, ``width`` columns), ``md`` (a CI job
    summary) or ``json``."""
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=2) + "\n"
    verdict = "all budgets hold" if result.ok else f"{sum(not c.ok for c in result.checks)} budget(s) not met"
    if fmt == "md":
        icon = {"pass": "✅ pass", "fail": "❌ **fail**", "unproven": "⚠️ **unproven**", "unknown": "⚠️ **unknown**"}
        md_rows = [(Md(f"`{c.budget}`"), c.figure, _value_text(c.value), _limit_text(c.limit), Md(icon[c.status]),
                 c.detail) for c in result.checks]
        lines = [f"## edgeprof budget check: {md_escape(result.model or '(unnamed model)')}", "",
                 f"**{'PASS' if result.ok else 'FAIL'}**: {verdict}.", "",
                 *md_table(("budget", "figure", "value", "limit", "result", "detail"), md_rows,
                           (False, False, True, True, False, False))]
        return printable("\n".join(lines), newlines=True) + "\n"
    rows: list[list[str | Text]] = [[c.budget, _value_text(c.value), _limit_text(c.limit),
             Text(_MARK[c.status], style="green" if c.status == "pass" else "bold red"), c.detail]
            for c in result.checks]
    cols = [Col("budget"), Col("value", "num"), Col("limit", "num"), Col("result"), Col("detail", "wrap")]
    verdict_line = Text.assemble("edgeprof budget check: ", (result.model or "(unnamed model)", "bold"), ": ",
                                 ("PASS" if result.ok else "FAIL", "bold green" if result.ok else "bold red"),
                                 f" ({verdict})")
    return print_all([verdict_line, fit_table(cols, rows, width).table], width, color, encoding)
