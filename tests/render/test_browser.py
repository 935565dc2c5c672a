"""The HTML report in a real headless Chromium: it renders without console errors, the plots
and the table are there, sorting and filtering work, no network request is attempted, and a
hostile model cannot run script. A screenshot is kept in tests/artifacts/.

Chromium and chromedriver come from Debian (``make test`` installs them). When they are
missing these tests fail under CI (``CI`` set) and are skipped otherwise.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgeprof.render.html import render_html
from edgeprof.report.model import LayerCost, ModelInfo, NotCounted, Profile
from tests.render import tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--window-size=1400,2400")

# Records CSP violations and resource loads before any script of the page runs.
_PROBE = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK) else None)
        if found:
            return found
    return None


def _require_browser() -> tuple[str, str]:
    chromium = _find("/usr/bin/chromium", "chromium", "chromium-browser")
    driver = _find("/usr/bin/chromedriver", "chromedriver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing = "the selenium package (pip install -e .[dev])"
    else:
        missing = "" if chromium and driver else "chromium and chromedriver (apt-get install chromium chromium-driver)"
    if missing:
        message = f"browser tests need {missing}; 'make test' installs them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert chromium is not None and driver is not None
    return chromium, driver


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _PROBE})
    try:
        yield drv
    finally:
        drv.quit()


def _open(driver: Any, html: str, path: Path) -> list[dict[str, Any]]:
    """Load ``html`` from ``path``; return the console entries logged while loading."""
    path.write_text(html, encoding="utf-8")
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(path.as_uri())
    return list(driver.get_log("browser"))


def _network(driver: Any) -> tuple[list[str], list[str]]:
    """(resources the page loaded, CSP violations) - both empty for a self-contained page."""
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name);")
    violations = driver.execute_script("return window.__csp;")
    return list(resources), list(violations)


def _column(driver: Any, index: int) -> list[str]:
    return list(driver.execute_script(
        "return Array.from(document.querySelectorAll('#layer-table tbody tr'))"
        ".map(r => r.cells[arguments[0]].getAttribute('data-v') ?? r.cells[arguments[0]].textContent);",
        index,
    ))


def _header(driver: Any, label: str) -> Any:
    from selenium.webdriver.common.by import By

    for th in driver.find_elements(By.CSS_SELECTOR, "#layer-table thead th"):
        if th.text.strip().rstrip("\u25b2\u25bc ").strip() == label:
            return th
    raise AssertionError(f"no header {label!r}")


def _headers(driver: Any) -> list[str]:
    return list(driver.execute_script(
        "return Array.from(document.querySelectorAll('#layer-table thead th')).map(th => th.textContent);"))


@pytest.fixture(scope="module")
def demo_profile() -> Profile:
    from edgeprof import api

    return api.profile(str(ROOT / "models" / "demo.onnx"))


def test_report_renders_with_plots_table_and_no_network(driver: Any, demo_profile: Profile, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    console = _open(driver, render_html(demo_profile), tmp_path / "report.html")
    assert [e for e in console if e.get("level") == "SEVERE"] == []
    resources, violations = _network(driver)
    assert resources == [] and violations == []
    charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 3  # FLOPs per layer, categories, memory timeline
    assert all(c.size["width"] > 0 and c.size["height"] > 0 for c in charts)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#memory-timeline .peak circle")) == 1
    rows = driver.find_elements(By.CSS_SELECTOR, "#layer-table tbody tr")
    assert len(rows) == len(demo_profile.layers)
    assert len(driver.find_elements(By.CSS_SELECTOR, ".card")) == 5
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / "report.png"))
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_clicking_headers_sorts_the_table(driver: Any, demo_profile: Profile, tmp_path: Path) -> None:
    _open(driver, render_html(demo_profile), tmp_path / "report.html")
    flops_col = _headers(driver).index("FLOPs")
    name_col = _headers(driver).index("name")
    graph_order = [str(i) for i in range(len(demo_profile.layers))]
    assert _column(driver, 0) == graph_order
    expected = sorted((x.flops for x in demo_profile.layers), reverse=True)
    _header(driver, "FLOPs").click()  # numbers: largest first on the first click
    assert [int(v) for v in _column(driver, flops_col)] == expected
    assert _column(driver, 0) != graph_order
    _header(driver, "FLOPs").click()
    assert [int(v) for v in _column(driver, flops_col)] == sorted(expected)
    _header(driver, "name").click()
    names = [str(v) for v in _column(driver, name_col)]
    assert names == sorted((x.name for x in demo_profile.layers), key=str.lower)
    _header(driver, "#").click()
    _header(driver, "#").click()
    assert _column(driver, 0) == graph_order


def test_filter_box_hides_rows_that_do_not_match(driver: Any, demo_profile: Profile, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, render_html(demo_profile), tmp_path / "report.html")
    box = driver.find_element(By.ID, "layer-filter")
    box.send_keys("hardswish")
    visible = driver.execute_script(
        "return Array.from(document.querySelectorAll('#layer-table tbody tr')).filter(r => !r.hidden)"
        ".map(r => r.cells[1].textContent);")
    expected = [x.name for x in demo_profile.layers if "hardswish" in f"{x.name} {x.op} {x.category}".lower()]
    assert 0 < len(visible) < len(demo_profile.layers)
    assert visible == expected
    count = driver.find_element(By.ID, "layer-table-count").text
    assert count == f"{len(expected)} of {len(demo_profile.layers)} rows"
    box.clear()
    box.send_keys(" ")  # whitespace only: everything again
    hidden = driver.execute_script("return document.querySelectorAll('#layer-table tbody tr[hidden]').length;")
    assert hidden == 0


_HOSTILE = ('<script>window.__xss=1</script>', '"><svg onload="window.__xss=2">', "'><img src=x onerror=window.__xss=3>",
            "</script><script>window.__xss=4</script>&amp;")


def test_hostile_names_run_no_script_in_the_browser(driver: Any, tmp_path: Path) -> None:
    base = tiny_cnn()
    layers = tuple(dataclasses.replace(x, name=_HOSTILE[i % 4], op=_HOSTILE[(i + 1) % 4])
                   for i, x in enumerate(base.layers))
    profile = dataclasses.replace(
        base, layers=layers,
        model=ModelInfo(_HOSTILE[0], "onnx", _HOSTILE[1], 10, _HOSTILE[2], _HOSTILE[3]),
        notices=_HOSTILE, not_counted=(NotCounted(_HOSTILE[3], 1, _HOSTILE[0], _HOSTILE[1]),),
    )
    console = _open(driver, render_html(profile), tmp_path / "hostile.html")
    assert driver.execute_script("return window.__xss === undefined;")
    assert [e for e in console if e.get("level") == "SEVERE"] == []
    assert _network(driver) == ([], [])
    cells = driver.execute_script(
        "return Array.from(document.querySelectorAll('#layer-table tbody tr')).map(r => r.cells[1].textContent);")
    assert cells == [x.name for x in layers]  # shown as text, verbatim
    assert driver.execute_script("return document.title;") == f"edgeprof: {_HOSTILE[0]}"


def test_the_network_check_catches_a_request(driver: Any, tmp_path: Path) -> None:
    """The checks above can fail: a page that tries to load a remote image is caught."""
    html = render_html(tiny_cnn()).replace("</body>", '<img src="http://198.51.100.1/x.png" alt=""></body>')
    _open(driver, html, tmp_path / "leaky.html")
    resources, violations = _network(driver)
    assert violations or resources


def test_a_layer_named_like_a_header_sorts_like_the_others(driver: Any, tmp_path: Path) -> None:
    base = tiny_cnn()
    layers = (*base.layers, LayerCost("FLOPs", "Relu", "activation", "counted", (1,), flops=1))
    _open(driver, render_html(dataclasses.replace(base, layers=layers)), tmp_path / "r.html")
    _header(driver, "FLOPs").click()
    flops_col = _headers(driver).index("FLOPs")
    values = [int(v) for v in _column(driver, flops_col)]
    assert values == sorted(values, reverse=True)


def test_missing_browser_fails_under_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium and chromedriver"):
        _require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="make test"):
        _require_browser()


def test_comparison_page_renders_and_sorts(driver: Any, demo_profile: Profile, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from edgeprof.render.compare import render_compare
    from edgeprof.report.compare import CompareEntry

    entries = [CompareEntry("demo.onnx", demo_profile), CompareEntry("tiny.onnx", tiny_cnn()),
               CompareEntry("<b>broken</b>.onnx", None, "not a model")]
    console = _open(driver, render_compare(entries, "html"), tmp_path / "compare.html")
    assert [e for e in console if e.get("level") == "SEVERE"] == []
    assert _network(driver) == ([], [])
    assert len(driver.find_elements(By.CSS_SELECTOR, "#scatter svg.chart g.point")) == 1  # only demo has a peak
    models = "return Array.from(document.querySelectorAll('#compare-table tbody tr')).map(r => r.cells[0].textContent);"
    assert driver.execute_script(models) == ["demo.onnx", "tiny.onnx (lower bound)", "<b>broken</b>.onnx"]
    flops = next(th for th in driver.find_elements(By.CSS_SELECTOR, "#compare-table thead th") if th.text == "FLOPs")
    flops.click()  # largest first; the failed row (no value) last
    assert driver.execute_script(models) == ["demo.onnx", "tiny.onnx (lower bound)", "<b>broken</b>.onnx"]
    flops.click()
    assert driver.execute_script(models) == ["<b>broken</b>.onnx", "tiny.onnx (lower bound)", "demo.onnx"]


def test_energy_section_renders_and_escapes_hostile_names(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from edgeprof.devices.catalogue import load_catalogue
    from edgeprof.passes.energy import with_energy

    base = tiny_cnn()
    layers = tuple(dataclasses.replace(x, name=_HOSTILE[i % 4], op=_HOSTILE[(i + 1) % 4])
                   for i, x in enumerate(base.layers))
    profile = with_energy(dataclasses.replace(base, layers=layers), [load_catalogue().get("rpi5")])
    console = _open(driver, render_html(profile), tmp_path / "energy.html")
    assert driver.execute_script("return window.__xss === undefined;")
    assert [e for e in console if e.get("level") == "SEVERE"] == []
    assert _network(driver) == ([], [])
    ranges = driver.find_elements(By.CSS_SELECTOR, "#energy table.energy-range tbody tr")
    assert ranges[0].find_elements(By.TAG_NAME, "td")[0].text == "estimated"
    assert len(driver.find_elements(By.CSS_SELECTOR, "#energy svg.chart")) == 2  # by category, per layer
    assert driver.find_elements(By.CSS_SELECTOR, "#energy table.energy-categories tbody tr")
