"""The energy section in every human-readable format: the range with its method and node, the
per-category breakdown and top consumers, notes, and model strings escaped."""

from __future__ import annotations

import dataclasses

from edgeprof.devices.catalogue import load_catalogue
from edgeprof.passes.energy import with_energy
from edgeprof.render.format import ViewOptions, joules
from edgeprof.render.html import render_html
from edgeprof.render.markdown import render_markdown
from edgeprof.render.terminal import render_terminal
from edgeprof.report.energy import EnergyReport, MeasuredEnergy
from edgeprof.report.model import Profile
from tests.render import tiny_cnn


def _with_energy(profile: Profile, *devices: str) -> Profile:
    cat = load_catalogue()
    return with_energy(profile, [cat.get(d) for d in devices])


def test_joules_picks_a_readable_unit() -> None:
    assert [joules(x) for x in (2.5e3, 1.2, 2.362e-3, 4.56e-5, 7e-9, 3e-13, 0.0)] == [
        "2.5 kJ", "1.2 J", "2.36 mJ", "45.6 uJ", "7 nJ", "0.3 pJ", "0 J"]


def test_terminal_shows_the_range_method_node_and_breakdown() -> None:
    p = _with_energy(tiny_cnn(), "rpi5", "esp32-s3")
    text = render_terminal(p, ViewOptions(details=True), width=120)
    assert "Energy per inference on rpi5 (Raspberry Pi 5; 16 nm)" in text
    assert "node unknown: 45 nm figures unscaled" in text  # esp32-s3 has no node figure
    e = p.energy.estimated["rpi5"]  # type: ignore[union-attr]
    assert joules(e.estimated_j.low) in text and joules(e.estimated_j.mid) in text
    assert "power x latency" in text and "W idle + " in text and "busy = " in text
    assert "Energy by category on rpi5" in text and "Top energy consumers on rpi5" in text
    assert "battery per hour" not in text and "rpi5: battery: no battery" in " ".join(text.split())  # a board
    assert "esp32-s3: no power figure" in text
    assert ">= " in text  # tiny_cnn has an op not counted: a lower bound, said so


def test_no_sensor_note_and_measured_row() -> None:
    base = _with_energy(tiny_cnn(), "rpi5")
    assert base.energy is not None
    none = dataclasses.replace(base, energy=dataclasses.replace(
        base.energy, sensor_note="no power sensor found (checked: RAPL: /sys/class/powercap is absent)"))
    text = render_terminal(none, ViewOptions(details=True), width=120)
    assert "no power sensor found (checked: RAPL" in text
    assert "measured here" not in text
    m = MeasuredEnergy("Linux powercap RAPL (/x)", ("package-0",), 0.002, 100, 1.0, 0.5, 1.6, 2.0, 2.0)
    measured = dataclasses.replace(base, energy=EnergyReport(measured=m))
    assert "measured here" in render_terminal(measured, width=120)
    assert "2 mJ" in render_markdown(measured)


def test_markdown_and_html_escape_model_strings() -> None:
    base = tiny_cnn()
    layers = tuple(dataclasses.replace(x, name="<b>|x", op="a|b") for x in base.layers)
    p = _with_energy(dataclasses.replace(base, layers=layers), "stm32h7")
    md = render_markdown(p)
    assert "### Energy" in md and "&lt;b&gt;\\|x" in md and "<b>|x" not in md
    html = render_html(p)
    assert '<section id="energy">' in html and "<b>|x" not in html.split('id="edgeprof-data"')[0]
    assert 'class="energy-range"' in html and 'class="energy-categories"' in html
    assert "energy on stm32h7" in html  # the summary card


def test_no_energy_section_without_devices() -> None:
    p = tiny_cnn()
    assert "Energy per inference" not in render_terminal(p)
    assert "### Energy" not in render_markdown(p)
    assert 'id="energy"' not in render_html(p)
