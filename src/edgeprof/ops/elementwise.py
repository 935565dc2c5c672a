"""Op family: elementwise (formulas registered here)."""

from __future__ import annotations
