"""Op family: resize (formulas registered here)."""

from __future__ import annotations
