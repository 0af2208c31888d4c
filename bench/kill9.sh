#!/usr/bin/env bash
# Bytes on the wire for a sync interrupted by four kill -9s, relative to the data size (issue 4;
# goal <= 1.05x). 200 x 1 MiB from the fault origin at 1 MB/s per connection, -j 8; a kill every
# ~3 s of running, then the same command to the end. The origin's log counts every body byte sent.
#   KILL_FILES (200) KILL_SIZE (1048576) KILL_J (8) KILL_EVERY (3)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
_FINISHED=1     # a bench, not a test

N=${KILL_FILES:-200}
SIZE=${KILL_SIZE:-1048576}
J=${KILL_J:-8}
EVERY=${KILL_EVERY:-3}
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$N" "$SIZE" "$SIZE" 9 > "$T/files.tsv"
start_faultd "$T/www"
tree_urls "$FAULT_URL" "$T/files.tsv" | sed 's/$/?rate=1000000/' > "$T/list.txt"
data=$(awk -F'\t' '{s += $2} END {print s}' "$T/files.tsv")
echo "kill -9 bench: $N x $SIZE B, -j $J, 1 MB/s per connection, 4 kills ${EVERY} s apart"
for k in 1 2 3 4; do
    "$SLUICE" -i "$T/list.txt" -d "$T/out" -j "$J" --headless 2> /dev/null &
    pid=$!
    sleep "$EVERY"
    kill -9 "$pid"
    wait "$pid" 2> /dev/null
done
"$SLUICE" -i "$T/list.txt" -d "$T/out" -j "$J" --headless 2> "$T/final.err"
rc=$?
ok=yes
same_tree "$T/www" "$T/out" > /dev/null || ok=no
wire=$(json_field body_bytes < "$FAULT_LOG" | awk '{s += $1} END {print s}')
printf 'exit %d, byte-exact: %s; wire bytes %d for %d bytes of data: %.3fx (goal <= 1.05x)\n' \
    "$rc" "$ok" "$wire" "$data" "$(awk -v w="$wire" -v d="$data" 'BEGIN {print w / d}')"
