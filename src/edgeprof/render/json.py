"""The JSON report: :meth:`Profile.to_dict`, nothing added, nothing left out.

The schema (every field, its unit, ``schema_version``) is documented in
``docs/json-schema.md``; :meth:`Profile.from_json` reads it back into an equal Profile. The
layout (objects indented by 2 spaces, each element of a list on one line) is that of
``report/json_text.py``; :func:`json_chunks` yields the text a megabyte at a time, so that the
command line writes a report of any size without holding it whole."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from edgeprof.ops.registry import Entry
from edgeprof.report.json_text import iter_json
from edgeprof.report.model import Profile

__all__ = ["json_chunks", "render_json", "render_ops_json"]


def render_json(profile: Profile) -> str:
    """The report as JSON (objects indented by 2 spaces), ending in a newline."""
    return "".join(json_chunks(profile))


def json_chunks(profile: Profile) -> Iterator[str]:
    """:func:`render_json`'s text in chunks of about a megabyte, written from the report as it
    is (no copy of it as a dict, no whole string)."""
    yield from iter_json(profile.json_members(), indent=2)
    yield "\n"


def render_ops_json(entries: Iterable[Entry]) -> str:
    """The op registry as a JSON list of ``{op, state, category, formula}`` objects."""
    rows = [{"op": e.op, "state": e.state, "category": e.category.value, "formula": e.doc} for e in entries]
    return json.dumps(rows, indent=2) + "\n"
