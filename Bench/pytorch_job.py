#!/usr/bin/env python3
"""The PyTorch reference for tierserve's scoring job, run as a fresh process.

It does what the Swift job does, with the same environment variables:

  DATASET    mnist | kmnist
  TYPE       ff | cnn
  MODEL_DIR  directory holding <DATASET>-<TYPE>.json and its safetensors (default: Models)
  DATA_DIR   data directory filled by Training/fetch_data.py (default: data)

It imports torch, builds the network from the metadata's layer list and the safetensors
weights, reads the metadata's evaluation split, scores it in eval mode under torch.no_grad and
prints one JSON line last: dataset, model, samples, accuracy, correct, duration_ms. The
duration is measured from the start of this script, so it includes importing torch.
"""

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Training"))

from data_files import DataFileError, read_split  # noqa: E402
from model_format import ModelFormatError, compute_logits, load_metadata, load_network, normalize  # noqa: E402

THREADS = 2


def required_environment(name: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name)
    if value not in allowed:
        raise ValueError(f"environment variable {name} is {value!r}; set it to one of {', '.join(allowed)}")
    return value


def main() -> int:
    try:
        dataset = required_environment("DATASET", ("mnist", "kmnist"))
        model_type = required_environment("TYPE", ("ff", "cnn"))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model_dir = Path(os.environ.get("MODEL_DIR", "Models"))
    data_dir = Path(os.environ.get("DATA_DIR", "data"))
    torch.set_num_threads(THREADS)

    try:
        metadata = load_metadata(model_dir, f"{dataset}-{model_type}")
        if (metadata["dataset"], metadata["type"]) != (dataset, model_type):
            raise ModelFormatError(
                f"{model_dir}/{dataset}-{model_type}.json says dataset {metadata['dataset']!r} type "
                f"{metadata['type']!r}; expected {dataset!r} {model_type!r}"
            )
        evaluation = metadata["evaluation"]
        images, labels = read_split(
            data_dir, evaluation["images"], evaluation["labels"], evaluation["start"], evaluation["count"]
        )
        network = load_network(model_dir, metadata)
    except (ModelFormatError, DataFileError, OSError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    with torch.no_grad():
        logits = compute_logits(network, normalize(images, metadata["input"]))
    correct = int((logits.argmax(dim=1).numpy() == labels).sum())
    samples = int(labels.shape[0])
    summary = {
        "dataset": dataset,
        "model": metadata["name"],
        "samples": samples,
        "accuracy": correct / samples,
        "correct": correct,
        "duration_ms": round((time.perf_counter() - STARTED) * 1000, 1),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
