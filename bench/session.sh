#!/usr/bin/env bash
# The session at scale (SPEC §7): a list of BENCH_N (1,000,000) URLs against a local nginx that
# serves one small file under every name.
#   run 1  fresh session: time from exec to the first request at the origin, to the whole list
#          stored, and the peak RSS; then SIGINT (exit 3 expected)
#   run 2  the same command again (merge into the existing session): the same figures
#          meanwhile `sluice ctl status` is asked every 0.2 s: its round trip is served by the
#          event loop, so its worst case bounds how long the loop was held (by the session or
#          anything else); the client's own start-up is in it too
#   pages  the statement queue_page runs, at offset 500,000, timed by the sqlite3 shell, and the
#          query plans of the statements the loop runs
# Prints the figures and writes them as key=value lines to build/bench-session.txt.
#
# Environment: BENCH_N=1000000, BENCH_SHUFFLE=1 (list in random order), BENCH_DIR=DIR (work dir,
# default a fresh /tmp/sluice-session-bench.*), KEEP=1 (keep it), BENCH_TIMEOUT=120 (seconds per run).
# Needs ./sluice, build/tools/freeport (make tools), nginx, sqlite3, /usr/bin/time.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
N=${BENCH_N:-1000000}
TIMEOUT=${BENCH_TIMEOUT:-120}
RESULTS="$ROOT/build/bench-session.txt"
PATH="$PATH:/usr/sbin:/sbin"
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

die() { echo "bench/session: $*" >&2; exit 2; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
[ -x "$ROOT/sluice" ] || die "./sluice is missing (make sluice)"
[ -x "$ROOT/build/tools/freeport" ] || die "build/tools/freeport is missing (make tools)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
command -v nginx > /dev/null || die "nginx is missing (make deps)"
command -v sqlite3 > /dev/null || die "sqlite3 is missing (make deps)"

if [ -n "${BENCH_DIR:-}" ]; then
    W=$BENCH_DIR
    mkdir -p "$W" || die "cannot create $W"
else
    W=$(mktemp -d /tmp/sluice-session-bench.XXXXXX) || die "mktemp failed"
fi
W=$(cd "$W" && pwd)
chmod a+rx "$W"
NGINX_PID=""
SLUICE_PID=""
cleanup() {
    [ -n "$SLUICE_PID" ] && kill -KILL "$SLUICE_PID" 2>/dev/null
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }

# ---- the origin: one 1 KiB file under every name ----
mkdir -p "$W/www" "$W/nginx/tmp"
head -c 1024 /dev/urandom > "$W/www/one.bin"
PORT=$("$ROOT/build/tools/freeport") || die "freeport failed"
cat > "$W/nginx/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
error_log $W/nginx/error.log warn;
pid $W/nginx/nginx.pid;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    log_format t '\$msec \$request_uri \$status';
    access_log $W/access.log t;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$PORT;
        root $W/www;
        location = /__ready { access_log off; return 204; }
        location / { try_files /one.bin =404; }
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
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/__ready" || die "nginx did not start: $(cat "$W/nginx/error.log")"

# ---- the list ----
seq -f "http://127.0.0.1:$PORT/d/%07g.bin" 1 "$N" > "$W/list.txt"
if [ "${BENCH_SHUFFLE:-0}" = 1 ]; then
    shuf "$W/list.txt" > "$W/list.shuf" && mv "$W/list.shuf" "$W/list.txt"
fi
echo "bench/session: $N URLs ($(du -h "$W/list.txt" | cut -f1)), origin 127.0.0.1:$PORT, work dir $W"

# poll_ctl FILE: round trips of `sluice ctl status` in ms, one a line, until killed.
poll_ctl() {
    while :; do
        local a b
        a=$(now)
        if "$ROOT/sluice" ctl -d "$W/out" status > /dev/null 2>&1; then
            b=$(now)
            ms_between "$a" "$b" >> "$1"
            echo >> "$1"
        fi
        sleep 0.2
    done
}

# run NAME: starts sluice under /usr/bin/time, waits for the first request and for the intake to
# finish (its "input done" line), then SIGINT. Sets FIRST_MS, STORED_MS, RSS_KB, EXIT, INTAKE.
run() {
    local name=$1 t0 first="" stored="" deadline line
    : > "$W/access.log"
    rm -f "$W/$name.jsonl"
    t0=$(now)
    SLUICE_SESSION_STATS=1 /usr/bin/time -f '%M' -o "$W/$name.time" \
        "$ROOT/sluice" -i "$W/list.txt" -d "$W/out" -j 16 \
        --headless --log "$W/$name.jsonl" 2> "$W/$name.stderr" &
    local tpid=$!
    : > "$W/$name.ctl"
    poll_ctl "$W/$name.ctl" &
    local ppid=$!
    for _ in $(seq 1 50); do
        SLUICE_PID=$(pgrep -P "$tpid" -x sluice | head -1)
        [ -n "$SLUICE_PID" ] && break
        sleep 0.02
    done
    deadline=$(( $(date +%s) + TIMEOUT ))
    while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$tpid" 2>/dev/null; do
        if [ -z "$first" ] && [ -s "$W/access.log" ]; then
            first=$(head -1 "$W/access.log" | cut -d' ' -f1)
        fi
        if [ -z "$stored" ] && grep -q 'sluice: input done' "$W/$name.stderr"; then
            stored=$(now)
        fi
        [ -n "$first" ] && [ -n "$stored" ] && break
        sleep 0.05
    done
    sleep 1
    kill "$ppid" 2>/dev/null
    wait "$ppid" 2>/dev/null
    [ -n "$SLUICE_PID" ] && kill -INT "$SLUICE_PID" 2>/dev/null
    wait "$tpid"
    EXIT=$?
    SLUICE_PID=""
    [ -z "$first" ] && [ -s "$W/access.log" ] && first=$(head -1 "$W/access.log" | cut -d' ' -f1)
    FIRST_MS=$([ -n "$first" ] && ms_between "$t0" "$first" || echo "none")
    STORED_MS=$([ -n "$stored" ] && ms_between "$t0" "$stored" || echo "none")
    RSS_KB=$(tail -1 "$W/$name.time")
    INTAKE=$(grep 'sluice: input' "$W/$name.stderr" | tail -1)
    line="$name: first request after ${FIRST_MS} ms, list stored after ${STORED_MS} ms, peak RSS $((RSS_KB / 1024)) MiB, exit $EXIT"
    echo "$line"
    [ -n "$INTAKE" ] && echo "    $INTAKE"
    echo "    $(grep -c ' 200$' "$W/access.log") requests served before SIGINT"
    CTL=$(sort -n "$W/$name.ctl" | awk 'NF { v[n++] = $1 } END { if (n) printf "%d answers, median %d ms, worst %d ms", n, v[int(n / 2)], v[n - 1]; else printf "no answers" }')
    echo "    ctl status round trips: $CTL"
    grep 'sluice: session:' "$W/$name.stderr" | sed 's/^/    /'
    {
        echo "${name}_first_request_ms=$FIRST_MS"
        echo "${name}_stored_ms=$STORED_MS"
        echo "${name}_peak_rss_kib=$RSS_KB"
        echo "${name}_exit=$EXIT"
        echo "${name}_loop_db_slowest_ms=$(sed -n 's/.*slowest \([0-9.]*\) ms.*/\1/p' "$W/$name.stderr")"
        echo "${name}_ctl_worst_ms=$(sort -n "$W/$name.ctl" | awk 'NF { w = $1 } END { print w + 0 }')"
    } >> "$RESULTS.tmp"
}

mkdir -p "$ROOT/build"
: > "$RESULTS.tmp"
run fresh
run merge
DB="$W/out/.sluice/session.db"
[ -f "$DB" ] || die "no session at $DB"
echo "session: $(du -h "$DB" | cut -f1), mode $(stat -c %a "$DB"); rows by state:"
sqlite3 "$DB" "SELECT state, count(*) FROM items GROUP BY state" | sed 's/^/    /'

# ---- pages: the statements of store_queue_page_ids, at offset 500,000 ----
page_ms() {   # SQL: the best of three runs, in ms
    local best=""
    for _ in 1 2 3; do
        local t
        t=$(printf '.timer on\n%s;\n' "$1" | sqlite3 "$DB" 2>&1 |
            awk '/^Run Time/ { printf "%.1f", $4 * 1000 }')
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
    done
    echo "$best"
}
OFF=$((N / 2))
Q_STATE="SELECT id FROM items INDEXED BY items_state WHERE state = 0 ORDER BY id LIMIT 50 OFFSET $OFF"
Q_DENSE="SELECT id FROM items WHERE id > $OFF ORDER BY id LIMIT 50"
Q_ROWS="SELECT * FROM items WHERE id IN ($(seq -s, $((OFF + 1)) $((OFF + 50))))"
# The next page, counted from where the last one began (queue_page keeps such anchors).
ANCHOR=$(sqlite3 "$DB" "$Q_STATE" | head -1)
Q_NEXT="SELECT id FROM items INDEXED BY items_state WHERE state = 0 AND id >= ${ANCHOR:-0} ORDER BY id LIMIT 50 OFFSET 50"
P_STATE=$(page_ms "$Q_STATE")
P_NEXT=$(page_ms "$Q_NEXT")
P_DENSE=$(page_ms "$Q_DENSE")
P_ROWS=$(page_ms "$Q_ROWS")
echo "page of 50 at offset $OFF: queued tab $P_STATE ms (index only; the next page from its anchor" \
    "$P_NEXT ms), All tab $P_DENSE ms, + the 50 rows $P_ROWS ms"
{
    echo "page_offset=$OFF"
    echo "page_state_ms=$P_STATE"
    echo "page_state_next_ms=$P_NEXT"
    echo "page_all_ms=$P_DENSE"
    echo "page_rows_ms=$P_ROWS"
} >> "$RESULTS.tmp"
echo "query plans:"
for q in \
    "SELECT id FROM items INDEXED BY items_queued WHERE state = 0 AND host = 'h' AND id > 5 ORDER BY id LIMIT 64" \
    "SELECT host FROM items INDEXED BY items_queued WHERE state = 0 AND host > 'a' ORDER BY host LIMIT 1" \
    "SELECT min(next_try) FROM items INDEXED BY items_retry WHERE state = 2" \
    "UPDATE items INDEXED BY items_retry SET state = 0 WHERE state = 2 AND next_try <= 5" \
    "$Q_STATE" "SELECT state, count(*) FROM items GROUP BY state"; do
    echo "    $q"
    sqlite3 "$DB" "EXPLAIN QUERY PLAN $q" | grep -v '^QUERY PLAN' | sed 's/^/        /'
done
mv "$RESULTS.tmp" "$RESULTS"
echo "figures in $RESULTS"
