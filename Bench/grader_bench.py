#!/usr/bin/env python3
"""The grader's throughput against the reference shape, and the completeness of its audit trail.

In one run, on a local stack started on free ports (release build):
1. requests per second for `GET /free/resource-quota` with auditing on, from wrk, against a Flask handler
   that runs `kubectl get resourcequota -o json` per request (Bench/kubectl_flask_grader.py) on the same
   local cluster, driven by the same client; the ratio, with the target of 100x;
2. 10,000 requests at concurrency 64 leave exactly 10,000 new audit rows, and the chain verifies;
3. the grader killed with SIGKILL under load leaves a row for every request that received a response,
   and the chain still verifies.

    .venv/bin/python Bench/grader_bench.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".build" / "release"


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"grader_bench: {what} did not happen within {seconds} s")


def get(port: int, path: str, token: str | None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection.request("GET", path, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def hammer(port: int, token: str, total: int, concurrency: int, stop: threading.Event | None = None) -> int:
    """Sends `total` requests from `concurrency` keep-alive connections; returns how many got a response."""
    answered = 0
    lock = threading.Lock()
    remaining = [total]

    def worker() -> None:
        nonlocal answered
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not (stop and stop.is_set()):
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            try:
                connection.request("GET", "/free/resource-quota", headers={"Authorization": f"Bearer {token}"})
                connection.getresponse().read()
                with lock:
                    answered += 1
            except (OSError, http.client.HTTPException):
                if stop and stop.is_set():
                    break
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answered


def wrk(url: str, seconds: int, connections: int, token: str | None) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(next(line.split()[1] for line in output.splitlines() if line.startswith("Requests/sec")))


def rows(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0]


def verify(database: Path) -> str:
    result = subprocess.run([str(BIN / "grader"), "audit", "verify", "--db", str(database)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"grader_bench: the audit chain does not verify: {result.stderr.strip()}")
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    arguments = parser.parse_args()
    for tool in ("wrk", "kubectl"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            raise SystemExit(f"grader_bench: {tool} is missing")
    state = Path(tempfile.mkdtemp(prefix="tierserve-grader-bench-"))
    stack = subprocess.Popen(
        [str(BIN / "stack"), "up", "--state-dir", str(state), "--gateway-port", "0", "--cluster-port", "0",
         "--free-port", "0", "--premium-port", "0", "--grader-port", "0"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flask = None
    try:
        wait_for(lambda: (state / "stack.json").exists(), 60, "the stack coming up")
        addresses = json.loads((state / "stack.json").read_text())
        grader_port = int(addresses["grader"].rsplit(":", 1)[1])
        token = Path(addresses["graderTokenFile"]).read_text().strip()
        database = state / "grader" / "audit.sqlite"

        # 1. Throughput against the reference shape, both driven by wrk at a concurrency each can use.
        flask_port = grader_port + 1 if grader_port < 65000 else grader_port - 1
        flask = subprocess.Popen(
            [sys.executable, str(ROOT / "Bench" / "kubectl_flask_grader.py"), str(flask_port)],
            env=dict(os.environ, KUBECONFIG=addresses["kubeconfig"]), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for(lambda: _answers(flask_port), 30, "the Flask baseline answering")
        baseline = wrk(f"http://127.0.0.1:{flask_port}/free/resource-quota", arguments.seconds, 4, None)
        ours = wrk(f"http://127.0.0.1:{grader_port}/free/resource-quota", arguments.seconds, 32, token)
        ratio = ours / baseline
        print(f"GET /free/resource-quota, wrk -t2 for {arguments.seconds} s, on one local cluster")
        print(f"  Flask + kubectl per request (4 connections): {baseline:10.1f} req/s")
        print(f"  tierserve grader, audited (32 connections):  {ours:10.1f} req/s")
        print(f"  ratio {ratio:.0f}x (target >= 100x: {'PASS' if ratio >= 100 else 'BELOW'})")

        # 2. Exactly one row per request. wrk stops with requests still in flight; let the grader record them first.
        time.sleep(2)
        before = rows(database)
        answered = hammer(grader_port, token, 10_000, 64)
        added = rows(database) - before
        print(f"10,000 requests at concurrency 64: {answered} answered, {added} audit rows added "
              f"({'PASS' if added == 10_000 == answered else 'FAIL'}); {verify(database)}")

        # 3. SIGKILL under load: every answered request has its row.
        before = rows(database)
        stop = threading.Event()
        counted: list[int] = []
        load = threading.Thread(target=lambda: counted.append(hammer(grader_port, token, 10**9, 64, stop)))
        load.start()
        time.sleep(2)
        grader_pid = int(subprocess.run(["pgrep", "-f", f"{state}/grader/grader.yaml"], capture_output=True, text=True).stdout.split()[0])
        os.kill(grader_pid, signal.SIGKILL)
        time.sleep(0.5)
        stop.set()
        load.join()
        added = rows(database) - before
        print(f"SIGKILL under load: {counted[0]} requests answered, {added} rows written "
              f"({'PASS' if added >= counted[0] else 'FAIL: answered requests without rows'}); {verify(database)}")
    finally:
        if flask:
            flask.terminate()
        stack.send_signal(signal.SIGTERM)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
    return 0


def _answers(port: int) -> bool:
    try:
        return get(port, "/free/resource-quota", None) == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
