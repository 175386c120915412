"""End-to-end checks of training, export, the Swift job on the export, and fetch_data.py.

Data comes from TIERSERVE_DATA_DIR (default: data/ at the repository root); fill it first with
Training/fetch_data.py. Nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAINING_DIR = REPO_ROOT / "Training"
sys.path.insert(0, str(TRAINING_DIR))

import fetch_data  # noqa: E402
from data_files import read_split  # noqa: E402
from model_format import (  # noqa: E402
    compute_logits,
    decode_safetensors,
    encode_safetensors,
    load_metadata,
    load_network,
    normalize,
    read_safetensors,
    sha256_of_file,
)

DATA_DIR = Path(os.environ.get("TIERSERVE_DATA_DIR", REPO_ROOT / "data"))
JOB_BINARY = Path(os.environ.get("TIERSERVE_JOB_BINARY", REPO_ROOT / ".build" / "debug" / "job"))
TINY_LIMIT = 512


def _require_mnist() -> None:
    if not (DATA_DIR / "mnist" / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(
            f"MNIST data not found in {DATA_DIR}; run Training/fetch_data.py --from DIR first "
            "or set TIERSERVE_DATA_DIR"
        )


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mnist-ff trained for one epoch on the first 512 training images, exported to a temp dir."""
    _require_mnist()
    out_dir = tmp_path_factory.mktemp("tiny-model")
    result = subprocess.run(
        [
            sys.executable,
            str(TRAINING_DIR / "train.py"),
            "--model",
            "mnist-ff",
            "--epochs",
            "1",
            "--limit",
            str(TINY_LIMIT),
            "--data-dir",
            str(DATA_DIR),
            "--out",
            str(out_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"train.py failed:\n{result.stdout}\n{result.stderr}"
    assert "epoch   1/1" in result.stdout
    return out_dir


def _pytorch_correct(model_dir: Path) -> tuple[int, dict]:
    metadata = load_metadata(model_dir, "mnist-ff")
    evaluation = metadata["evaluation"]
    images, labels = read_split(
        DATA_DIR, evaluation["images"], evaluation["labels"], evaluation["start"], evaluation["count"]
    )
    logits = compute_logits(load_network(model_dir, metadata), normalize(images, metadata["input"]))
    return int((logits.argmax(dim=1).numpy() == labels).sum()), metadata


def test_safetensors_round_trip_of_arbitrary_tensors() -> None:
    tensors = {
        "b.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
        "a.bias": np.array([1.5, -2.25, 3.0], dtype=np.float32),
    }
    data = encode_safetensors(tensors, {"model": "test"})
    header_length = int.from_bytes(data[:8], "little")
    assert (8 + header_length) % 8 == 0
    decoded, metadata = decode_safetensors(data)
    assert metadata == {"model": "test"}
    assert set(decoded) == set(tensors)
    for name, array in tensors.items():
        np.testing.assert_array_equal(decoded[name], array)


def test_export_parses_back_to_the_trained_tensors(tiny_model_dir: Path) -> None:
    metadata = json.loads((tiny_model_dir / "mnist-ff.json").read_text(encoding="utf-8"))
    weights_path = tiny_model_dir / metadata["weights"]
    tensors, _ = read_safetensors(weights_path)

    expected_shapes = {
        "fc1.weight": (128, 784),
        "fc1.bias": (128,),
        "fc2.weight": (64, 128),
        "fc2.bias": (64,),
        "fc3.weight": (10, 64),
        "fc3.bias": (10,),
    }
    assert {name: array.shape for name, array in tensors.items()} == expected_shapes

    # The file's bytes are exactly the float32 little-endian tensors, back to back after the header.
    raw = weights_path.read_bytes()
    header_length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_length])
    payload = raw[8 + header_length :]
    for name, array in tensors.items():
        begin, end = header[name]["data_offsets"]
        assert header[name]["dtype"] == "F32"
        np.testing.assert_array_equal(np.frombuffer(payload[begin:end], dtype="<f4").reshape(array.shape), array)

    # Same tensors as torch reading the bytes independently.
    for name, array in tensors.items():
        begin, end = header[name]["data_offsets"]
        from_torch = torch.frombuffer(bytearray(payload[begin:end]), dtype=torch.float32).reshape(array.shape)
        assert torch.equal(from_torch, torch.from_numpy(array))


def test_metadata_matches_the_weights_file_and_contract(tiny_model_dir: Path) -> None:
    metadata = json.loads((tiny_model_dir / "mnist-ff.json").read_text(encoding="utf-8"))
    assert metadata["weights_sha256"] == sha256_of_file(tiny_model_dir / metadata["weights"])
    assert metadata["format"] == "tierserve-model/1"
    assert (metadata["name"], metadata["dataset"], metadata["type"]) == ("mnist-ff", "mnist", "ff")
    assert metadata["classes"] == [str(digit) for digit in range(10)]
    assert metadata["training"]["count"] == TINY_LIMIT
    assert metadata["training"]["start"] == 0
    assert (metadata["evaluation"]["start"], metadata["evaluation"]["count"]) == (0, 10000)
    assert set(metadata["input"]) >= {"channels", "height", "width", "scale", "mean", "std"}
    assert [layer["op"] for layer in metadata["layers"]] == [
        "flatten", "linear", "relu", "linear", "relu", "linear"
    ]

    correct, _ = _pytorch_correct(tiny_model_dir)
    assert metadata["evaluation"]["correct"] == correct
    assert metadata["evaluation"]["accuracy"] == pytest.approx(correct / 10000, abs=1e-6)


def test_golden_file_has_100_rows_of_10_logits(tiny_model_dir: Path) -> None:
    golden = json.loads((tiny_model_dir / "mnist-ff.golden.json").read_text(encoding="utf-8"))
    assert golden["model"] == "mnist-ff"
    assert (golden["start"], golden["count"]) == (0, 100)
    assert len(golden["labels"]) == 100
    assert len(golden["logits"]) == 100
    assert all(len(row) == 10 for row in golden["logits"])

    metadata = load_metadata(tiny_model_dir, "mnist-ff")
    images, labels = read_split(DATA_DIR, metadata["evaluation"]["images"], metadata["evaluation"]["labels"], 0, 100)
    assert golden["labels"] == labels.tolist()
    logits = compute_logits(load_network(tiny_model_dir, metadata), normalize(images, metadata["input"]))
    # Printed at full precision, the golden values round-trip to float32; recomputing them in another
    # process may differ only in the last bits of the matrix products.
    golden_logits = np.array(golden["logits"], dtype=np.float64)
    assert np.array_equal(golden_logits.astype(np.float32).astype(np.float64), golden_logits)
    np.testing.assert_allclose(golden_logits, logits.numpy(), rtol=0, atol=1e-5)


def test_swift_job_scores_the_tiny_model_like_pytorch(tiny_model_dir: Path) -> None:
    if not JOB_BINARY.is_file():
        # Named explicitly (as `make test` does), a missing binary is a failure; only the default may be absent.
        assert "TIERSERVE_JOB_BINARY" not in os.environ, f"TIERSERVE_JOB_BINARY={JOB_BINARY} does not exist"
        pytest.skip(f"Swift job binary {JOB_BINARY} not found; build it or set TIERSERVE_JOB_BINARY")
    environment = dict(
        os.environ, DATASET="mnist", TYPE="ff", MODEL_DIR=str(tiny_model_dir), DATA_DIR=str(DATA_DIR)
    )
    result = subprocess.run([str(JOB_BINARY)], env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"job exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"job printed nothing on stdout; stderr:\n{result.stderr}"
    summary = json.loads(lines[-1])
    assert set(summary) >= {"dataset", "model", "samples", "accuracy", "correct", "duration_ms"}
    assert summary["samples"] == 10000

    correct, _ = _pytorch_correct(tiny_model_dir)
    assert summary["correct"] == correct


def _small_source_copy(destination: Path) -> Path:
    """A source dir shaped like the shared data, with symlinks to the real files in DATA_DIR."""
    for data_file in fetch_data.DATA_FILES:
        for part in data_file.local_parts:
            target = destination / part.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if len(data_file.local_parts) == 1:
                target.symlink_to((DATA_DIR / data_file.path).resolve())
    # The training images come as three chunks in the shared layout; cut the assembled file back up.
    assembled = (DATA_DIR / fetch_data.DATA_FILES[0].path).read_bytes()
    parts = fetch_data.DATA_FILES[0].local_parts
    boundaries = [0, 3_500_000, 7_000_000, len(assembled)]
    for index, part in enumerate(parts):
        (destination / part.path).write_bytes(assembled[boundaries[index] : boundaries[index + 1]])
    return destination


def test_fetch_from_local_copy_refuses_a_corrupted_file(tmp_path: Path) -> None:
    _require_mnist()
    source = _small_source_copy(tmp_path / "source")
    corrupted = source / "mnist" / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(corrupted.read_bytes())
    data[100] ^= 0xFF
    corrupted.unlink()  # drop the symlink, write a corrupted private copy
    corrupted.write_bytes(bytes(data))

    out_dir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(TRAINING_DIR / "fetch_data.py"), "--from", str(source), "--data-dir", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "t10k-labels-idx1-ubyte.gz" in result.stderr
    assert "sha256 mismatch" in result.stderr
    assert not (out_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()
    # The good files were fetched and verified; no temporary file is left behind.
    assert (out_dir / "mnist" / "train-images-idx3-ubyte.gz").is_file()
    leftovers = [path.name for path in out_dir.rglob("*") if path.name.endswith(".partial")]
    assert leftovers == []


def test_fetch_from_missing_directory_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    result = subprocess.run(
        [sys.executable, str(TRAINING_DIR / "fetch_data.py"), "--from", str(missing), "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_fetch_with_a_missing_source_file_exits_2_before_writing(tmp_path: Path) -> None:
    _require_mnist()
    source = _small_source_copy(tmp_path / "source")
    (source / "kmnist" / "kmnist-test-labels.npz").unlink()
    out_dir = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(TRAINING_DIR / "fetch_data.py"), "--from", str(source), "--data-dir", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "kmnist-test-labels.npz" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out_dir.exists()
