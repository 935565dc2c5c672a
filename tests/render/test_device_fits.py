"""The microcontroller view (memory.predicted.device_fits) in the terminal, Markdown and HTML reports."""

from __future__ import annotations

import dataclasses

import edgeprof
from edgeprof.devices.catalogue import Device, Figure
from edgeprof.passes.memory import with_device_fits
from edgeprof.render.format import device_fit_rows
from edgeprof.render.html import render_html
from edgeprof.render.markdown import render_markdown
from edgeprof.render.terminal import render_terminal
from edgeprof.report.model import Profile
from tests.render import tiny_cnn_onnx


def _size(v: float) -> Figure:
    return Figure(v, "vendor", "test")


def _profile() -> Profile:
    return edgeprof.profile(tiny_cnn_onnx())


def _with_fits(sram: int, flash: int, device_id: str = "mcu") -> Profile:
    p = _profile()
    assert p.memory is not None
    dev = Device(id=device_id, name="An MCU", soc="", device_class="mcu", sram_bytes=_size(sram),
                 flash_bytes=_size(flash))
    return dataclasses.replace(p, memory=with_device_fits(p.memory, [dev]))


def test_rows_give_the_verdict_per_precision() -> None:
    roomy = _with_fits(10**9, 10**9)
    assert roomy.memory is not None
    rows = device_fit_rows(roomy.memory)
    assert [(r[0], r[1], r[4]) for r in rows] == [("mcu", "stored", "yes"), ("mcu", "int8", "yes")]
    tight = _with_fits(1, 10**9)
    assert tight.memory is not None
    assert {r[4] for r in device_fit_rows(tight.memory)} == {"no: SRAM too small"}
    nothing = _with_fits(1, 1)
    assert nothing.memory is not None
    assert device_fit_rows(nothing.memory)[0][4] == "no: flash and SRAM too small"


def test_every_format_shows_the_fit_and_escapes_the_device_id() -> None:
    p = _with_fits(10**9, 1, device_id="<b>mcu</b>")
    term = render_terminal(p, width=140)
    assert "Does it fit?" in term and "no: flash too small" in term
    md = render_markdown(p)
    assert "| weights in flash |" in md and "no: flash too small" in md
    html = render_html(p)
    assert 'id="device-fits"' in html and "&lt;b&gt;mcu&lt;/b&gt;" in html and "<b>mcu</b>" not in html


def test_no_fit_table_without_such_devices() -> None:
    p = _profile()
    assert "Does it fit?" not in render_terminal(p, width=140) and "Does it fit?" not in render_markdown(p)
