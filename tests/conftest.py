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


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets an empty edgeprof config folder: a machine's real calibration
    (``~/.config/edgeprof/host.toml``) never leaks into a test, and no test writes there."""
    monkeypatch.setenv("EDGEPROF_CONFIG_DIR", str(tmp_path_factory.mktemp("edgeprof-config")))
