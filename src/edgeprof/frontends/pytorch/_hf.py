"""Hugging Face frontend: a transformers ``config.json`` -> a model on the meta device -> the IR.

The file is read as JSON (never executed); the model class is the one named in
``"architectures"`` if transformers ships it, else the auto class for ``"model_type"``.
Custom code (``auto_map``) is never run and nothing is downloaded: the model is built from the
config with random initialisation on ``torch.device("meta")``, so no weight is allocated,
then traced like any ``nn.Module`` (``_load.py``).

For decoder LLMs :func:`trace_decoder` also traces a prefill and a decode step (one new token
with a KV cache of the context length) and returns both graphs with the KV-cache geometry of the
config (:class:`~edgeprof.report.llm.DecoderSpec`); :mod:`edgeprof.passes.llm` counts them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from edgeprof.errors import EdgeprofError, ModelLoadError, ShapeError, UsageError
from edgeprof.frontends.base import LoadedModel, ShapeRequest
from edgeprof.frontends.pytorch._load import load_torch, trace_module
from edgeprof.frontends.pytorch._trace import ir_dtype
from edgeprof.ir import Graph
from edgeprof.report.llm import DecoderSpec
from edgeprof.safe_files import MAX_TEXT_BYTES, UnreadableFile, read_regular_file

__all__ = ["DecoderTrace", "build_model", "decoder_spec", "is_decoder_llm", "load_hf_config", "load_hf_config_and_decoder",
           "read_config", "trace_decoder"]

_OPTIONS = {"seq_len", "batch_size", "attn_implementation", "dtype", "input_dtypes", "example_inputs"}


def read_config(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The config as a dict (a path to a ``config.json`` or a mapping)."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    try:  # a regular file only (``/dev/zero`` never ends, a FIFO blocks), at most 16 MiB
        raw = read_regular_file(path, MAX_TEXT_BYTES)
    except UnreadableFile as exc:
        raise ModelLoadError(f"{path}: {exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path}: not a JSON file ({exc})") from None
    except ValueError:  # an integer of more than 4,300 digits (Python refuses to convert it)
        raise ModelLoadError(f"{path}: the config holds an integer of more than 4,300 digits") from None
    except RecursionError:
        raise ModelLoadError(f"{path}: the config nests too deeply to load") from None
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        raise ModelLoadError(f"{path}: not a Hugging Face config (no \"model_type\")")
    return data


def build_model(source: str | Path | Mapping[str, Any], *, attn_implementation: str = "sdpa",
                dtype: str | None = None) -> tuple[torch.nn.Module, Any]:
    """Build the model a config describes on the meta device (random init, no download), in
    eval mode. ``dtype`` defaults to the config's ``dtype``/``torch_dtype`` (float32 if none)."""
    import transformers

    data = read_config(source)
    model_type = data["model_type"]
    fields = {k: v for k, v in data.items() if k not in ("model_type", "auto_map", "transformers_version")}
    fields["attn_implementation"] = attn_implementation
    _check_counts(data, _label(source))
    try:
        with _quiet():
            config = transformers.AutoConfig.for_model(model_type, **fields)
    except (ValueError, KeyError) as exc:
        if model_type not in _known_model_types(transformers):
            raise ModelLoadError(f"unknown model_type {model_type!r} for transformers {transformers.__version__}: "
                                 f"{_first_line(exc)}") from None
        raise ModelLoadError(f"{_label(source)}: invalid {model_type} config: {_first_line(exc)}") from None
    except Exception as exc:  # transformers' field validation (type errors, strict dataclass checks, ...)
        raise ModelLoadError(f"{_label(source)}: invalid {model_type} config: {type(exc).__name__}: "
                             f"{_first_line(exc)}") from None
    cls = _model_class(transformers, data, config)
    torch_dtype = _dtype(dtype, data)
    try:
        with torch.device("meta"), _quiet():
            model = cls(config)
    except Exception as exc:
        raise ModelLoadError(f"cannot build {cls.__name__} from the config: {type(exc).__name__}: "
                             f"{_first_line(exc)}") from None
    model = model.to(dtype=torch_dtype) if torch_dtype != torch.float32 else model
    model.eval()
    return model, config


# Config fields that say how many modules the model builds: a hostile value (10**9 layers) would
# make building the model on the meta device run for hours, so they are capped.
MAX_MODULE_COUNT = 4096
_COUNT_FIELDS = frozenset({
    "num_hidden_layers", "num_layers", "n_layer", "n_layers", "encoder_layers", "decoder_layers",
    "num_encoder_layers", "num_decoder_layers", "num_experts", "num_local_experts", "n_routed_experts",
})
_MAX_NESTING = 16


def _label(source: str | Path | Mapping[str, Any]) -> str:
    return "<config>" if isinstance(source, Mapping) else str(source)


def _check_counts(data: Mapping[str, Any], label: str, depth: int = 0) -> None:
    """Refuse a layer or expert count above :data:`MAX_MODULE_COUNT` (also in nested
    sub-configs such as ``text_config``) and absurdly nested configs, before anything is built."""
    if depth > _MAX_NESTING:
        raise ModelLoadError(f"{label}: the config nests sub-configs more than {_MAX_NESTING} deep")
    for key, value in data.items():
        if key in _COUNT_FIELDS and isinstance(value, int) and not isinstance(value, bool) \
                and value > MAX_MODULE_COUNT:
            raise ModelLoadError(f"{label}: {key} = {value} is more than {MAX_MODULE_COUNT}, edgeprof's limit for a "
                                 "layer or expert count (the model would take hours to build)")
        if isinstance(value, Mapping):
            _check_counts(value, label, depth + 1)


def _known_model_types(transformers: Any) -> set[str]:
    mapping = getattr(getattr(transformers, "models", None), "auto", None)
    names = getattr(getattr(mapping, "configuration_auto", None), "CONFIG_MAPPING_NAMES", {})
    return set(names)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the loggers of transformers and of torch's fake tensors while a model is built
    or traced: they print warnings and even tracebacks for configs that then fail with a clear
    error of ours (the CLI's stderr stays one line)."""
    loggers = [logging.getLogger(n) for n in ("transformers", "torch._subclasses.fake_tensor")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _model_class(transformers: Any, data: Mapping[str, Any], config: Any) -> Any:
    archs = data.get("architectures")
    for arch in archs if isinstance(archs, list) else []:
        cls = getattr(transformers, str(arch), None) if str(arch).isidentifier() else None
        if isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel):
            return cls
    for auto in (transformers.AutoModelForCausalLM, transformers.AutoModel):
        mapping = getattr(auto, "_model_mapping", None)
        if mapping is not None and type(config) in mapping:
            return mapping[type(config)]
    raise ModelLoadError(f"transformers {transformers.__version__} has no model class for "
                         f"model_type {data['model_type']!r} (custom code is never run)")


def _dtype(dtype: str | None, data: Mapping[str, Any]) -> torch.dtype:
    name = dtype or data.get("dtype") or data.get("torch_dtype") or "float32"
    dt = getattr(torch, str(name), None)
    if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
        raise UsageError(f"unknown floating dtype {name!r}")
    return dt


def is_decoder_llm(model: torch.nn.Module, config: Any) -> bool:
    """A decoder-only LM: a causal-LM head and no encoder."""
    if getattr(config, "is_encoder_decoder", False):
        return False
    name = type(model).__name__
    return name.endswith(("ForCausalLM", "LMHeadModel")) or bool(getattr(config, "is_decoder", False))


def decoder_spec(config: Any, context_len: int, batch: int, dtype: torch.dtype) -> DecoderSpec:
    """Layers, KV heads and head size of a decoder config (the KV-cache geometry)."""
    layers = getattr(config, "num_hidden_layers", None)
    heads = getattr(config, "num_attention_heads", None)
    hidden = getattr(config, "hidden_size", None)
    if not isinstance(layers, int) or not isinstance(heads, int) or not isinstance(hidden, int):
        raise ModelLoadError("the config lacks num_hidden_layers / num_attention_heads / hidden_size")
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    head_dim = getattr(config, "head_dim", None) or hidden // heads
    return DecoderSpec(int(layers), int(kv_heads), int(head_dim), ir_dtype(dtype).name, context_len, batch)


# ---- loading ----------------------------------------------------------------------------------


def load_hf_config(path: str | Path, request: ShapeRequest | None = None, **options: Any) -> LoadedModel:
    """Profile the model a ``config.json`` describes. Options: ``seq_len`` (text models),
    ``batch_size`` (default 1), ``attn_implementation`` ("sdpa" or "eager"), ``dtype``."""
    return load_hf_config_and_decoder(path, request, llm=False, **options)[0]


def load_hf_config_and_decoder(path: str | Path, request: ShapeRequest | None = None, *, llm: bool = True,
                               **options: Any) -> tuple[LoadedModel, DecoderTrace | None]:
    """:func:`load_hf_config`, and (``llm``, with ``seq_len``, for a decoder LLM) the prefill
    and decode graphs (:func:`trace_decoder`) at ``seq_len`` tokens, both from one build of the
    model; the LLM pass counts them (a frontend never computes a cost)."""
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise UsageError(f"unknown option(s) for a Hugging Face config: {', '.join(unknown)}")
    attn = options.get("attn_implementation", "sdpa")
    try:
        with _quiet():
            built = build_model(path, attn_implementation=attn, dtype=options.get("dtype"))
            loaded = _load_hf_config(path, request, built, **options)
    except EdgeprofError:
        raise
    except RecursionError:
        raise ModelLoadError(f"{path}: the config nests too deeply to load") from None
    except Exception as exc:  # transformers' own code on a config it does not expect
        raise ModelLoadError(f"{path}: cannot profile this config: {type(exc).__name__}: {_first_line(exc)}") from None
    if not llm or options.get("seq_len") is None or not is_decoder_llm(*built):
        return loaded, None
    trace = trace_decoder(path, int(options["seq_len"]), batch_size=int(options.get("batch_size") or 1),
                          attn_implementation=attn, dtype=options.get("dtype"), built=built)
    return loaded, trace


def _load_hf_config(path: str | Path, request: ShapeRequest | None, built: tuple[torch.nn.Module, Any],
                    **options: Any) -> LoadedModel:
    request = request_in = request or ShapeRequest()
    model, config = built
    batch = _positive(options.get("batch_size", 1), "batch_size")
    example = options.get("example_inputs")
    if example is None and not request.inputs:
        request = ShapeRequest(_default_inputs(model, config, options.get("seq_len"), batch), request.dims,
                               request.values)
    elif options.get("seq_len") is not None:
        raise UsageError("seq_len sets the default text input; do not combine it with explicit inputs")
    name = type(model).__name__
    defaults = example is None and not request_in.inputs
    try:
        loaded = load_torch(model, request, name=name, model_format="hf-config", path=str(path),
                            **{k: v for k, v in options.items() if k in ("input_dtypes", "example_inputs")})
    except ModelLoadError as exc:  # the forward needs an input not given: say which (Whisper: decoder_input_ids)
        missing = None if example is not None else _missing_input(model, request, exc.message)
        if missing is None:
            raise
        raise ShapeError(f"{name}.forward needs the input {missing!r} too: give --input "
                         f"{missing}={_shape_hint(missing, config, batch)} (as well as the others; it said: "
                         f"{exc.message.split(': ', 1)[-1]})") from None
    if defaults:  # the shapes came from --seq-len or the config, not from --input
        source: Literal["seq-len", "config"] = "seq-len" if options.get("seq_len") is not None else "config"
        loaded = dataclasses.replace(loaded, inputs=tuple(
            dataclasses.replace(spec, source=source) if spec.source == "flag" else spec for spec in loaded.inputs))
    return loaded


def _missing_input(model: torch.nn.Module, request: ShapeRequest, message: str) -> str | None:
    """The forward parameter a failed trace names (a TypeError or ValueError from the model's code)
    that no input was given for, first named first; None when the message names none."""
    if " raised TypeError " not in message and " raised ValueError " not in message:
        return None
    given = {n for n, _ in request.inputs if n is not None}
    text = message.split(": ", 1)[-1]
    named = [(text.find(p), p) for p in _forward_names(model) - given
             if p not in ("self", "kwargs", "args") and _word_in(p, text)]
    return min(named)[1] if named else None


def _word_in(name: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def _shape_hint(name: str, config: Any, batch: int) -> str:
    """A shape to give for input ``name``: token ids ``BxT``, Whisper-style audio features from the config."""
    if name.endswith("_ids") or name.endswith("_mask"):
        return f"{batch}xT"
    if name == "input_features":
        mels, frames = getattr(config, "num_mel_bins", None), getattr(config, "max_source_positions", None)
        if isinstance(mels, int) and isinstance(frames, int):
            return f"{batch}x{mels}x{2 * frames}"
    if name == "pixel_values":
        return f"{batch}x3xHxW"
    return "DxD..."


def _positive(v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise UsageError(f"{what} must be a positive int, got {v!r}")
    return v


def _default_inputs(model: torch.nn.Module, config: Any, seq_len: Any,
                    batch: int) -> tuple[tuple[str | None, tuple[int, ...]], ...]:
    main = getattr(model, "main_input_name", "input_ids")
    if main == "input_ids":
        if seq_len is None:
            raise ShapeError(f"{type(model).__name__} takes token ids: set the sequence length with --seq-len "
                             "(seq_len=...) or give --input input_ids=BxL")
        length = _positive(seq_len, "seq_len")
        inputs: list[tuple[str | None, tuple[int, ...]]] = [("input_ids", (batch, length))]
        if getattr(config, "is_encoder_decoder", False):
            inputs.append(("decoder_input_ids", (batch, length)))
        return tuple(inputs)
    if seq_len is not None:
        raise UsageError(f"{type(model).__name__} takes {main!r}, not token ids: --seq-len (seq_len=...) applies to "
                         "text models only; give the input shape with --input")
    if main == "pixel_values":
        size = getattr(config, "image_size", None)
        channels = getattr(config, "num_channels", 3)
        if isinstance(size, int):
            hw = (size, size)
        elif isinstance(size, (list, tuple)) and len(size) == 2:
            hw = (int(size[0]), int(size[1]))
        else:
            raise ShapeError(f"{type(model).__name__}'s config has no image_size: give --input "
                             "pixel_values=Bx3xHxW")
        return (("pixel_values", (batch, int(channels), *hw)),)
    if getattr(config, "is_encoder_decoder", False):  # Whisper: audio features and the decoder's tokens
        raise ShapeError(f"{type(model).__name__} takes {main!r} and 'decoder_input_ids': give both, e.g. --input "
                         f"{main}={_shape_hint(main, config, batch)} --input decoder_input_ids={batch}xT")
    raise ShapeError(f"{type(model).__name__} takes {main!r}: give its shape with --input {main}="
                     f"{_shape_hint(main, config, batch)}")


# ---- decoder LLMs: prefill and decode graphs ----------------------------------------------


@dataclass(frozen=True)
class DecoderTrace:
    """The graphs of a decoder LLM's prefill and decode step and its KV-cache geometry: what
    :func:`edgeprof.passes.llm.llm_figures` counts. ``prefill_logits``: whether the prefill
    computed the logits of the last position only (``logits_to_keep=1``) or of every position."""

    prefill: Graph
    decode: Graph
    spec: DecoderSpec
    prefill_logits: Literal["last", "all"]


def trace_decoder(source: str | Path | Mapping[str, Any], context_len: int, *, batch_size: int = 1,
                  attn_implementation: str = "sdpa", dtype: str | None = None,
                  built: tuple[torch.nn.Module, Any] | None = None) -> DecoderTrace:
    """The prefill and decode graphs of a decoder LLM at ``context_len`` tokens.

    Prefill is one forward over ``context_len`` tokens computing the logits of the last position
    only (as ``generate()`` runs it); decode is one new token attending to a KV cache of
    ``context_len`` tokens (so ``context_len + 1`` keys). ``built`` is the model and config
    :func:`build_model` made of ``source`` with these options (built here when not given)."""
    try:
        with _quiet():
            return _trace_decoder(source, context_len, batch_size, attn_implementation, dtype, built)
    except EdgeprofError:
        raise
    except RecursionError:
        raise ModelLoadError(f"{_label(source)}: the config nests too deeply to load") from None
    except Exception as exc:  # transformers' own code on a config it does not expect
        raise ModelLoadError(f"{_label(source)}: cannot trace the decode step of this config: {type(exc).__name__}: "
                             f"{_first_line(exc)}") from None


def _trace_decoder(source: str | Path | Mapping[str, Any], context_len: int, batch_size: int,
                   attn_implementation: str, dtype: str | None,
                   built: tuple[torch.nn.Module, Any] | None) -> DecoderTrace:
    length = _positive(context_len, "context_len")
    batch = _positive(batch_size, "batch_size")
    model, config = built or build_model(source, attn_implementation=attn_implementation, dtype=dtype)
    if not is_decoder_llm(model, config):
        raise UsageError(f"{type(model).__name__} is not a decoder-only LM: no LLM figures")
    torch_dtype = next(model.parameters()).dtype
    spec = decoder_spec(config, length, batch, torch_dtype)
    params = _forward_names(model)
    prefill_inputs: dict[str, Any] = {"input_ids": torch.empty((batch, length), dtype=torch.int64, device="meta")}
    if "logits_to_keep" in params:
        prefill_inputs["logits_to_keep"] = 1
    if "use_cache" in params:
        prefill_inputs["use_cache"] = False
    prefill = trace_module(model, ShapeRequest(), example_inputs=prefill_inputs)
    decode = _trace_decode(model, config, spec, torch_dtype, params)
    return DecoderTrace(prefill.graph, decode.graph, spec, "last" if "logits_to_keep" in params else "all")


def _forward_names(model: torch.nn.Module) -> set[str]:
    try:
        return set(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        return set()


def _trace_decode(model: torch.nn.Module, config: Any, spec: DecoderSpec, dtype: torch.dtype,
                  params: set[str]) -> Any:
    from transformers import DynamicCache

    cache = DynamicCache(config=config)
    shape = (spec.batch, spec.num_kv_heads, spec.context_len, spec.head_dim)
    for layer in range(spec.num_layers):
        cache.update(torch.empty(shape, dtype=dtype, device="meta"), torch.empty(shape, dtype=dtype, device="meta"),
                     layer)
    key = "past_key_values" if "past_key_values" in params else "cache" if "cache" in params else None
    if key is None:
        raise ModelLoadError(f"{type(model).__name__}.forward takes no KV cache argument")
    extra = []
    for i, layer_cache in enumerate(getattr(cache, "layers", [])):
        extra.append((f"{key}.{i}.key", layer_cache.keys))
        extra.append((f"{key}.{i}.value", layer_cache.values))
    inputs: dict[str, Any] = {
        "input_ids": torch.empty((spec.batch, 1), dtype=torch.int64, device="meta"),
        key: cache,
    }
    if "use_cache" in params:
        inputs["use_cache"] = True
    return trace_module(model, ShapeRequest(), example_inputs=inputs, _extra_inputs=extra)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__

