"""The tierserve model files: safetensors weights, JSON metadata, and a network built from them.

The Swift job reads exactly these files, so this module is the Python statement of the contract:

- `<name>.safetensors`: 8-byte little-endian header length, a JSON header mapping tensor names to
  {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (offsets relative to the byte
  after the header) plus an optional "__metadata__" of string values, then the raw little-endian
  float32 data.
- `<name>.json`: metadata (format "tierserve-model/1") naming the weights file, its sha256, the
  input normalization and the layers in execution order.

Only numpy, json and struct are used to read and write safetensors; no safetensors package.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
import torch.nn.functional as F

METADATA_FORMAT = "tierserve-model/1"
HEADER_ALIGNMENT = 8
SUPPORTED_OPS = ("flatten", "linear", "relu", "conv2d", "maxpool2d")


class ModelFormatError(Exception):
    """A model file is malformed or disagrees with its metadata."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False)
    temporary = Path(handle.name)
    try:
        with handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def sha256_of_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# MARK: safetensors


def encode_safetensors(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """Encode float32 tensors as a safetensors file, in the given name order."""
    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = {str(key): str(value) for key, value in metadata.items()}

    blobs: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        if array.dtype != np.float32:
            raise ModelFormatError(f"tensor {name} has dtype {array.dtype}; only float32 (F32) is written")
        blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)

    # Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % HEADER_ALIGNMENT)
    return struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(blobs)


def decode_safetensors(data: bytes, source: str = "safetensors data") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Decode a safetensors file of F32 tensors; returns (tensors by name, __metadata__)."""
    if len(data) < 8:
        raise ModelFormatError(f"{source} is {len(data)} bytes; expected at least the 8-byte header length")
    (header_length,) = struct.unpack("<Q", data[:8])
    if 8 + header_length > len(data):
        raise ModelFormatError(f"{source} declares a {header_length}-byte header but is only {len(data)} bytes")
    try:
        header = json.loads(data[8 : 8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFormatError(f"{source} has a header that is not UTF-8 JSON: {error}") from error
    if not isinstance(header, dict):
        raise ModelFormatError(f"{source} header is a {type(header).__name__}; expected a JSON object")

    metadata = header.pop("__metadata__", {}) or {}
    payload = memoryview(data)[8 + header_length :]
    tensors: dict[str, np.ndarray] = {}
    covered = 0
    for name, entry in sorted(header.items(), key=lambda item: item[1].get("data_offsets", [0])[0]):
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if dtype != "F32":
            raise ModelFormatError(f"{source}: tensor {name} has dtype {dtype!r}; expected \"F32\"")
        if not isinstance(shape, list) or not isinstance(offsets, list) or len(offsets) != 2:
            raise ModelFormatError(f"{source}: tensor {name} needs a shape list and two data_offsets")
        begin, end = offsets
        expected_bytes = 4 * int(np.prod(shape, dtype=np.int64))
        if begin != covered or end - begin != expected_bytes or end > len(payload):
            raise ModelFormatError(
                f"{source}: tensor {name} has data_offsets [{begin}, {end}]; expected [{covered}, "
                f"{covered + expected_bytes}] within {len(payload)} data bytes (shape {shape})"
            )
        tensors[name] = np.frombuffer(payload[begin:end], dtype="<f4").reshape(shape).copy()
        covered = end
    if covered != len(payload):
        raise ModelFormatError(f"{source}: {len(payload) - covered} trailing data bytes belong to no tensor")
    return tensors, dict(metadata)


def write_safetensors(path: Path, tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> None:
    write_atomically(path, encode_safetensors(tensors, metadata))


def read_safetensors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    return decode_safetensors(path.read_bytes(), source=str(path))


# MARK: metadata and network


def load_metadata(model_dir: Path, name: str) -> dict[str, Any]:
    """Read `<name>.json` from `model_dir` and check its format and weights checksum."""
    path = model_dir / f"{name}.json"
    if not path.is_file():
        raise ModelFormatError(f"model metadata {path} does not exist; train it with Training/train.py --model {name}")
    metadata = json.loads(path.read_text(encoding="utf-8"))
    if metadata.get("format") != METADATA_FORMAT:
        raise ModelFormatError(f"{path}: format is {metadata.get('format')!r}; expected {METADATA_FORMAT!r}")
    weights_path = model_dir / metadata["weights"]
    actual = sha256_of_file(weights_path)
    if actual != metadata["weights_sha256"]:
        raise ModelFormatError(
            f"{path}: weights_sha256 is {metadata['weights_sha256']} but {weights_path} hashes to {actual}; "
            "re-export the model so the two agree"
        )
    return metadata


class LayerNetwork(torch.nn.Module):
    """Runs the metadata's `layers` list in order on tensors loaded from the safetensors file.

    This is deliberately an interpreter, not the training module: it executes exactly what the
    files say, as the Swift job does, so scoring it checks the export itself.
    """

    def __init__(self, layers: list[dict[str, Any]], tensors: Mapping[str, np.ndarray]) -> None:
        super().__init__()
        self.layers = layers
        self.weights: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(layers):
            op = layer.get("op")
            if op not in SUPPORTED_OPS:
                raise ModelFormatError(f"layer {index} has op {op!r}; supported ops are {', '.join(SUPPORTED_OPS)}")
            for key in ("weight", "bias"):
                if key in layer:
                    tensor_name = layer[key]
                    if tensor_name not in tensors:
                        raise ModelFormatError(
                            f"layer {index} ({op}) names {key} {tensor_name!r}, which is not in the weights file"
                        )
                    self.weights[tensor_name] = torch.from_numpy(tensors[tensor_name])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            op = layer["op"]
            if op == "flatten":
                x = torch.flatten(x, 1)
            elif op == "relu":
                x = F.relu(x)
            elif op == "linear":
                x = F.linear(x, self.weights[layer["weight"]], self.weights[layer["bias"]])
            elif op == "conv2d":
                x = F.conv2d(
                    x,
                    self.weights[layer["weight"]],
                    self.weights[layer["bias"]],
                    stride=layer.get("stride", 1),
                    padding=layer.get("padding", 0),
                )
            elif op == "maxpool2d":
                x = F.max_pool2d(x, kernel_size=layer["kernel"], stride=layer.get("stride", layer["kernel"]))
        return x


def load_network(model_dir: Path, metadata: Mapping[str, Any]) -> LayerNetwork:
    tensors, _ = read_safetensors(model_dir / metadata["weights"])
    network = LayerNetwork(metadata["layers"], tensors)
    network.eval()
    return network


def normalize(images: np.ndarray, input_spec: Mapping[str, Any]) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float32 NCHW tensor, x = (pixel / scale - mean) / std."""
    scale = np.float32(input_spec["scale"])
    mean = np.float32(input_spec["mean"])
    std = np.float32(input_spec["std"])
    pixels = images.astype(np.float32)[:, None, :, :]
    return torch.from_numpy((pixels / scale - mean) / std)


def compute_logits(network: torch.nn.Module, inputs: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Logits for `inputs` in eval mode without gradients, in batches."""
    network.eval()
    outputs = []
    with torch.no_grad():
        for begin in range(0, inputs.shape[0], batch_size):
            outputs.append(network(inputs[begin : begin + batch_size]))
    return torch.cat(outputs)
