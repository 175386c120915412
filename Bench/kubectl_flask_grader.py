"""The reference grader's shape, as a baseline: a Flask handler that runs kubectl for every request.

    KUBECONFIG=state/cluster/kubeconfig python Bench/kubectl_flask_grader.py PORT
"""

import subprocess
import sys

from flask import Flask, Response

app = Flask(__name__)


@app.get("/free/resource-quota")
def free_quota() -> Response:
    result = subprocess.run(
        ["kubectl", "get", "resourcequota", "free-tier-quota", "-n", "free-service", "-o", "json"],
        capture_output=True, text=True,
    )
    return Response(result.stdout, status=200 if result.returncode == 0 else 500, mimetype="application/json")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
