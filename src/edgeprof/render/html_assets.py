"""The inline CSS and JavaScript of the HTML reports, the page shell and the escaping helpers.

The page makes no network request: everything is inline, and a Content-Security-Policy meta
tag forbids any other source (``default-src 'none'``), so even a mistake cannot fetch.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from edgeprof.report.text import UNSAFE_CHARS, printable

__all__ = ["CSP", "CSS", "SCRIPT", "esc", "json_for_script", "page"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
:root { --fg:#1e2329; --muted:#5f6b7a; --line:#d9dee5; --bg:#ffffff; --card:#f5f7fa; --accent:#3465a4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; padding: 24px 32px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px;
     border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 170px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; }
.card .exact { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; }
.kind { display: inline-block; font-size: 11px; border-radius: 9px; padding: 0 7px; margin-top: 4px; }
.kind-counted { background: #dcebdc; color: #2d5f2d; } .kind-estimated { background: #fdebd0; color: #8a5300; }
.kind-measured { background: #dbe6f5; color: #1f4a80; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
table.sortable th[aria-sort="ascending"]::after { content: " \\25B2"; }
table.sortable th[aria-sort="descending"]::after { content: " \\25BC"; }
tr.not-counted td { background: #fff3f3; }
td.best { font-weight: 700; color: #2d5f2d; }
.notice { background: #fff8e1; border-left: 4px solid #f0b400; padding: 6px 10px; margin: 4px 0; }
.ok { color: #2d5f2d; } .bad { color: #a40000; font-weight: 600; }
.chart text { font-size: 11px; fill: var(--fg); } .chart text.tick { fill: var(--muted); }
.filter { margin: 6px 0; padding: 4px 8px; width: 320px; font: inherit; }
.scroll { max-height: 640px; overflow: auto; border: 1px solid var(--line); }
.scroll thead th { position: sticky; top: 0; background: var(--bg); }
code { font-size: 13px; }
footer { color: var(--muted); margin-top: 32px; font-size: 12px; }
"""

# Sorting: a click on a header sorts by that column (numbers by their data-v value), a second
# click reverses. Filtering: rows whose data-key text does not contain the query are hidden.
SCRIPT = """
(function () {
  "use strict";
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) { return numeric ? -Infinity : ""; }
    var raw = cell.getAttribute("data-v");
    if (numeric) { var n = Number(raw === null ? cell.textContent : raw); return isNaN(n) ? -Infinity : n; }
    return (raw === null ? cell.textContent : raw).toLowerCase();
  }
  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.cells);
    var index = headers.indexOf(th);
    var numeric = th.classList.contains("num");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    if (th.getAttribute("aria-sort") === null && numeric) { ascending = false; }
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (r, i) { r.setAttribute("data-i", String(i)); });
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      var c = x < y ? -1 : x > y ? 1 : Number(a.getAttribute("data-i")) - Number(b.getAttribute("data-i"));
      return ascending || c === 0 ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function applyFilter(input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    if (!table) { return; }
    var query = input.value.trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
      var key = (r.getAttribute("data-key") || r.textContent).toLowerCase();
      var visible = query === "" || key.indexOf(query) !== -1;
      r.hidden = !visible;
      if (visible) { shown += 1; }
    });
    var counter = document.getElementById(input.getAttribute("data-table") + "-count");
    if (counter) { counter.textContent = shown + " of " + table.tBodies[0].rows.length + " rows"; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
        th.setAttribute("tabindex", "0");
        th.addEventListener("click", function () { sortBy(table, th); });
        th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(table, th); } });
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("input.filter"), function (input) {
      input.addEventListener("input", function () { applyFilter(input); });
      applyFilter(input);
    });
  });
})();
"""


_UNSAFE_IN_JSON = re.compile(f"[{UNSAFE_CHARS}]")  # json.dumps escapes C0 itself; C1 and bidi controls it keeps


def esc(text: object) -> str:
    """HTML-escape ``text`` for element content and quoted attribute values (``< > & " '``);
    control and bidi characters (``U+202E`` would reverse the text after it) show as visible
    escapes (``\\u202e``)."""
    return escape(printable(str(text), newlines=True), quote=True)


def json_for_script(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and the line separators are
    written as ``\\u`` escapes, so a string holding ``</script>`` cannot close the element; so are
    the C1 and bidi control characters (the strings read back exactly)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    text = _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    for ch, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, code)
    return text


def page(title: str, body: str) -> str:
    """A complete HTML document: the CSP, the CSS, ``body`` (already escaped) and the script."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{body}\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
