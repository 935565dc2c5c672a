"""`edgeprof profile --measure` and `--seq-len` on the command line (real ONNX Runtime runs)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main


def _custom_op_model(path: Path) -> Path:
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Mystery", ["r"], ["y"], domain="com.example")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    onnx.save(model, path)
    return path


def test_measure_puts_the_measured_peak_beside_the_prediction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).resolve().parents[1] / "models" / "demo.onnx"
    out = tmp_path / "r.json"
    assert main(["profile", str(demo), "--measure", "--measure-runs", "2", "--format", "json", "-o", str(out)]) == 0
    mem = json.loads(out.read_text())["memory"]
    assert mem["measurement_error"] == ""
    # The run loads 2.2 MB of weights and allocates activations: the increase cannot be below the weights.
    assert mem["measured"]["rss"]["peak_rss_increase_bytes"] >= mem["predicted"]["weight_bytes"]
    assert mem["measured"]["measured_minus_predicted_bytes"] == mem["measured"]["rss"]["peak_rss_increase_bytes"] - mem["predicted"]["peak_bytes"]
    assert mem["measured"]["rss"]["runs"] == 2


def test_a_model_the_runtime_cannot_run_still_gets_its_static_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _custom_op_model(tmp_path / "custom.onnx")
    code = main(["profile", str(model), "--measure", "--no-color"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("edgeprof: --measure:") and "Mystery" in err
    assert "Measurement not made" in out
    assert "com.example::Mystery" in out  # the static report, with the op it could not count


def test_seq_len_is_refused_for_a_model_that_is_not_a_config(capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).resolve().parents[1] / "models" / "demo.onnx"
    assert main(["profile", str(demo), "--seq-len", "8"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "config.json" in err


def test_hf_decoder_config_reports_llm_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 100,
        "max_position_embeddings": 256,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert main(["profile", str(path), "--seq-len", "32", "--format", "json", "--no-memory"]) == 0
    report = json.loads(capsys.readouterr().out)
    llm = report["llm"]
    assert llm["context_len"] == 32
    # 2 (K and V) x 2 layers x 2 KV heads x head size 64/4 = 16 x 4 bytes (float32)
    assert llm["kv_cache_bytes_per_token"] == 2 * 2 * 2 * 16 * 4
    assert llm["kv_cache_bytes"] == 32 * 512
    assert llm["weight_bytes"]["fp32"] == 4 * llm["params"]
    assert report["memory"] is None
    # the prefill trace is the profiled forward: same input length, logits of the last position only
    assert report["inputs"][0]["shape"] == [1, 32]
