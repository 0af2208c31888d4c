#!/usr/bin/env bash
# sluice attach's costs (docs/design.md#detach-and-attach): `bash bench/attach.sh`.
#   A session of BENCH_N (1,000,000) items, run --headless under setsid with -j 16 against a local
#   nginx that sends one 8 MB file under every name at 20 KB/s per connection (limit_rate), so 16
#   transfers stay active for the whole bench. Once the list is stored and 16 transfers run:
#   first   time from `sluice attach` starting to its first screen drawn (SLUICE_ATTACH_STATS),
#           BENCH_ATTACHES times, in a 120x40 tmux terminal, the All tab
#   bytes   bytes/s received by an attached client (the All tab, then the Active tab: 16 active
#           rows on screen) over BENCH_WINDOW seconds
#   cpu     the engine's CPU (utime + stime from /proc) over BENCH_WINDOW-second windows, with no
#           client and with one client attached, alternated BENCH_RUNS times (an engine this idle
#           is near the resolution of the clock ticks: the next figure is the one that tells)
#   busy    a busy sync: BENCH_BUSY (2,000) files of 50 KB from the same nginx, -j 16, no cap;
#           the engine's user+sys CPU for the whole run, --headless alone and with one client
#           attached from its start (Active tab), alternated BENCH_RUNS times; medians
# Prints the figures and writes them as key=value lines to build/bench-attach.txt.
#
# Environment: BENCH_N=1000000, BENCH_WINDOW=10, BENCH_RUNS=3, BENCH_ATTACHES=3, KEEP=1 keeps the
# work dir. Needs ./sluice, build/tools/freeport (make tools), nginx, tmux.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
N=${BENCH_N:-1000000}
WINDOW=${BENCH_WINDOW:-10}
RUNS=${BENCH_RUNS:-3}
ATTACHES=${BENCH_ATTACHES:-3}
BUSY=${BENCH_BUSY:-2000}
RESULTS="$ROOT/build/bench-attach.txt"
PATH="$PATH:/usr/sbin:/sbin"
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

die() { echo "bench/attach: $*" >&2; exit 2; }
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
for v in N WINDOW RUNS ATTACHES BUSY; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer"
done
[ -x "$ROOT/sluice" ] || die "./sluice is missing (make sluice)"
[ -x "$ROOT/build/tools/freeport" ] || die "build/tools/freeport is missing (make tools)"
command -v nginx > /dev/null || die "nginx is missing (make deps)"
command -v tmux > /dev/null || die "tmux is missing (make deps)"

W=$(mktemp -d /tmp/sluice-attach-bench.XXXXXX) || die "mktemp failed"
SOCK="sluice-bench-attach-$$"
NGINX_PID=""
SLUICE_PID=""
TM() { tmux -L "$SOCK" -f /dev/null "$@"; }
cleanup() {
    TM kill-server > /dev/null 2>&1
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
    [ -n "$SLUICE_PID" ] && kill -TERM "$SLUICE_PID" 2> /dev/null
    [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2> /dev/null
    sleep 0.5
    [ -n "$SLUICE_PID" ] && kill -KILL "$SLUICE_PID" 2> /dev/null
    [ "${KEEP:-0}" = 1 ] && echo "bench/attach: kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the origin ----
mkdir -p "$W/www" "$W/nginx/tmp"
head -c 8000000 /dev/zero > "$W/www/one.bin"
head -c 50000 /dev/urandom > "$W/www/mid.bin"
PORT=$("$ROOT/build/tools/freeport") || die "freeport failed"
cat > "$W/nginx/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
error_log $W/nginx/error.log warn;
pid $W/nginx/nginx.pid;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        root $W/www;
        location = /__ready { return 204; }
        location /b/ { try_files /mid.bin =404; }
        location / { limit_rate 20k; try_files /one.bin =404; }
    }
}
CONF
nginx -p "$W/nginx/" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" < /dev/null \
    > "$W/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 1 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/__ready" && break
    sleep 0.1
done
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/__ready" || die "nginx did not start"

# ---- the run ----
seq -f "http://127.0.0.1:$PORT/d/%07g.bin" 1 "$N" > "$W/list.txt"
setsid "$ROOT/sluice" -i "$W/list.txt" -d "$W/out" -j 16 --headless < /dev/null > /dev/null \
    2> "$W/engine.err" &
SLUICE_PID=$!
status() { "$ROOT/sluice" ctl -d "$W/out" status 2> /dev/null; }
field() { status | grep -o "\"$1\":[0-9-]*" | cut -d: -f2; }
echo "bench/attach: $N items, -j 16, 20 KB/s per transfer; storing the list..."
for _ in $(seq 1 1800); do
    [ "$(field total)" = "$N" ] && [ "$(field transfers)" = 16 ] && break
    kill -0 "$SLUICE_PID" 2> /dev/null || die "sluice exited: $(tail -n 3 "$W/engine.err")"
    sleep 0.2
done
[ "$(field total)" = "$N" ] || die "the list was not stored in time"
sleep 2

TM new-session -d -s keep "sleep 3600" || die "tmux cannot start a session"
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SLUICE_PID/stat"; }
# attach NAME [KEYS]: a client in tmux; its stats line (on exit) in $W/NAME.err.
attach_start() {
    TM new-session -d -s "$1" -x 120 -y 40 \
        "env LC_ALL=C.UTF-8 SLUICE_ATTACH_STATS=1 $ROOT/sluice attach -d $W/out 2> $W/$1.err; echo \$? > $W/$1.exit; sleep 600"
}
attach_stop() {
    TM send-keys -t "$1" D
    for _ in $(seq 1 100); do [ -s "$W/$1.exit" ] && break; sleep 0.1; done
    TM kill-session -t "$1" 2> /dev/null
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- first screen ----
: > "$W/first.txt"
for ((i = 1; i <= ATTACHES; i++)); do
    attach_start "f$i"
    for _ in $(seq 1 100); do TM capture-pane -p -t "f$i" | grep -q '^ sluice ' && break; sleep 0.1; done
    attach_stop "f$i"
    grep -o 'first screen [0-9-]* ms' "$W/f$i.err" | grep -o '[0-9-]*' >> "$W/first.txt"
done
FIRST=$(median < "$W/first.txt")
echo "bench/attach: first screen on $N items: $(tr '\n' ' ' < "$W/first.txt")ms (median $FIRST ms)"

# ---- bytes to a client ----
# bytes NAME TABKEY: bytes/s received and sent, steady (from 2 s after the start to the end of
# the window), and over the whole attached time (start-up included).
bytes_rate() {
    local s w
    attach_start "$1"
    sleep 1
    [ -n "$2" ] && TM send-keys -t "$1" "$2"
    sleep "$WINDOW"
    attach_stop "$1"
    s=$(sed -n 's/.*steady: \([0-9]*\) bytes received, \([0-9]*\) sent in \([0-9]*\) ms/\1 \2 \3/p' "$W/$1.err" |
        awk '{ printf "%.0f %.0f", $1 * 1000 / $3, $2 * 1000 / $3 }')
    w=$(sed -n 's/.*; \([0-9]*\) bytes received, \([0-9]*\) sent in \([0-9]*\) ms/\1 \3/p' "$W/$1.err" |
        awk '{ printf "%.0f", $1 * 1000 / $2 }')
    echo "$s $w"
}
read -r B_ALL S_ALL W_ALL < <(bytes_rate ball "")
read -r B_ACT S_ACT W_ACT < <(bytes_rate bact 2)
echo "bench/attach: an attached client (120x40) with 16 active transfers receives, steady: $B_ALL B/s on the All tab, $B_ACT B/s on the Active tab (sends $S_ALL / $S_ACT B/s); with the start-up: $W_ALL / $W_ACT B/s"

# ---- engine CPU, with and without a client ----
: > "$W/cpu-h.txt"
: > "$W/cpu-a.txt"
for ((r = 1; r <= RUNS; r++)); do
    c0=$(cpu_ticks); sleep "$WINDOW"; c1=$(cpu_ticks)
    awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v w="$WINDOW" 'BEGIN { printf "%.2f\n", (b - a) * 100 / hz / w }' >> "$W/cpu-h.txt"
    attach_start "c$r"
    sleep 1
    TM send-keys -t "c$r" 2
    c0=$(cpu_ticks); sleep "$WINDOW"; c1=$(cpu_ticks)
    awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v w="$WINDOW" 'BEGIN { printf "%.2f\n", (b - a) * 100 / hz / w }' >> "$W/cpu-a.txt"
    attach_stop "c$r"
done
CPU_H=$(median < "$W/cpu-h.txt")
CPU_A=$(median < "$W/cpu-a.txt")
echo "bench/attach: engine CPU (% of one core, ${WINDOW} s windows): headless $(tr '\n' ' ' < "$W/cpu-h.txt")(median $CPU_H), one client attached $(tr '\n' ' ' < "$W/cpu-a.txt")(median $CPU_A)"
kill -0 "$SLUICE_PID" 2> /dev/null || echo "bench/attach: the engine is gone: $(tail -n 3 "$W/engine.err")"
kill -TERM "$SLUICE_PID" 2> /dev/null
for _ in $(seq 1 100); do kill -0 "$SLUICE_PID" 2> /dev/null || break; sleep 0.1; done
SLUICE_PID=""

# ---- a busy sync, with and without a client ----
seq -f "http://127.0.0.1:$PORT/b/%05g.bin" 1 "$BUSY" > "$W/busy.txt"
# busy_run MODE RUN: h (headless alone) or a (a client attached from the start).
busy_run() {
    local mode=$1 r=$2 pid
    rm -rf "$W/out-b"
    /usr/bin/time -f '%e %U %S' -o "$W/b-$mode-$r.time" "$ROOT/sluice" -i "$W/busy.txt" \
        -d "$W/out-b" -j 16 --headless < /dev/null > /dev/null 2> "$W/b-$mode-$r.err" &
    pid=$!
    if [ "$mode" = a ]; then
        for _ in $(seq 1 100); do
            "$ROOT/sluice" ctl -d "$W/out-b" status > /dev/null 2>&1 && break
            sleep 0.05
        done
        TM new-session -d -s "b$r" -x 120 -y 40 \
            "env LC_ALL=C.UTF-8 $ROOT/sluice attach -d $W/out-b 2> $W/b$r.err; sleep 600"
        sleep 0.3
        TM send-keys -t "b$r" 2
    fi
    wait "$pid" || echo "bench/attach: busy run $mode $r exited $?"
    [ "$mode" = a ] && TM kill-session -t "b$r" 2> /dev/null
}
for ((r = 1; r <= RUNS; r++)); do
    busy_run h "$r"
    busy_run a "$r"
done
busy_cpu() { for f in "$W"/b-"$1"-*.time; do tail -n 1 "$f"; done | awk '{ printf "%.2f\n", $2 + $3 }'; }
BUSY_H=$(busy_cpu h | median)
BUSY_A=$(busy_cpu a | median)
echo "bench/attach: a busy sync ($BUSY x 50 KB, -j 16): engine CPU s headless $(busy_cpu h | tr '\n' ' ')(median $BUSY_H), with a client $(busy_cpu a | tr '\n' ' ')(median $BUSY_A); $(awk -v h="$BUSY_H" -v a="$BUSY_A" 'BEGIN { printf "%+.1f %%", (a - h) * 100 / h }')"
mkdir -p "$ROOT/build"
{
    echo "items=$N"
    echo "first_screen_ms=$FIRST"
    echo "client_bytes_per_s_all=$B_ALL"
    echo "client_bytes_per_s_active=$B_ACT"
    echo "engine_cpu_pct_headless=$CPU_H"
    echo "engine_cpu_pct_attached=$CPU_A"
    echo "busy_engine_cpu_s_headless=$BUSY_H"
    echo "busy_engine_cpu_s_attached=$BUSY_A"
} > "$RESULTS"
