"""The HTML report without a browser: self-contained (no URL anywhere), every section present
when its data exists and absent otherwise, exact figures, and hostile model strings escaped
(built by hand and through an ONNX model); the notebook summary (``_repr_html_``)."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import onnx
import pytest

from edgeprof.cli import main
from edgeprof.render.html import cards, render_html, summary_html
from edgeprof.render.html_assets import CSP, json_for_script
from edgeprof.render.html_svg import shorten
from edgeprof.report.model import InputSpec, ModelInfo, NotCounted, Profile
from tests.render import e2e_profile, tiny_cnn, tiny_cnn_onnx

HOSTILE = (
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(2)>",
    "'><svg onload=alert(3)>",
    "a & b </script><script>alert(4)</script>",
    "</title></head><body onload=alert(5)>",
)


class _Scan(HTMLParser):
    """Collects the elements and attributes of a document as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _scan(html: str) -> _Scan:
    scan = _Scan()
    scan.feed(html)
    scan.close()
    return scan


def _hostile_profile() -> Profile:
    base = tiny_cnn()
    layers = tuple(
        dataclasses.replace(x, name=HOSTILE[i % 5], op=HOSTILE[(i + 1) % 5], category=HOSTILE[(i + 2) % 5],
                            range_group=HOSTILE[0] if i == 1 else "")
        for i, x in enumerate(base.layers)
    )
    return dataclasses.replace(
        base,
        model=ModelInfo(HOSTILE[0], HOSTILE[1], HOSTILE[2], 7, HOSTILE[3], HOSTILE[4]),
        inputs=(InputSpec(HOSTILE[3], (1, 3), HOSTILE[1]),),
        layers=layers,
        notices=HOSTILE,
        not_counted=(NotCounted(HOSTILE[2], 2, HOSTILE[3], HOSTILE[4]),),
    )


def _assert_inert(html: str, model_name: str) -> None:
    scan = _scan(html)
    # Exactly our two script elements (the sort/filter code, the JSON data), no other element
    # that a hostile string could have opened, and no event-handler attribute.
    assert scan.tags.count("script") == 2
    assert "img" not in scan.tags and "body" in scan.tags and scan.tags.count("body") == 1
    assert scan.tags.count("svg") == sum(1 for _ in re.finditer(r'<svg class="chart', html))
    assert not [name for name, _ in scan.attrs if name.startswith("on")]
    assert "alert(" not in scan.scripts[1]  # the sort/filter code (last) holds no model string
    data = json.loads(scan.scripts[0])  # the embedded JSON parses and holds the strings verbatim
    assert data["model"]["name"] == model_name
    for bad in HOSTILE:
        assert bad not in html


def test_hostile_strings_in_every_field_are_escaped() -> None:
    profile = _hostile_profile()
    html = render_html(profile)
    _assert_inert(html, HOSTILE[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b &lt;/script&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&#x27;&gt;&lt;svg onload=alert(3)&gt;" in html
    assert "<title>edgeprof: &lt;script&gt;alert(1)&lt;/script&gt;</title>" in html


def test_hostile_names_through_an_onnx_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_cnn_onnx()
    for i, node in enumerate(model.graph.node):
        node.name = HOSTILE[i % 5]
    model.graph.name = HOSTILE[3]
    model.producer_name = HOSTILE[1]
    model.graph.input[0].name = HOSTILE[2]  # an input name, and the Conv that reads it
    model.graph.node[0].input[0] = HOSTILE[2]
    path = tmp_path / "hostile.onnx"
    onnx.save(model, str(path))
    monkeypatch.chdir(tmp_path)
    import edgeprof

    profile = edgeprof.profile("hostile.onnx")
    assert {x.name for x in profile.layers} >= set(HOSTILE)
    assert profile.inputs[0].name == HOSTILE[2] and profile.model.producer.startswith(HOSTILE[1])
    html = render_html(profile)
    _assert_inert(html, profile.model.name)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE[1] not in summary_html(profile)


def test_json_for_script_cannot_close_the_element() -> None:
    text = json_for_script({"k": "</script><!-- & \u2028"})
    assert text == '{"k": "\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028"}'
    assert json.loads(text) == {"k": "</script><!-- & \u2028"}


def test_the_report_is_self_contained() -> None:
    html = render_html(tiny_cnn())
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert "default-src 'none'" in CSP
    assert not re.search(r"(https?:)?//[a-z0-9]", html, re.IGNORECASE)  # no URL of any kind
    scan = _scan(html)
    for tag in ("link", "img", "iframe", "object", "embed"):
        assert tag not in scan.tags
    assert not [v for k, v in scan.attrs if k in ("src", "href")]


def test_sections_and_exact_figures_of_tiny_cnn() -> None:
    html = render_html(tiny_cnn())
    # totals worked out in tests.render.tiny_cnn: 19,200 FLOPs, 9,472 MACs, 2,682 params, 10,728 B
    for figure in ("19,200 FLOPs", "9,472 MACs", "2,682", "10,728 B"):
        assert f'<div class="exact">{figure}</div>' in html
    for section in ("summary", "inputs", "flops-chart", "category-chart", "layers", "not-counted"):
        assert f'<section id="{section}">' in html
    assert 'id="memory-timeline"' not in html  # tiny_cnn has no memory report
    assert 'id="llm"' not in html and 'id="latency"' not in html
    assert html.count("<tr data-key=") == len(tiny_cnn().layers)
    assert "com.example::Mystery" in html and "These ops add nothing" in html
    assert html.count('<span class="kind kind-counted">counted</span>') == 4  # FLOPs, MACs, params, weights


def test_all_ops_counted_is_said_not_left_empty() -> None:
    base = tiny_cnn()
    counted = dataclasses.replace(base, not_counted=(), layers=tuple(x for x in base.layers if x.state != "not_counted"))
    html = render_html(counted)
    assert "None: all ops counted." in html
    assert summary_html(counted).endswith("<p>All ops counted.</p></div>")


def test_memory_sections_appear_with_a_memory_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = e2e_profile(tmp_path, monkeypatch)
    assert profile.memory is not None
    html = render_html(profile)
    assert '<section id="memory-timeline">' in html and '<section id="memory">' in html
    mem = profile.memory
    peak = max(mem.predicted.timeline, key=lambda p: p.op_peak_bytes)
    assert f"peak {peak.op_peak_bytes:,} B at step {peak.step}" in html
    assert html.count('<g class="peak">') == 1
    labels = [c.label for c in cards(profile)]
    assert labels == ["FLOPs", "MACs", "params", "weight size", "peak memory"]
    assert f"{mem.predicted.peak_bytes:,} B" in html


def test_repr_html_is_a_compact_escaped_summary() -> None:
    profile = _hostile_profile()
    html = profile._repr_html_()
    assert html == summary_html(profile)
    assert "<script" not in html and "<svg" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "19,200" in render_html(tiny_cnn()) and "19,200" in tiny_cnn()._repr_html_()
    assert "<b>Not counted:</b>" in html


def test_shorten_keeps_both_ends() -> None:
    assert shorten("abcdefghij", 10) == "abcdefghij"
    assert shorten("abcdefghij", 5) == "ab\u2026ij"


def test_cli_writes_an_html_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.onnx"
    onnx.save(tiny_cnn_onnx(), str(path))
    out = tmp_path / "report.html"
    assert main(["profile", str(path), "--format", "html", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.endswith("</html>\n")
    assert capsys.readouterr().out == ""


def test_latency_appears_with_predictions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgeprof.render.format import seconds
    from tests.test_compare import with_prediction

    profile = with_prediction(e2e_profile(tmp_path, monkeypatch))
    assert profile.latency is not None
    predicted = profile.latency.predicted["rpi5"]
    html = render_html(profile)
    assert '<section id="latency">' in html
    card = cards(profile)[-1]
    assert (card.label, card.kind, card.value) == ("latency on rpi5", "estimated", None)
    assert card.text.endswith(seconds(predicted.total_s))
    assert html.count('<svg class="chart bar-chart"') == 3  # FLOPs, categories, time per layer
    assert "latency on rpi5" in profile._repr_html_()
    assert "Test &lt;board&gt;" in html and "Test <board>" not in html


def _flops_bars(html: str) -> int:
    section = html.split('<section id="flops-chart">', 1)[1].split("</section>", 1)[0]
    return section.count('<g class="bar">')


def test_top_sets_the_layers_of_the_flops_chart() -> None:
    # tiny_cnn: Conv, Relu and Gemm have counted ops; Flatten and the two custom nodes do not
    profile = tiny_cnn()
    assert _flops_bars(render_html(profile)) == 3
    assert _flops_bars(render_html(profile, top=2)) == 2
    assert _flops_bars(render_html(profile, top=0)) == 3
    assert "the 2 costliest layers" in render_html(profile, top=2)
    with pytest.raises(ValueError, match="top"):
        render_html(profile, top=-1)


def test_roofline_places_each_timed_layer_under_the_roofs() -> None:
    from edgeprof.render.html_svg import RooflinePoint, roofline_chart

    points = [RooflinePoint("<conv>", 10.0, 5e10, "compute"), RooflinePoint("add", 0.1, 1e9, "memory"),
              RooflinePoint("empty", 0.0, 0.0, "memory")]
    svg = roofline_chart(points, {"fp32": 1e11, "int8": 4e11}, 1e10, "Roofline <x>")
    assert svg.count('<g class="point">') == 2  # the layer without ops or bytes has no place on a log axis
    assert svg.count('<g class="roof">') == 3  # two peaks and the bandwidth slope
    assert "&lt;conv&gt;" in svg and "<conv>" not in svg and "Roofline &lt;x&gt;" in svg
    assert roofline_chart([], {}, None, "empty") == ""


def test_the_latency_section_has_a_roofline_per_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edgeprof.api import predict_latency

    html = render_html(predict_latency(e2e_profile(tmp_path, monkeypatch), ["rpi5", "stm32h7"]))
    assert html.count('<svg class="chart roofline-chart"') == 2
    assert "Roofline on rpi5" in html and "Roofline on stm32h7" in html
