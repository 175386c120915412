#!/usr/bin/env python3
"""Fill a data directory with the MNIST and KMNIST files tierserve trains and scores on.

Two sources are supported:

  --from DIR   copy from a local directory laid out like the shared offline copy
               (mnist/ with the training images split into three .part0N chunks, kmnist/)
  --download   fetch from the datasets' official sources over HTTPS

Either way every resulting file is checked against the sha256 constants below. A file
already present with the right checksum is left alone. Files are written under a temporary
name and renamed into place only once their checksum is right, so an interrupted or refused
run never leaves a partial file behind.

Exit status: 0 on success, 1 when a checksum does not match or a download fails,
2 when a source directory or file is missing (or the arguments are wrong).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT / "data"

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
KMNIST_URL = "https://codh.rois.ac.jp/kmnist/dataset/kmnist/"

CHUNK_BYTES = 1 << 20
DOWNLOAD_TIMEOUT_SECONDS = 60

EXIT_MISMATCH = 1
EXIT_MISSING = 2


@dataclass(frozen=True)
class SourcePart:
    """One file in a local source directory, with the checksum it must have."""

    path: str
    sha256: str


@dataclass(frozen=True)
class DataFile:
    """One file of the output layout and where it comes from.

    `local_parts` are concatenated in order to form the file when copying from a local
    directory; `url` is where `--download` fetches it in one piece.
    """

    path: str
    sha256: str
    local_parts: tuple[SourcePart, ...]
    url: str


def _single(path: str, sha256: str) -> tuple[SourcePart, ...]:
    return (SourcePart(path, sha256),)


# Checksums are those of the shared data README (the source of truth for this project).
TRAIN_IMAGES_SHA256 = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"

DATA_FILES: tuple[DataFile, ...] = (
    DataFile(
        path="mnist/train-images-idx3-ubyte.gz",
        sha256=TRAIN_IMAGES_SHA256,
        local_parts=(
            SourcePart(
                "mnist/train-images-idx3-ubyte.gz.part00",
                "ae0bea9fa2d322b52160d47a9cb048ee455f2f15dd065142ae92e23df11c7db5",
            ),
            SourcePart(
                "mnist/train-images-idx3-ubyte.gz.part01",
                "fc5a10e35c3e79d9b289f4b3649f71c2285c094cf3e9b5471fecf0e41605fe67",
            ),
            SourcePart(
                "mnist/train-images-idx3-ubyte.gz.part02",
                "20283f12fa96e1460a36f2770aa724411c385f26c58f821a834890b7af983d83",
            ),
        ),
        url=MNIST_URL + "train-images-idx3-ubyte.gz",
    ),
    DataFile(
        path="mnist/train-labels-idx1-ubyte.gz",
        sha256="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        local_parts=_single(
            "mnist/train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        ),
        url=MNIST_URL + "train-labels-idx1-ubyte.gz",
    ),
    DataFile(
        path="mnist/t10k-images-idx3-ubyte.gz",
        sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        local_parts=_single(
            "mnist/t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        ),
        url=MNIST_URL + "t10k-images-idx3-ubyte.gz",
    ),
    DataFile(
        path="mnist/t10k-labels-idx1-ubyte.gz",
        sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        local_parts=_single(
            "mnist/t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
        url=MNIST_URL + "t10k-labels-idx1-ubyte.gz",
    ),
    DataFile(
        path="kmnist/kmnist-test-imgs.npz",
        sha256="692d824896bec8f3c357ebf7a0fe904ed67ac632ce953d0b58f7fbef7bb27d87",
        local_parts=_single(
            "kmnist/kmnist-test-imgs.npz",
            "692d824896bec8f3c357ebf7a0fe904ed67ac632ce953d0b58f7fbef7bb27d87",
        ),
        url=KMNIST_URL + "kmnist-test-imgs.npz",
    ),
    DataFile(
        path="kmnist/kmnist-test-labels.npz",
        sha256="660f13a4705431ea2a6391c41ecbe384cd0d932c595a101ec4f3b8989e785046",
        local_parts=_single(
            "kmnist/kmnist-test-labels.npz",
            "660f13a4705431ea2a6391c41ecbe384cd0d932c595a101ec4f3b8989e785046",
        ),
        url=KMNIST_URL + "kmnist-test-labels.npz",
    ),
)


class FetchError(Exception):
    """A fetch that cannot go on; carries the exit status and a one-line message."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.exit_status = exit_status


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_present_and_valid(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of_file(path) == sha256


def check_local_sources(source_dir: Path) -> None:
    """Fail before writing anything if the source directory or any expected file is missing."""
    if not source_dir.is_dir():
        raise FetchError(
            f"source directory {source_dir} does not exist; expected a directory with mnist/ and "
            "kmnist/ subdirectories like the shared offline data copy",
            EXIT_MISSING,
        )
    missing = [
        source_dir / part.path
        for data_file in DATA_FILES
        for part in data_file.local_parts
        if not (source_dir / part.path).is_file()
    ]
    if missing:
        names = ", ".join(str(path) for path in missing)
        raise FetchError(
            f"missing source file(s) {names}; expected them in {source_dir} "
            "(layout: mnist/*.gz with the training images as .part00-.part02, kmnist/*.npz)",
            EXIT_MISSING,
        )


def copy_chunks(source: BinaryIO, destination: BinaryIO, digest) -> None:
    """Copy `source` into `destination` in chunks, feeding every chunk to `digest`."""
    for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
        destination.write(chunk)
        digest.update(chunk)


def write_verified(destination: Path, expected_sha256: str, fill) -> None:
    """Write `destination` via a temporary file in the same directory; rename only if the sha256 matches.

    `fill(handle, digest)` writes the content into `handle` and feeds it to `digest`.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial", delete=False
    )
    temporary = Path(handle.name)
    try:
        digest = hashlib.sha256()
        with handle:
            fill(handle, digest)
            handle.flush()
            os.fsync(handle.fileno())
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise FetchError(
                f"sha256 mismatch for {destination}: got {actual}, expected {expected_sha256}; "
                "the source is corrupt or a different version, so nothing was written",
                EXIT_MISMATCH,
            )
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    finally:
        if temporary.exists():
            temporary.unlink()


def copy_from_local(data_file: DataFile, source_dir: Path, destination: Path) -> None:
    # Check each part first, so a corrupt chunk is reported by its own name.
    for part in data_file.local_parts:
        part_path = source_dir / part.path
        actual = sha256_of_file(part_path)
        if actual != part.sha256:
            raise FetchError(
                f"sha256 mismatch for source file {part_path}: got {actual}, expected {part.sha256}; "
                "replace it with a good copy",
                EXIT_MISMATCH,
            )

    def fill(handle: BinaryIO, digest) -> None:
        for part in data_file.local_parts:
            with (source_dir / part.path).open("rb") as source:
                copy_chunks(source, handle, digest)

    write_verified(destination, data_file.sha256, fill)


def download(data_file: DataFile, destination: Path) -> None:
    def fill(handle: BinaryIO, digest) -> None:
        request = urllib.request.Request(data_file.url, headers={"User-Agent": "tierserve-fetch-data/1"})
        try:
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                copy_chunks(response, handle, digest)
        except (urllib.error.URLError, OSError) as error:
            raise FetchError(
                f"download of {data_file.url} failed: {error}; check the network, or use --from DIR "
                "with a local copy",
                EXIT_MISMATCH,
            ) from error

    write_verified(destination, data_file.sha256, fill)


def fetch_all(data_dir: Path, source_dir: Path | None) -> int:
    """Fetch every file in DATA_FILES into `data_dir`; return the exit status."""
    if source_dir is not None:
        check_local_sources(source_dir)

    failures = 0
    for data_file in DATA_FILES:
        destination = data_dir / data_file.path
        if is_present_and_valid(destination, data_file.sha256):
            print(f"ok       {data_file.path} (already present)")
            continue
        if destination.exists():
            print(f"replace  {data_file.path} (present but its sha256 is wrong)")
        try:
            if source_dir is not None:
                copy_from_local(data_file, source_dir, destination)
            else:
                download(data_file, destination)
        except FetchError as error:
            print(f"error: {error}", file=sys.stderr)
            failures += 1
            continue
        print(f"fetched  {data_file.path}")

    if failures:
        print(f"error: {failures} file(s) could not be fetched into {data_dir}", file=sys.stderr)
        return EXIT_MISMATCH
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Fill a data directory with verified MNIST and KMNIST files.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="directory to fill (default: data/ at the repository root)",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--from",
        dest="source_dir",
        type=Path,
        metavar="DIR",
        help="copy from a local directory laid out like the shared data copy, e.g. ../shared/data",
    )
    mode.add_argument(
        "--download",
        action="store_true",
        help="download from the official MNIST (torchvision mirror) and KMNIST (CODH) sources",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        return fetch_all(arguments.data_dir, arguments.source_dir)
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_status


if __name__ == "__main__":
    sys.exit(main())
