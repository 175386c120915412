#!/usr/bin/env python3
"""Time the Swift scoring job against the PyTorch reference job, as fresh processes.

For each of mnist/ff and kmnist/cnn it runs one warm-up of each job, then N runs of each,
alternating Swift and PyTorch so that machine noise hits both alike. Each child's wall time is
measured around its whole life and its peak RSS comes from os.wait4's resource usage. Both jobs
must report the same `correct` count and sample count; if they disagree the harness exits 1.

Each job runs in the environment its container image gives it. The Swift job's image sets
OPENBLAS_NUM_THREADS=1: the job spreads batches over the cores itself, and OpenBLAS's own thread
pool would otherwise spin beside it. PyTorch keeps its default threads.

Targets: the Swift job should be at least 20x faster for mnist ff and 5x for kmnist cnn
(ratio = median PyTorch ms / median Swift ms).

Example:
  .venv/bin/python Bench/job_vs_pytorch.py --job-binary .build/release/job --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTORCH_JOB = Path(__file__).resolve().parent / "pytorch_job.py"


@dataclass(frozen=True)
class Case:
    dataset: str
    type: str
    target_ratio: float

    @property
    def label(self) -> str:
        return f"{self.dataset}/{self.type}"


CASES = (Case("mnist", "ff", 20.0), Case("kmnist", "cnn", 5.0))


@dataclass(frozen=True)
class Run:
    wall_ms: float
    peak_rss_mib: float
    summary: dict


class JobFailed(Exception):
    pass


def spawn_and_wait(command: list[str], environment: dict[str, str], stdout, stderr) -> tuple[int, float, float]:
    """Run `command` to completion; return (exit code, wall ms, peak RSS MiB) from os.wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=stdout, stderr=stderr)
    _, status, usage = os.wait4(process.pid, 0)
    wall_ms = (time.perf_counter() - started) * 1000
    process.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    # ru_maxrss is in KiB on Linux.
    return process.returncode, wall_ms, usage.ru_maxrss / 1024


def rss_floor_mib() -> float:
    """Peak RSS reported for a process that does nothing.

    Linux carries the parent's high-water mark into a forked child across exec, so every child's
    ru_maxrss is at least about this harness's own RSS. Reported so small numbers can be read right.
    """
    _, _, peak = spawn_and_wait(["/bin/true"], dict(os.environ), subprocess.DEVNULL, subprocess.DEVNULL)
    return peak


def run_child(command: list[str], environment: dict[str, str], name: str) -> Run:
    """Run one job to completion; return its wall time, peak RSS and final JSON line."""
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        exit_code, wall_ms, peak_rss_mib = spawn_and_wait(command, environment, stdout, stderr)
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read().decode("utf-8", "replace")
        errors = stderr.read().decode("utf-8", "replace")

    if exit_code != 0:
        raise JobFailed(f"{name} exited {exit_code}; stderr:\n{errors.strip()}")
    lines = [line for line in output.splitlines() if line.strip()]
    try:
        summary = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError) as error:
        raise JobFailed(f"{name}: last stdout line is not one JSON object ({error}); stdout:\n{output}") from error
    missing = {"dataset", "model", "samples", "accuracy", "correct", "duration_ms"} - set(summary)
    if missing:
        raise JobFailed(f"{name}: summary lacks {', '.join(sorted(missing))}: {lines[-1]}")
    return Run(wall_ms=wall_ms, peak_rss_mib=peak_rss_mib, summary=summary)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compare the Swift job with the PyTorch reference job.")
    parser.add_argument(
        "--job-binary", type=Path, default=REPO_ROOT / ".build" / "release" / "job", help="Swift job binary"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each job per model (default 5)")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "Models", help="default: Models/")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "data", help="default: data/")
    parser.add_argument(
        "--pytorch-only",
        action="store_true",
        help="time only the PyTorch job (to check the harness before the Swift binary exists)",
    )
    parser.add_argument("--json-out", type=Path, help="also write the results as JSON to this file")
    return parser.parse_args()


def main() -> int:
    arguments = parse_arguments()
    if arguments.runs < 1:
        print(f"error: --runs {arguments.runs} is not positive; pass 1 or more", file=sys.stderr)
        return 2
    job_binary = arguments.job_binary.resolve()
    if not arguments.pytorch_only and not (job_binary.is_file() and os.access(job_binary, os.X_OK)):
        print(
            f"error: Swift job binary {job_binary} not found or not executable; build it "
            "(swift build -c release) or pass --job-binary PATH (or --pytorch-only)",
            file=sys.stderr,
        )
        return 2

    jobs = {"pytorch": [sys.executable, str(PYTORCH_JOB)]}
    if not arguments.pytorch_only:
        jobs = {"swift": [str(job_binary)], **jobs}

    results = []
    disagreements = []
    for case in CASES:
        environment = dict(
            os.environ,
            DATASET=case.dataset,
            TYPE=case.type,
            MODEL_DIR=str(arguments.model_dir.resolve()),
            DATA_DIR=str(arguments.data_dir.resolve()),
        )
        job_environments = {name: environment for name in jobs}
        job_environments["swift"] = dict(environment, OPENBLAS_NUM_THREADS="1")
        runs: dict[str, list[Run]] = {name: [] for name in jobs}
        try:
            for name, command in jobs.items():
                run_child(command, job_environments[name], f"{name} {case.label} (warm-up)")
            for index in range(arguments.runs):
                for name, command in jobs.items():
                    runs[name].append(run_child(command, job_environments[name], f"{name} {case.label} run {index + 1}"))
        except JobFailed as error:
            print(f"error: {error}", file=sys.stderr)
            return 1

        row_mismatch = False
        outcomes = {(run.summary["samples"], run.summary["correct"]) for job_runs in runs.values() for run in job_runs}
        if len(outcomes) != 1:
            row_mismatch = True
            disagreements.append(
                f"{case.label}: (samples, correct) differ: "
                + "; ".join(f"{name} {[(r.summary['samples'], r.summary['correct']) for r in rs]}"
                            for name, rs in runs.items())
            )

        row = {
            "model": case.label,
            "target_ratio": case.target_ratio,
            "correct": runs["pytorch"][0].summary["correct"],
            "results_agree": not row_mismatch,
        }
        for name, job_runs in runs.items():
            row[f"{name}_median_ms"] = statistics.median(run.wall_ms for run in job_runs)
            row[f"{name}_peak_mib"] = max(run.peak_rss_mib for run in job_runs)
        if "swift" in runs:
            row["ratio"] = row["pytorch_median_ms"] / row["swift_median_ms"]
        results.append(row)

    # Table.
    print(
        f"{arguments.runs} timed runs per job after one warm-up; wall time of the whole process; "
        f"peak RSS from wait4 (floor for any child here: {rss_floor_mib():.1f} MiB)"
    )
    print("swift runs with OPENBLAS_NUM_THREADS=1, as its image sets; pytorch with its default threads")
    header = f"{'model':<11} {'swift ms':>9} {'pytorch ms':>11} {'ratio':>7} {'swift MiB':>10} {'pytorch MiB':>12}  target"
    print(header)
    print("-" * len(header))
    for row in results:
        swift_ms = f"{row['swift_median_ms']:.1f}" if "swift_median_ms" in row else "-"
        swift_mib = f"{row['swift_peak_mib']:.1f}" if "swift_peak_mib" in row else "-"
        if "ratio" in row:
            ratio = f"{row['ratio']:.1f}x"
            verdict = "PASS" if row["ratio"] >= row["target_ratio"] else "BELOW"
            if not row["results_agree"]:
                verdict = "RESULTS DIFFER"
        else:
            ratio, verdict = "-", "not measured"
        print(
            f"{row['model']:<11} {swift_ms:>9} {row['pytorch_median_ms']:>11.1f} {ratio:>7} "
            f"{swift_mib:>10} {row['pytorch_peak_mib']:>12.1f}  >={row['target_ratio']:g}x {verdict}"
        )

    if arguments.json_out:
        arguments.json_out.parent.mkdir(parents=True, exist_ok=True)
        arguments.json_out.write_text(json.dumps(results, indent=2) + "\n")

    if disagreements:
        for line in disagreements:
            print(f"error: results disagree: {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
