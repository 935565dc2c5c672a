"""The JSON report: :meth:`Profile.to_dict`, nothing added, nothing left out.

The schema (every field, its unit, ``schema_version``) is documented in
``docs/json-schema.md``; :meth:`Profile.from_json` reads it back into an equal Profile."""

from __future__ import annotations

import json
from collections.abc import Iterable

from edgeprof.ops.registry import Entry
from edgeprof.report.model import Profile

__all__ = ["render_json", "render_ops_json"]


def render_json(profile: Profile) -> str:
    """The report as indented JSON (2 spaces), ending in a newline."""
    return profile.to_json(indent=2) + "\n"


def render_ops_json(entries: Iterable[Entry]) -> str:
    """The op registry as a JSON list of ``{op, state, category, formula}`` objects."""
    rows = [{"op": e.op, "state": e.state, "category": e.category.value, "formula": e.doc} for e in entries]
    return json.dumps(rows, indent=2) + "\n"
