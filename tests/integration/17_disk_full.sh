#!/usr/bin/env bash
# test: long
# A full disk pauses everything, keeps every .part, fails nothing, and the sync completes once
# there is room again (a real small tmpfs made by the test, grown with remount). While the disk
# stays full the origin sees at most one probe per retry, not a burst of bodies thrown away.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 6 1000000 1000000 9 > "$T/files.tsv"
small_fs "$T/small" 3m
start_faultd "$T/www"
tree_urls "$FAULT_URL" "$T/files.tsv" | sed 's/$/?rate=3000000/' > "$T/list.txt"
# The session lives elsewhere: this tmpfs is meant to fill up with the downloads alone.
sluice_bg -i "$T/list.txt" -d "$T/small/out" -j 3 --headless --log "$T/ev.jsonl" --session "$T/s.db"
check "disk full is reported" wait_until 60 grep -q 'disk full' "$T/bg.stderr"
check "nothing failed while the disk was full" not grep -q '"event":"failed"' "$T/ev.jsonl"
check ".part files are kept" test -n "$(find "$T/small/out" -name '*.part' -size +0)"
mount -o remount,size=64m "$T/small"
wait_sluice 90
check_eq "after space is freed: exit 0" 0 "$RC"
check "after space is freed: byte-exact" same_tree "$T/www" "$T/small/out"
check "no failed events at all" not grep -q '"event":"failed"' "$T/ev.jsonl"

# Many small files at -j 8: they arrive whole faster than the writer reports the disk full, so
# each retry used to start a fresh burst of requests whose bodies were all thrown away.
mkdir -p "$T/www2"
"$TOOLS/gentree" "$T/www2" 60 256K 256K 3 > "$T/files2.tsv"
small_fs "$T/small2" 2m
start_faultd "$T/www2"
tree_urls "$FAULT_URL" "$T/files2.tsv" > "$T/list2.txt"
sluice_bg -i "$T/list2.txt" -d "$T/small2/out" -j 8 --headless --log "$T/ev2.jsonl" \
    --session "$T/s2.db"
check "small files: disk full is reported" wait_until 60 grep -q 'disk full' "$T/bg.stderr"
# What was in flight when the disk filled settles first; then two whole retry periods.
sleep 2
served() { faultd_lines . | json_field body_bytes | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'; }
read -r n0 b0 <<< "$(served)"
sleep 21
read -r n1 b1 <<< "$(served)"
reqs=$((n1 - n0))
bytes=$((b1 - b0))
echo "# while full for 21 s: $reqs requests, $bytes body bytes served (before: $n0, $b0)"
check "while full: at most one probe per retry (got $reqs requests in 21 s)" test "$reqs" -le 2
check "while full: at most one body's worth served (got $bytes bytes)" test "$bytes" -le $((2 * 262144))
check "while full: no empty .part left" test -z "$(find "$T/small2/out" -name '*.part' -size 0)"
check "while full: nothing failed" not grep -q '"event":"failed"' "$T/ev2.jsonl"
mount -o remount,size=64m "$T/small2"
wait_sluice 90
check_eq "small files, after space is freed: exit 0" 0 "$RC"
check "small files, after space is freed: byte-exact" same_tree "$T/www2" "$T/small2/out"
finish
