"""Op family: pool (formulas registered here)."""

from __future__ import annotations
