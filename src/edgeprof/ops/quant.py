"""Op family: quant (formulas registered here)."""

from __future__ import annotations
