#!/usr/bin/env bash
# The terminal UI's cost, on its own: `bash bench/tui.sh` (make bench runs it too).
#   A) CPU of a 2,000-file sync from nginx (-j 16, no cap) with the TUI (in tmux) against
#      --headless: medians over BENCH_RUNS runs, the two modes alternated.
#   B) Bytes sluice writes to the terminal per second while 16 transfers are active (the fault
#      origin holds each at 100 KB/s), measured with tmux pipe-pane over a 10 s window, for the
#      All and Active tabs at 120x40 and the Active tab at 80x24.
# Prints the figures and writes them as key=value lines to build/bench-tui.txt.
#
# Environment: BENCH_RUNS=3, BENCH_TUI_FILES=2000, BENCH_TUI_WINDOW=10 (seconds), SLUICE=./sluice
# Exit status: 0 when every run finished, 1 when one did not, 2 on a setup error.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
RUNS=${BENCH_RUNS:-3}
NFILES=${BENCH_TUI_FILES:-2000}
WINDOW=${BENCH_TUI_WINDOW:-10}
RESULTS_FILE="$ROOT/build/bench-tui.txt"

die() { echo "bench/tui: $*" >&2; exit 2; }

unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ "$NFILES" =~ ^[1-9][0-9]*$ ]] || die "BENCH_TUI_FILES must be a positive integer"
[[ "$WINDOW" =~ ^[1-9][0-9]*$ ]] || die "BENCH_TUI_WINDOW must be a positive integer"
[ -x "${SLUICE:-$ROOT/sluice}" ] || die "${SLUICE:-./sluice} is missing (make sluice)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
command -v tmux > /dev/null || die "tmux is missing (make deps)"
for t in gentree faultd freeport; do
    [ -x "$ROOT/build/tools/$t" ] || die "build/tools/$t is missing (make tools)"
done

# tests/lib.sh: servers, $T and the cleanup of both (its TAP bookkeeping is not used).
source "$ROOT/tests/lib.sh" || die "sourcing tests/lib.sh failed"
_FINISHED=1
set +e
SOCK="sluice-bench-tui-$$"
on_exit 'tmux -L "$SOCK" kill-server > /dev/null 2>&1; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"'
TM() { tmux -L "$SOCK" -f /dev/null "$@"; }
export XDG_CONFIG_HOME="$T/xdg"     # no user sluice.conf or themes
# One session lives throughout, so the tmux server never exits between runs (a new-session racing
# a server on its way out fails).
TM new-session -d -s keep "sleep 3600" || die "tmux cannot start a session"
FAILED=0

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- A) CPU of a sync
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$NFILES" 1000 200000 5 > "$T/files.tsv" || die "gentree failed"
start_nginx "$T/www"
cut -f1 "$T/files.tsv" | sed "s|^|$NGINX_URL/|" > "$T/list.txt"

# headless RUN: "wall user sys" in $T/h-RUN.time
run_headless() {
    rm -rf "$T/out-h"
    /usr/bin/time -f '%e %U %S' -o "$T/h-$1.time" "$SLUICE" -i "$T/list.txt" -d "$T/out-h" \
        -j 16 --headless < /dev/null > /dev/null 2> "$T/h-$1.err"
    if [ "$?" -ne 0 ]; then
        echo "bench/tui: headless run $1 failed:"
        tail -n 5 "$T/h-$1.err" | sed 's/^/    /'
        FAILED=1
    fi
}

# tui RUN: the same sync in a 120x40 tmux terminal; q once the header says it is done.
run_tui() {
    local r=$1 i
    rm -rf "$T/out-t" "$T/t-$r.exit"
    cat > "$T/t-$r.sh" <<EOF
cd "$T"
/usr/bin/time -f '%e %U %S' -o "$T/t-$r.time" "$SLUICE" -i "$T/list.txt" -d "$T/out-t" -j 16 2> "$T/t-$r.err"
echo \$? > "$T/t-$r.exit"
exec sleep 600
EOF
    TM new-session -d -s "t$r" -x 120 -y 40 "env LC_ALL=C.UTF-8 bash $T/t-$r.sh" || die "tmux failed"
    for ((i = 0; i < 1200; i++)); do
        TM capture-pane -p -t "t$r" 2> /dev/null | grep -q 'ETA done' && break
        sleep 0.1
    done
    TM send-keys -t "t$r" q
    for ((i = 0; i < 300; i++)); do
        [ -s "$T/t-$r.exit" ] && break
        sleep 0.1
    done
    TM kill-session -t "t$r" 2> /dev/null
    if [ "$(cat "$T/t-$r.exit" 2> /dev/null)" != 0 ]; then
        echo "bench/tui: TUI run $r exited $(cat "$T/t-$r.exit" 2> /dev/null || echo '(no status)'):"
        tail -n 5 "$T/t-$r.err" | sed 's/^/    /'
        FAILED=1
    fi
}

echo "bench/tui: A) $NFILES files from nginx, -j 16, no cap; $RUNS runs each, headless and TUI alternated"
for ((r = 1; r <= RUNS; r++)); do
    run_headless "$r"
    run_tui "$r"
done
# time(1) writes "wall user sys" as the last line (a failed command adds a line before it).
times() { for f in "$T"/"$1"-*.time; do [ -s "$f" ] && tail -n 1 "$f"; done; }
H_CPU=$(times h | awk '{ printf "%.2f\n", $2 + $3 }' | median)
T_CPU=$(times t | awk '{ printf "%.2f\n", $2 + $3 }' | median)
H_USER=$(times h | awk '{ print $2 }' | median)
T_USER=$(times t | awk '{ print $2 }' | median)
H_WALL=$(times h | awk '{ print $1 }' | median)
T_WALL=$(times t | awk '{ print $1 }' | median)

# ---------------------------------------------------------------- B) bytes to the terminal
mkdir -p "$T/big"
"$TOOLS/gentree" "$T/big" 24 8000000 8000000 9 > "$T/big.tsv" || die "gentree failed"
start_faultd "$T/big"
cut -f1 "$T/big.tsv" | sed "s|^|$FAULT_URL/|; s|\$|?rate=100000|" > "$T/slow.txt"

# term_rate NAME COLS ROWS TABKEY: bytes/s written to the terminal over the window, in RATE_BPS.
term_rate() {
    local name=$1 cols=$2 rows=$3 key=$4 i s0 s1 t0 t1
    rm -rf "$T/out-$name"
    TM new-session -d -s "$name" -x "$cols" -y "$rows" \
        "sleep 0.5; cd $T && LC_ALL=C.UTF-8 exec $SLUICE -i $T/slow.txt -d $T/out-$name -j 16 2> $T/$name.err" ||
        die "tmux failed"
    TM pipe-pane -o -t "$name" "cat > $T/$name.pty"
    for ((i = 0; i < 300; i++)); do
        TM capture-pane -p -t "$name" 2> /dev/null | grep -q 'conns 16/16' && break
        sleep 0.1
    done
    TM send-keys -t "$name" "$key"
    sleep 2     # past the first frames of the new tab
    s0=$(stat -c %s "$T/$name.pty") t0=$(date +%s.%N)
    sleep "$WINDOW"
    s1=$(stat -c %s "$T/$name.pty") t1=$(date +%s.%N)
    TM capture-pane -p -t "$name" > "$T/$name.screen"
    grep -q 'conns 16/16' "$T/$name.screen" ||
        { echo "bench/tui: $name: 16 transfers were not all active during the window"; FAILED=1; }
    TM send-keys -t "$name" q y
    sleep 1
    TM kill-session -t "$name" 2> /dev/null
    RATE_BPS=$(awk -v a="$s0" -v b="$s1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", (b - a) / (t1 - t0) }')
}

echo "bench/tui: B) 16 transfers held at 100 KB/s each; terminal output over ${WINDOW} s"
term_rate wall 120 40 1
B_ALL=$RATE_BPS
term_rate wact 120 40 2
B_ACT=$RATE_BPS
term_rate w80 80 24 2
B_ACT80=$RATE_BPS

# ---------------------------------------------------------------- report
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%+.0f%%", (a - b) * 100 / b; else print "n/a" }'; }
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", a - b }'; }
echo
echo "TUI cost (medians of $RUNS runs)"
echo "  A) $NFILES-file sync from nginx, -j 16, no cap"
printf '     headless   wall %6ss   CPU %6ss (user %ss)\n' "$H_WALL" "$H_CPU" "$H_USER"
printf '     TUI        wall %6ss   CPU %6ss (user %ss)\n' "$T_WALL" "$T_CPU" "$T_USER"
printf '     the TUI costs %ss CPU (%s), %ss user CPU (%s)\n' "$(diff_s "$T_CPU" "$H_CPU")" \
    "$(pct "$T_CPU" "$H_CPU")" "$(diff_s "$T_USER" "$H_USER")" "$(pct "$T_USER" "$H_USER")"
printf '     every run, user+sys s: headless %s; TUI %s\n' \
    "$(times h | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $2 + $3 }')" \
    "$(times t | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $2 + $3 }')"
echo "     (the TUI's wall time includes up to a second between the end and the q key)"
echo "  B) bytes written to the terminal, 16 active transfers"
printf '     120x40, All tab      %8s B/s\n' "$B_ALL"
printf '     120x40, Active tab   %8s B/s\n' "$B_ACT"
printf '     80x24,  Active tab   %8s B/s\n' "$B_ACT80"
mkdir -p "$ROOT/build"
{
    echo "tui_files=$NFILES"
    echo "tui_headless_wall_s=$H_WALL"
    echo "tui_headless_cpu_s=$H_CPU"
    echo "tui_tui_wall_s=$T_WALL"
    echo "tui_tui_cpu_s=$T_CPU"
    echo "tui_headless_user_s=$H_USER"
    echo "tui_tui_user_s=$T_USER"
    echo "tui_term_bytes_per_s_120x40_all=$B_ALL"
    echo "tui_term_bytes_per_s_120x40_active=$B_ACT"
    echo "tui_term_bytes_per_s_80x24_active=$B_ACT80"
} > "$RESULTS_FILE"
echo "  (also in ${RESULTS_FILE#"$ROOT"/})"
exit "$FAILED"
