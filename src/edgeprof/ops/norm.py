"""Op family: norm (formulas registered here)."""

from __future__ import annotations
