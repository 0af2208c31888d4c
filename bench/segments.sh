#!/usr/bin/env bash
# Segmented downloads (issue 13; docs/design.md#segmented-downloads), all in the same run, side
# by side:
#   1. one SEG_SIZE file (256 MiB) from the fault origin, each connection throttled to SEG_CONN
#      (4 MiB/s): sluice --segments 1, sluice --segments 8, aria2c -x8 -s8 (goal: sluice 8
#      >= 0.9 x 8 x SEG_CONN and >= aria2c);
#   2. the same with --segments 8 under -r SEG_CAP (20M): the cap at the origin, 1 s windows
#      (goal: each within +-5 %);
#   3. four kill -9 during the segmented download, then the same command: byte-exact, wire
#      bytes / file (goal <= 1.03x);
#   4. a sync of SYNC_SMALL (200) small files plus one SYNC_BIG (1 GiB) file (first in the list)
#      at -j 8, each connection throttled to SYNC_CONN (8 MiB/s): the tail (from the last small
#      file done to the end) with --segments 1, 2 and 8. With 2, the big file starts on two
#      ranges beside the small files, and once they are done work stealing cuts its ranges for
#      the free slots; with 8 its ranges take the slots first and the small files come after.
# Row 1 compares the time until the data is durable, and prints plain wall time too: right after
# each tool, `sync FILE DIR` (fsync of the file and of its folder, nothing else of a shared
# machine) is timed and added. sluice makes the file, the rename and the folder durable before it
# exits; aria2c 1.36 fsyncs the file it wrote in place as it closes it (seen with strace), so for
# both the sync finds little left.
# The machine may be shared: the figures are wall-clock times of one run each. SEG_ROWS picks
# rows (e.g. SEG_ROWS=2 for the capped row alone; all by default); SEG_N the --segments values
# of row 1 ("1 8"; SEG_N=8 skips the minute that one connection takes).
#   SEG_SIZE SEG_CONN SEG_CAP SYNC_SMALL SYNC_BIG SYNC_CONN SEG_ROWS SEG_N
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
_FINISHED=1     # a bench, not a test

SIZE=${SEG_SIZE:-268435456}
CONN=${SEG_CONN:-4194304}
CAPR=${SEG_CAP:-20M}
SMALL=${SYNC_SMALL:-200}
BIG=${SYNC_BIG:-1073741824}
SCONN=${SYNC_CONN:-8388608}
rate_bytes() { case $1 in *M) echo $(( ${1%M} * 1048576 ));; *K) echo $(( ${1%K} * 1024 ));; *) echo "$1";; esac; }
CAP=$(rate_bytes "$CAPR")
ROWS=${SEG_ROWS:-1234}
SEGN=${SEG_N:-1 8}
row() { case $ROWS in *"$1"*) return 0;; *) return 1;; esac; }
now_ms() { date +%s%3N; }
secs() { awk -v t="$1" 'BEGIN {printf "%.2f", t / 1000}'; }
# timed_sync FILE DIR: milliseconds an fsync of FILE and DIR takes now (what the command before
# left unwritten of them).
timed_sync() { local t0; t0=$(now_ms); sync "$1" "$2"; echo $(( $(now_ms) - t0 )); }
mibps() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }'; }
wire() { json_field body_bytes < "$1" | awk '{s += $1} END {print s + 0}'; }

mkdir -p "$T/www"
head -c "$SIZE" /dev/urandom > "$T/www/big.bin"
echo "segments bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine:"
echo "  other work runs beside this; one run each)"
if row 1; then
echo "1. one $((SIZE / 1048576)) MiB file, $((CONN / 1048576)) MiB/s per connection (goal: sluice 8 >= $(awk -v c="$CONN" 'BEGIN {printf "%.1f", 0.9 * 8 * c / 1048576}') MiB/s and >= aria2c, durable)"
start_faultd "$T/www"
url="$FAULT_URL/big.bin?rate=$CONN"
sync
for n in $SEGN; do
    t0=$(now_ms)
    "$SLUICE" "$url" -d "$T/s$n" --segments "$n" -j 8 --headless 2> "$T/s$n.err"
    rc=$?
    t=$(( $(now_ms) - t0 ))
    ts=$(timed_sync "$T/s$n/big.bin" "$T/s$n")
    cmp -s "$T/www/big.bin" "$T/s$n/big.bin" && same=yes || same=no
    printf '   sluice --segments %d   wall %6.2f s, durable %6.2f s (fsync after it %.2f s)  %6s MiB/s  exit %d, byte-exact %s\n' \
        "$n" "$(secs "$t")" "$(secs "$((t + ts))")" "$(secs "$ts")" "$(mibps "$SIZE" "$((t + ts))")" \
        "$rc" "$same"
done
t0=$(now_ms)
aria2c -q -x8 -s8 -k1M --file-allocation=none --allow-overwrite=true -d "$T/a" -o big.bin "$url" \
    > /dev/null 2>&1
rc=$?
t=$(( $(now_ms) - t0 ))
ts=$(timed_sync "$T/a/big.bin" "$T/a")
cmp -s "$T/www/big.bin" "$T/a/big.bin" && same=yes || same=no
printf '   aria2c -x8 -s8         wall %6.2f s, durable %6.2f s (fsync after it %.2f s)  %6s MiB/s  exit %d, byte-exact %s\n' \
    "$(secs "$t")" "$(secs "$((t + ts))")" "$(secs "$ts")" "$(mibps "$SIZE" "$((t + ts))")" "$rc" "$same"
t0=$(now_ms)
openssl dgst -sha256 "$T/www/big.bin" > /dev/null
printf '   (SHA-256 of the file alone with OpenSSL, which sluice computes once it is whole and aria2c\n    does not: %.2f s)\n' \
    "$(awk -v t="$(( $(now_ms) - t0 ))" 'BEGIN {print t / 1000}')"
stop_faultd
fi

if row 2; then
echo "2. the same, --segments 8 under -r $CAPR: bytes leaving the origin per 1 s window (goal: 0.95-1.05x)"
start_faultd "$T/www" --rate-log "$T/rate.log"
url="$FAULT_URL/big.bin?rate=$CONN"
"$SLUICE" "$url" -d "$T/c" --segments 8 -j 8 -r "$CAPR" --headless 2> "$T/c.err"
echo "   exit $?; $(awk -v cap="$CAP" '
    $2 > 0 && first == "" { first = NR }
    $2 > 0 { last = NR }
    { b[NR] = $2 }
    END {
        # whole seconds from the first byte to the last, the last partial one left out
        lo = 1e18; hi = 0; k = 0; tot = 0; all = ""
        for (i = first; i + 9 <= last; i += 10) { s = 0; for (j = 0; j < 10; j++) s += b[i + j]
            if (s < lo) lo = s; if (s > hi) hi = s; k++; tot += s
            all = all sprintf(" %.3f", s / cap) }
        # the first second, 100 ms at a time, relative to a tenth of the cap
        f = ""; for (j = 0; j < 10; j++) f = f sprintf(" %.2f", b[first + j] * 10 / cap)
        printf "mean %.3fx, 1 s windows %.3fx..%.3fx (%d windows)\n", tot / k / cap, lo / cap, hi / cap, k
        printf "   every 1 s window:%s\n   the first second per 100 ms (x cap/10):%s", all, f
    }' "$T/rate.log")"
stop_faultd
fi

if row 3; then
echo "3. four kill -9 during the segmented download, then the same command (goal: wire <= 1.03x)"
start_faultd "$T/www"
url="$FAULT_URL/big.bin?rate=$CONN"
for k in 1 2 3 4; do
    "$SLUICE" "$url" -d "$T/k" --segments 8 -j 8 --headless 2> /dev/null &
    pid=$!
    sleep 1.5
    kill -9 "$pid"
    wait "$pid" 2> /dev/null
done
"$SLUICE" "$url" -d "$T/k" --segments 8 -j 8 --headless 2> "$T/k.err"
rc=$?
cmp -s "$T/www/big.bin" "$T/k/big.bin" && same=yes || same=no
w=$(wire "$FAULT_LOG")
printf '   exit %d, byte-exact %s; wire bytes %d for %d: %.4fx\n' "$rc" "$same" "$w" "$SIZE" \
    "$(awk -v w="$w" -v d="$SIZE" 'BEGIN {print w / d}')"
stop_faultd
fi

if row 4; then
echo "4. sync: $SMALL small files + one $((BIG / 1048576)) MiB file, -j 8, $((SCONN / 1048576)) MiB/s per connection"
mkdir -p "$T/www2"
"$TOOLS/gentree" "$T/www2" "$SMALL" 16384 262144 5 > "$T/small.tsv"
head -c "$BIG" /dev/urandom > "$T/www2/huge.bin"
start_faultd "$T/www2"
{ echo "$FAULT_URL/huge.bin?rate=$SCONN"; tree_urls "$FAULT_URL" "$T/small.tsv" | sed "s/\$/?rate=$SCONN/"; } > "$T/sync.txt"
for n in 1 2 8; do
    t0=$(now_ms)
    "$SLUICE" -i "$T/sync.txt" -d "$T/y$n" --segments "$n" -j 8 --headless --log "$T/y$n.jsonl" 2> "$T/y$n.err"
    rc=$?
    t1=$(now_ms)
    # The tail: from the last small file done to the end of the run.
    last_small=$(grep '"event":"done"' "$T/y$n.jsonl" | grep -v 'huge.bin' | tail -n 1 | json_field ts)
    ls_ms=$(date -d "$last_small" +%s%3N)
    printf '   --segments %d: exit %d, whole sync %6.2f s, tail after the last small file %6.2f s\n' \
        "$n" "$rc" "$(awk -v t="$((t1 - t0))" 'BEGIN {print t / 1000}')" \
        "$(awk -v t="$((t1 - ls_ms))" 'BEGIN {print t / 1000}')"
    echo "$((t1 - ls_ms))" > "$T/tail$n"
done
printf '   the tail is %.1fx shorter with --segments 2 (two ranges planned; stealing cuts more\n' \
    "$(awk -v a="$(cat "$T/tail1")" -v b="$(cat "$T/tail2")" 'BEGIN {print a / b}')"
printf '   for the slots the small files leave), %.1fx with --segments 8\n' \
    "$(awk -v a="$(cat "$T/tail1")" -v b="$(cat "$T/tail8")" 'BEGIN {print a / b}')"
fi
