"""The device catalogue schema: every number has a unit (in its name), a tag and a source."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeprof.devices.catalogue import TAGS, load_catalogue
from edgeprof.errors import UsageError

REQUIRED = {"rpi4", "rpi5", "jetson-nano", "orin-nano", "sd8gen2-npu", "sd8gen3", "a17pro-ane", "m4-ane", "coral",
            "esp32-s3", "stm32h7", "cortex-m4"}


def test_builtin_catalogue_has_the_required_targets() -> None:
    cat = load_catalogue()
    assert REQUIRED <= set(cat.devices)


def test_every_figure_has_unit_tag_and_source() -> None:
    for dev in load_catalogue().devices.values():
        assert dev.figures(), dev.id
        for name, fig in dev.figures().items():
            # a unit in the name: rates, bytes, watts, seconds, or a dimensionless fraction of a peak
            assert name.endswith(("_flop_per_s", "_op_per_s", "_bytes_per_s", "_bytes", "_w", "_overhead_s",
                                  "_efficiency", "_nm")) or name.startswith("efficiency."), name
            assert fig.tag in TAGS
            assert fig.source.strip()
            assert fig.value > 0
            if "efficiency" in name:
                assert fig.value <= 1, (dev.id, name)


def test_every_builtin_device_has_the_latency_model_figures() -> None:
    for dev in load_catalogue().devices.values():
        assert dev.per_node_overhead_s is not None and dev.per_inference_overhead_s is not None, dev.id
        assert dev.efficiency_for("fp32", "conv") is not None, dev.id
        assert dev.bandwidth_efficiency is not None, dev.id


def test_assumed_figures_say_so() -> None:
    ane = load_catalogue().get("a17pro-ane")  # no published row: its class defaults stay guesses
    assert ane.per_node_overhead_s is not None and ane.per_node_overhead_s.tag == "assumed"
    assert ane.efficiency_for("int8", "linear").tag == "assumed"  # type: ignore[union-attr]
    rpi5 = load_catalogue().get("rpi5")  # fitted to published rows
    assert rpi5.per_node_overhead_s is not None and rpi5.per_node_overhead_s.tag == "fitted"


def test_efficiency_lookup_order(tmp_path: Path) -> None:
    f = tmp_path / "eff.toml"
    f.write_text(
        '[[device]]\nid = "b"\nname = "B"\nclass = "host"\n'
        'peak_fp32_flop_per_s = { value = 1e9, tag = "measured", source = "m" }\n'
        'per_node_overhead_s = { value = 1e-5, tag = "measured", source = "m" }\n'
        'efficiency = { default = { value = 0.1, tag = "measured", source = "m" }, '
        'conv = { value = 0.5, tag = "measured", source = "m" }, '
        '"int8:conv" = { value = 0.9, tag = "measured", source = "m" }, '
        '"int8:default" = { value = 0.7, tag = "measured", source = "m" } }\n'
    )
    dev = load_catalogue(f).get("b")
    assert dev.efficiency_for("fp32", "conv").value == 0.5  # type: ignore[union-attr]
    assert dev.efficiency_for("int8", "conv").value == 0.9  # type: ignore[union-attr]
    assert dev.efficiency_for("int8", "pooling").value == 0.7  # type: ignore[union-attr]
    assert dev.efficiency_for("fp32", "pooling").value == 0.1  # type: ignore[union-attr]
    assert dev.per_node_overhead_s.value == 1e-5  # type: ignore[union-attr]  # own figure kept
    assert dev.per_inference_overhead_s.tag == "assumed"  # type: ignore[union-attr]  # class default


def test_efficiency_above_one_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[[device]]\nid = "b"\nname = "B"\nclass = "host"\n'
                 'efficiency = { default = { value = 1.5, tag = "measured", source = "m" } }\n')
    with pytest.raises(UsageError, match="fraction"):
        load_catalogue(f)


def test_known_figures_are_carried_exactly() -> None:
    cat = load_catalogue()
    assert cat.get("rpi5").peak_fp32_flop_per_s is not None
    assert cat.get("rpi5").peak_fp32_flop_per_s.value == 4 * 2.4e9 * 16  # type: ignore[union-attr]
    assert cat.get("coral").peak_int8_op_per_s.tag == "vendor"  # type: ignore[union-attr]
    assert cat.get("stm32h7").sram_bytes.value == 1024 * 1024  # type: ignore[union-attr]


def test_user_file_adds_and_overrides(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(
        '[[device]]\nid = "rpi5"\nname = "My Pi 5"\nclass = "sbc"\n'
        'peak_fp32_flop_per_s = { value = 40e9, tag = "measured", source = "my benchmark" }\n'
        '[[device]]\nid = "board"\nname = "Board"\nclass = "mcu"\n'
        'sram_bytes = { value = 262144, tag = "vendor", source = "datasheet" }\n'
    )
    cat = load_catalogue(f)
    assert cat.get("rpi5").name == "My Pi 5"
    assert cat.get("rpi5").origin == str(f)
    assert cat.get("board").sram_bytes.value == 262144  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram = 4\n', "unknown field"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = 4\n', "a figure is"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = { value = 4, tag = "guess", source = "s" }\n', "tag"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = { value = 4, tag = "vendor", source = " " }\n', "source"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = { value = -1, tag = "vendor", source = "s" }\n', "positive"),
        ('[[device]]\nname = "X"\nclass = "sbc"\n', "'id'"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "toaster"\n', "class"),
        ("[[device]\n", "not valid TOML"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = { value = inf, tag = "vendor", source = "s" }\n',
         "positive finite number, not inf"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = { value = nan, tag = "vendor", source = "s" }\n',
         "positive finite number, not nan"),
        ('[[device]]\nid = "x"\nname = "X"\nclass = "sbc"\nram_bytes = { value = 1' + "0" * 400 + ', tag = "vendor", '
         'source = "s" }\n', "too large for a device figure"),
    ],
)
def test_bad_user_files_get_one_clear_line(tmp_path: Path, body: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(UsageError, match=message) as info:
        load_catalogue(f)
    assert "\n" not in str(info.value)


def test_unknown_device_names_the_known_ones() -> None:
    with pytest.raises(UsageError, match="rpi5"):
        load_catalogue().get("rpi6")


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        load_catalogue(tmp_path / "nope.toml")


def test_energy_figures_carry_their_tag_and_source() -> None:
    cat = load_catalogue()
    node = cat.get("rpi5").process_node_nm
    assert node is not None and node.value == 16 and node.tag == "secondary" and "16 nm" in node.source
    h7 = cat.get("stm32h7").process_node_nm
    assert h7 is not None and h7.value == 40
    assert cat.get("cortex-m4").process_node_nm is None  # no source found: never guessed
    onchip = cat.get("rpi5").onchip_bytes
    assert onchip is not None and onchip.value == 2 * 1024 * 1024
    assert cat.get("sd8gen2-npu").process_node_nm.tag == "vendor"  # type: ignore[union-attr]


def test_a_user_device_file_may_give_energy_figures(tmp_path: Path) -> None:
    f = tmp_path / "e.toml"
    f.write_text('[[device]]\nid = "b"\nname = "B"\nclass = "host"\n'
                 'process_node_nm = { value = 7, tag = "vendor", source = "datasheet" }\n'
                 'onchip_bytes = { value = 4194304, tag = "vendor", source = "datasheet" }\n')
    dev = load_catalogue(f).get("b")
    assert dev.process_node_nm is not None and dev.process_node_nm.value == 7
    assert dev.onchip_bytes is not None and dev.onchip_bytes.value == 4 * 1024 * 1024
