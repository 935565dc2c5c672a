"""Op family: reduce (formulas registered here)."""

from __future__ import annotations
