#!/usr/bin/env python3
"""Jobs completed per second, end to end, on the local cluster.

Starts `local-cluster` on a fresh state directory with an image mapped to /bin/true, creates N one-pod Jobs
in a namespace without quota (from several client threads, over HTTPS with the admin token), watches the
Jobs until every one has its Complete condition, and prints the rate next to the Kubernetes anchor and the
target, with the cluster's peak RSS.

    python3 Bench/local_cluster_jobs.py [--jobs 200] [--clients 8] [--binary .build/release/local-cluster]
"""

import argparse
import http.client
import json
import os
import signal
import ssl
import subprocess
import tempfile
import threading
import time

ANCHOR = "the real Job controller: about 44-52 pods/s at 100 QPS (Kubernetes project benchmark)"
TARGET = 100.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    default_binary = ".build/release/local-cluster"
    if not os.path.exists(default_binary):
        default_binary = ".build/debug/local-cluster"
    parser.add_argument("--binary", default=default_binary)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="local-cluster-bench-") as work:
        state = os.path.join(work, "state")
        images = os.path.join(work, "images.yaml")
        with open(images, "w") as f:
            f.write("images:\n  true:\n    command: [/bin/true]\n")
        log = open(os.path.join(work, "cluster.log"), "w+")
        cluster = subprocess.Popen(
            [args.binary, "--state-dir", state, "--images", images, "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
        try:
            line = cluster.stdout.readline()
            if not line.startswith("local-cluster serving "):
                raise SystemExit(f"local-cluster did not start: {line}")
            url = line.split()[2]
            port = int(url.rsplit(":", 1)[1])
            token = open(os.path.join(state, "admin.token")).read().strip()
            context = ssl.create_default_context(cafile=os.path.join(state, "ca.crt"))
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

            def connection():
                return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)

            def call(conn, method, path, body=None):
                conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, data

            conn = connection()
            status, _ = call(conn, "POST", "/api/v1/namespaces", {"metadata": {"name": "bench"}})
            assert status == 201, status
            status, data = call(conn, "GET", "/apis/batch/v1/namespaces/bench/jobs")
            version = json.loads(data)["metadata"]["resourceVersion"]

            # Watch first, so no completion is missed.
            completed = set()
            all_done = threading.Event()

            def watch():
                watch_conn = connection()
                watch_conn.request(
                    "GET", f"/apis/batch/v1/namespaces/bench/jobs?watch=1&resourceVersion={version}", headers=headers)
                response = watch_conn.getresponse()
                for raw in response:
                    event = json.loads(raw)
                    job = event["object"]
                    for condition in job.get("status", {}).get("conditions", []):
                        if condition["type"] == "Complete" and condition["status"] == "True":
                            completed.add(job["metadata"]["name"])
                    if len(completed) >= args.jobs:
                        all_done.set()
                        return

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            time.sleep(0.2)

            def job_body(index):
                return {
                    "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"bench-{index}"},
                    "spec": {"template": {"spec": {"restartPolicy": "Never",
                                                   "containers": [{"name": "main", "image": "true"}]}}},
                }

            failures = []

            def create(indices):
                client = connection()
                for index in indices:
                    status, data = call(client, "POST", "/apis/batch/v1/namespaces/bench/jobs", job_body(index))
                    if status != 201:
                        failures.append((index, status, data[:200]))

            started = time.monotonic()
            threads = [threading.Thread(target=create, args=(range(c, args.jobs, args.clients),))
                       for c in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            created_at = time.monotonic()
            if failures:
                raise SystemExit(f"{len(failures)} creates failed, first: {failures[0]}")
            if not all_done.wait(timeout=300):
                raise SystemExit(f"only {len(completed)} of {args.jobs} jobs completed within 300 s")
            finished = time.monotonic()

            with open(f"/proc/{cluster.pid}/status") as f:
                peak = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
            elapsed = finished - started
            rate = args.jobs / elapsed
            print(f"local cluster ({os.path.basename(os.path.dirname(args.binary))} build): "
                  f"{args.jobs} Jobs created in {created_at - started:.2f} s, all complete after {elapsed:.2f} s")
            print(f"  throughput: {rate:.1f} Jobs/s completed end to end ({args.clients} client threads, HTTPS)")
            print(f"  anchor:     {ANCHOR}")
            print(f"  target:     >= {TARGET:.0f} Jobs/s on this 2-core machine -> "
                  f"{'met' if rate >= TARGET else 'NOT met'}")
            print(f"  peak RSS of local-cluster: {int(peak) / 1024:.1f} MiB")
        finally:
            os.killpg(cluster.pid, signal.SIGTERM)
            try:
                cluster.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
