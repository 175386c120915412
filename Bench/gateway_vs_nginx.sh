#!/usr/bin/env bash
# The gateway against nginx, both proxying the same trivial upstream, in one run on one machine.
#
# The upstream is nginx answering a small JSON body itself. wrk drives, in turn: the upstream directly
# (the baseline latency), nginx proxying to it, and the gateway proxying to it with a route from an Envoy
# config of the project's shape. Printed: requests per second, p50 and p99 latency, the latency each proxy
# adds to the direct p50, and the gateway's ratios to nginx against the targets (at least half of nginx's
# throughput; p50 added latency at most twice nginx's).
#
# Both proxies get the same number of workers (nginx's worker_processes, the gateway's --concurrency): one per
# core by default, as both deploy. `--workers 1,2` runs the comparison once per count in the one invocation.
#
#   Bench/gateway_vs_nginx.sh [--gateway .build/release/gateway] [--seconds 10] [--connections 64] [--workers N[,N...]]
set -euo pipefail
cd "$(dirname "$0")/.."

gateway=.build/release/gateway
seconds=10
connections=64
workers=$(nproc)
while (($#)); do
    case "$1" in
        --gateway) gateway=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --connections) connections=$2; shift 2 ;;
        --workers) workers=$2; shift 2 ;;
        *) echo "gateway_vs_nginx: unknown option $1" >&2; exit 2 ;;
    esac
done
for tool in nginx wrk; do
    command -v "$tool" >/dev/null || { echo "gateway_vs_nginx: $tool is missing; apt-get install nginx-light wrk" >&2; exit 2; }
done
[[ -x $gateway ]] || { echo "gateway_vs_nginx: $gateway is missing; swift build -c release --product gateway" >&2; exit 2; }
if [[ $workers == *,* ]]; then
    status=0
    for count in $(tr ',' '\n' <<<"$workers" | awk '!seen[$0]++'); do
        "$0" --gateway "$gateway" --seconds "$seconds" --connections "$connections" --workers "$count" || status=1
        echo
    done
    exit "$status"
fi
[[ $workers =~ ^[1-9][0-9]*$ ]] || { echo "gateway_vs_nginx: --workers takes numbers such as 1,2" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for name in upstream proxy; do
        [[ -f $work/$name.pid ]] && kill "$(cat "$work/$name.pid")" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

upstream=18501
proxy=18502
front=18503
# The upstream is an nginx of its own with one worker per core, whatever the proxies get, so that the proxies'
# worker count never changes what they proxy to.
cat >"$work/upstream.conf" <<CONF
worker_processes $(nproc);
pid $work/upstream.pid;
error_log $work/upstream-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$upstream;
        location / { default_type application/json; return 200 '{"job_name":"free-job-bench","status":"submitted"}'; }
    }
}
CONF
cat >"$work/proxy.conf" <<CONF
worker_processes $workers;
pid $work/proxy.pid;
error_log $work/proxy-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    upstream tier { server 127.0.0.1:$upstream; keepalive 128; }
    server {
        listen 127.0.0.1:$proxy;
        location /free {
            proxy_pass http://tier;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
nginx -c "$work/upstream.conf" -p "$work"
nginx -c "$work/proxy.conf" -p "$work"

cat >"$work/envoy.yaml" <<CONF
static_resources:
  listeners:
    - name: public
      address: { socket_address: { address: 127.0.0.1, port_value: $front } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: public
                route_config:
                  virtual_hosts:
                    - name: tiers
                      domains: ["*"]
                      routes:
                        - match: { path_separated_prefix: /free }
                          route: { cluster: free_tier }
                http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: free_tier
      connect_timeout: 1s
      load_assignment:
        cluster_name: free_tier
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $upstream } } }
CONF
# Access lines at info would measure the terminal; warning keeps the gateway's per-request log out of it.
"$gateway" --config "$work/envoy.yaml" --listen "127.0.0.1:$front" --concurrency "$workers" --log-level warning >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$front/free" >/dev/null && break; sleep 0.1; done

# One wrk run: prints "requests_per_second p50_ms p99_ms".
measure() {
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$1" >"$work/wrk.out"
    awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }' "$work/wrk.out"
}

read -r direct_rps direct_p50 direct_p99 < <(measure "http://127.0.0.1:$upstream/free")
read -r nginx_rps nginx_p50 nginx_p99 < <(measure "http://127.0.0.1:$proxy/free")
read -r gateway_rps gateway_p50 gateway_p99 < <(measure "http://127.0.0.1:$front/free")

python3 - "$connections" "$seconds" "$workers" "$direct_rps" "$direct_p50" "$direct_p99" "$nginx_rps" "$nginx_p50" "$nginx_p99" \
    "$gateway_rps" "$gateway_p50" "$gateway_p99" <<'PY'
import sys
connections, seconds, workers = sys.argv[1], sys.argv[2], sys.argv[3]
d_rps, d50, d99, n_rps, n50, n99, g_rps, g50, g99 = map(float, sys.argv[4:])
n_added, g_added = max(n50 - d50, 0.001), max(g50 - d50, 0.0)
print(f"wrk -t2 -c{connections} -d{seconds}s against one trivial upstream (nginx returning a small JSON body); {workers} worker(s) per proxy")
print(f"{'path':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'p50 added':>11}")
print(f"{'upstream directly':<22}{d_rps:>10.0f}{d50:>9.3f}{d99:>9.3f}{'-':>11}")
print(f"{'nginx proxy':<22}{n_rps:>10.0f}{n50:>9.3f}{n99:>9.3f}{n50 - d50:>11.3f}")
print(f"{'tierserve gateway':<22}{g_rps:>10.0f}{g50:>9.3f}{g99:>9.3f}{g50 - d50:>11.3f}")
throughput = g_rps / n_rps
latency = g_added / n_added
print(f"throughput: gateway/nginx = {throughput:.2f} (target >= 0.50: {'PASS' if throughput >= 0.5 else 'BELOW'})")
print(f"p50 added latency: gateway/nginx = {latency:.2f} (target <= 2.00: {'PASS' if latency <= 2 else 'BELOW'})")
sys.exit(0 if throughput >= 0.5 and latency <= 2 else 1)
PY
