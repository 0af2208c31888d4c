#!/usr/bin/env bash
# The host table at scale: a list of BENCH_N (1,000,000) URLs, every one on a host of its own
# (http://hNNNNNNN.invalid/d/NNNNNNN.bin), fetched to the end; the peak RSS must stay under
# BENCH_RSS_MAX_MIB (100). The table keeps only hosts with something in force (hosts_release,
# docs/design.md#the-engine); before, it kept every host it had ever seen.
#
# Only loopback is used: the names are never resolved. sluice sends every request through
# --proxy, a local nginx on 127.0.0.1 (libcurl does not resolve a URL's host behind a plain HTTP
# proxy), which answers 304 to everything, so each item ends "unchanged" at once and nothing
# is written to disk but the session. sluice still admits, counts and releases every host.
#
# Prints the figures and writes them as key=value lines to build/bench-hosts.txt. Exit 0 when
# the run finished (exit 0, every item unchanged) under the limit, 1 when not, 2 on a setup error.
#
# Environment: BENCH_N=1000000, BENCH_RSS_MAX_MIB=100, BENCH_DIR=DIR (work dir, default a fresh
# /tmp/sluice-hosts-bench.*), KEEP=1 (keep it), BENCH_TIMEOUT=1800 (seconds),
# SLUICE=PATH (the binary, default ./sluice: to measure another build), BENCH_J=64 (-j).
# Needs ./sluice, build/tools/freeport (make tools), nginx, /usr/bin/time.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
N=${BENCH_N:-1000000}
MAX_MIB=${BENCH_RSS_MAX_MIB:-100}
TIMEOUT=${BENCH_TIMEOUT:-1800}
J=${BENCH_J:-64}
SLUICE=${SLUICE:-$ROOT/sluice}
RESULTS="$ROOT/build/bench-hosts.txt"
PATH="$PATH:/usr/sbin:/sbin"
# Nothing from the environment may send the requests elsewhere or keep them off the proxy.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY no_proxy NO_PROXY

die() { echo "bench/hosts: $*" >&2; exit 2; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
[ -x "$SLUICE" ] || die "$SLUICE is missing (make sluice)"
[ -x "$ROOT/build/tools/freeport" ] || die "build/tools/freeport is missing (make tools)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
command -v nginx > /dev/null || die "nginx is missing (make deps)"

if [ -n "${BENCH_DIR:-}" ]; then
    W=$BENCH_DIR
    mkdir -p "$W" || die "cannot create $W"
else
    W=$(mktemp -d /tmp/sluice-hosts-bench.XXXXXX) || die "mktemp failed"
fi
W=$(cd "$W" && pwd)
chmod a+rx "$W"
NGINX_PID=""
cleanup() {
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the proxy: 304 for every request, whatever its host ----
mkdir -p "$W/nginx/tmp"
PORT=$("$ROOT/build/tools/freeport") || die "freeport failed"
cat > "$W/nginx/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
error_log $W/nginx/error.log warn;
pid $W/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$PORT default_server;
        server_name _;
        location = /__ready { return 204; }
        location / { return 304; }
    }
}
EOF
nginx -p "$W/nginx/" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" < /dev/null \
    > "$W/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/__ready" && break
    sleep 0.1
done
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/__ready" ||
    die "nginx did not start: $(cat "$W/nginx/error.log")"
# The proxy answers for a name that resolves nowhere, so nothing but loopback is involved.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --proxy "http://127.0.0.1:$PORT" \
    http://h0000000.invalid/probe)
[ "$code" = 304 ] || die "the proxy does not answer for .invalid names (got $code)"

# ---- the list: one host per URL ----
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "http://h%07d.invalid/d/%07d.bin\n", i, i }' \
    > "$W/list.txt"
echo "bench/hosts: $N URLs on $N hosts ($(du -h "$W/list.txt" | cut -f1)), proxy 127.0.0.1:$PORT," \
    "-j $J, $SLUICE, work dir $W"

t0=$(date +%s.%N)
timeout -k 5 "$TIMEOUT" /usr/bin/time -v -o "$W/time.txt" \
    "$SLUICE" -i "$W/list.txt" -d "$W/out" -j "$J" --proxy "http://127.0.0.1:$PORT" \
    --headless --retries 0 > "$W/stdout" 2> "$W/stderr"
EXIT=$?
t1=$(date +%s.%N)
RSS_KB=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.txt")
RSS_KB=${RSS_KB:-0}
SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
SUMMARY=$(grep 'finished:' "$W/stderr" | tail -1)
UNCHANGED=$(echo "$SUMMARY" | sed -n 's/.* \([0-9]*\) unchanged.*/\1/p')
echo "exit $EXIT in $SECS s; peak RSS $((RSS_KB / 1024)) MiB (limit $MAX_MIB MiB)"
echo "    ${SUMMARY:-no summary: $(tail -3 "$W/stderr")}"
mkdir -p "$ROOT/build"
{
    echo "hosts_n=$N"
    echo "hosts_exit=$EXIT"
    echo "hosts_seconds=$SECS"
    echo "hosts_peak_rss_kib=$RSS_KB"
    echo "hosts_unchanged=${UNCHANGED:-0}"
} > "$RESULTS"
echo "figures in $RESULTS"
[ "$EXIT" -eq 0 ] && [ "${UNCHANGED:-0}" = "$N" ] || { echo "bench/hosts: the run did not finish cleanly"; exit 1; }
[ "$RSS_KB" -le $((MAX_MIB * 1024)) ] || { echo "bench/hosts: peak RSS over $MAX_MIB MiB"; exit 1; }
exit 0
