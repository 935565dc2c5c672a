"""``edgeprof check`` rendered: the verdict and one row per budget, as a text table, Markdown
(a CI job summary) or JSON."""

from __future__ import annotations

import json

from edgeprof.render.format import exact
from edgeprof.render.tables import Md, md_escape, md_table, text_table
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


def render_check(result: CheckResult, fmt: str) -> str:
    """The result as ``table`` (plain text), ``md`` (a CI job summary) or ``json``."""
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
    rows = [("budget", "value", "limit", "result", "detail")]
    rows += [(c.budget, _value_text(c.value), _limit_text(c.limit), _MARK[c.status], c.detail)
             for c in result.checks]
    lines = [f"edgeprof budget check: {result.model or '(unnamed model)'}: {'PASS' if result.ok else 'FAIL'} ({verdict})",
             *text_table(rows, (False, True, True, False, False))]
    return printable("\n".join(lines), newlines=True) + "\n"
