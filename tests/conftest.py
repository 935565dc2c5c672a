"""Project-wide pytest options.

``--update-goldens`` rewrites the golden files of the renderer tests (tests/render/goldens/)
from the current output instead of comparing against them; review the diff before committing.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/render/goldens/* from the current renderer output instead of comparing",
    )
