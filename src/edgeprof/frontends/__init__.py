"""Frontends: turn a model (ONNX, PyTorch, TFLite, a Hugging Face config) into the IR."""
