"""Readers for the MNIST (gzip IDX) and KMNIST (.npz) files that fetch_data.py puts in the data directory.

Everything here returns plain numpy arrays: images as uint8 [N, 28, 28], labels as uint8 [N].
Paths in model metadata are relative to the data directory, so readers take the data directory
and that relative path.
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
IMAGE_SIDE = 28


class DataFileError(Exception):
    """A data file is missing or does not have the expected shape or content."""


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise DataFileError(
            f"data file {path} does not exist; run Training/fetch_data.py --from DIR (or --download) "
            "to fill the data directory, or pass the right --data-dir / DATA_DIR"
        )


def read_idx_gz(path: Path) -> np.ndarray:
    """Read a gzip-compressed IDX file of uint8 images (magic 2051) or labels (magic 2049)."""
    _require_file(path)
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 8:
        raise DataFileError(f"IDX file {path} is {len(raw)} bytes after gunzip; expected at least an 8-byte header")

    magic = int.from_bytes(raw[0:4], "big")
    count = int.from_bytes(raw[4:8], "big")
    if magic == IDX_IMAGES_MAGIC:
        rows = int.from_bytes(raw[8:12], "big")
        columns = int.from_bytes(raw[12:16], "big")
        header_bytes = 16
        shape: tuple[int, ...] = (count, rows, columns)
    elif magic == IDX_LABELS_MAGIC:
        header_bytes = 8
        shape = (count,)
    else:
        raise DataFileError(
            f"IDX file {path} has magic {magic}; expected {IDX_IMAGES_MAGIC} (images) or {IDX_LABELS_MAGIC} (labels)"
        )

    expected_bytes = header_bytes + int(np.prod(shape))
    if len(raw) != expected_bytes:
        raise DataFileError(
            f"IDX file {path} is {len(raw)} bytes after gunzip; its header (shape {shape}) implies {expected_bytes}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_bytes).reshape(shape)


def read_npz_array(path: Path) -> np.ndarray:
    """Read the single array `arr_0` of a KMNIST .npz file."""
    _require_file(path)
    try:
        with np.load(path) as archive:
            if "arr_0" not in archive.files:
                raise DataFileError(f"npz file {path} has arrays {archive.files}; expected one named arr_0")
            return archive["arr_0"]
    except (zipfile.BadZipFile, ValueError) as error:
        raise DataFileError(f"npz file {path} could not be read ({error}); fetch it again") from error


def read_array(data_dir: Path, relative_path: str) -> np.ndarray:
    """Read images or labels by their path relative to the data directory (.gz IDX or .npz)."""
    path = data_dir / relative_path
    if relative_path.endswith(".npz"):
        array = read_npz_array(path)
    elif relative_path.endswith(".gz"):
        array = read_idx_gz(path)
    else:
        raise DataFileError(f"data file {relative_path} has an unknown format; expected a .gz IDX file or a .npz file")
    if array.dtype != np.uint8:
        raise DataFileError(f"data file {path} holds {array.dtype}; expected uint8")
    return array


def read_split(
    data_dir: Path, images_path: str, labels_path: str, start: int, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read images [count, 28, 28] and labels [count] from index `start` of the given files."""
    images = read_array(data_dir, images_path)
    labels = read_array(data_dir, labels_path)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataFileError(f"images in {images_path} have shape {images.shape}; expected [N, 28, 28]")
    if labels.shape != (images.shape[0],):
        raise DataFileError(
            f"labels in {labels_path} have shape {labels.shape}; expected [{images.shape[0]}] to match the images"
        )
    if start < 0 or count <= 0 or start + count > images.shape[0]:
        raise DataFileError(
            f"split start={start} count={count} does not fit in {images.shape[0]} images of {images_path}"
        )
    return images[start : start + count], labels[start : start + count]
