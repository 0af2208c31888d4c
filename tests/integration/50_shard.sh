#!/usr/bin/env bash
# --shard K/N (docs/scale.md#sharding): three workers given the same list, each with its own -d,
# together fetch every file exactly once (counted in nginx's access log); each says which shard
# it took (summary line, ctl status, metrics); index/N takes K from JOB_COMPLETION_INDEX; bad
# specs are refused before anything is fetched. Nothing is timed.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 60 1000 20000 7 > "$T/files.tsv"
start_nginx "$T/www"
tree_urls "$NGINX_URL" "$T/files.tsv" > "$T/list.txt"
nfiles=$(wc -l < "$T/files.tsv")

pids=()
for k in 0 1 2; do
    timeout -k 5 120 "$SLUICE" --headless --shard "$k/3" -i "$T/list.txt" -d "$T/out$k" -j 4 \
        < /dev/null > "$T/w$k.out" 2> "$T/w$k.err" &
    pids+=($!)
    _PIDS+=($!)
done
for k in 0 1 2; do
    rc=0
    wait "${pids[$k]}" || rc=$?
    check_eq "worker $k/3: exit 0" 0 "$rc"
    check "worker $k/3: the summary names its shard" \
        grep -q "^sluice: finished: .*; shard $k/3\$" "$T/w$k.err"
done

# The origin saw each file requested once, by one worker or another.
awk '$2 == "GET" && $4 == 200 {print $3}' "$NGINX_ACCESS_LOG" | sort > "$T/got.txt"
check_eq "origin: $nfiles GETs in all" "$nfiles" "$(wc -l < "$T/got.txt")"
check_eq "origin: no file twice" "" "$(uniq -d "$T/got.txt")"
check_eq "origin: every file of the list" "$(sed "s|^$NGINX_URL||" "$T/list.txt" | sort)" \
    "$(cat "$T/got.txt")"
# Each worker took a part (not all, not nothing), and the parts together are the tree.
mkdir -p "$T/all"
for k in 0 1 2; do
    n=$(out_find "$T/out$k" -type f | wc -l)
    check "worker $k/3 took some files but not all ($n)" test "$n" -gt 0 -a "$n" -lt "$nfiles"
    cp -a "$T/out$k/." "$T/all/"
done
rm -rf "$T/all/.sluice"
check "the three parts make the whole tree" same_tree "$T/www" "$T/all"

# A session keeps its shard: run again with the same one, nothing is fetched again; with another
# one (or none), refused before anything is requested, naming both.
: > "$NGINX_ACCESS_LOG"
run_sluice --headless --shard 0/3 -i "$T/list.txt" -d "$T/out0"
check_eq "worker 0/3 again: exit 0" 0 "$RC"
check_eq "... nothing fetched again" 0 "$(awk '$2 == "GET" && $4 == 200' "$NGINX_ACCESS_LOG" | wc -l)"
: > "$NGINX_ACCESS_LOG"
run_sluice --headless --shard 1/3 -i "$T/list.txt" -d "$T/out0"
check_eq "worker 0/3's folder with --shard 1/3: exit 2" 2 "$RC"
check "... says the session is shard 0/3's" \
    grep -q 'this session holds the items of shard 0/3, not of shard 1/3' "$T/stderr"
run_sluice --headless -i "$T/list.txt" -d "$T/out0"
check_eq "... and without --shard: exit 2" 2 "$RC"
check_eq "nothing requested by the refused runs" 0 "$(grep -c ' GET ' "$NGINX_ACCESS_LOG")"

# index/N: what an Indexed Job's pod 1 takes is what 1/3 took.
: > "$NGINX_ACCESS_LOG"
JOB_COMPLETION_INDEX=1 run_sluice --headless --shard index/3 -i "$T/list.txt" -d "$T/idx"
check_eq "index/3 with JOB_COMPLETION_INDEX=1: exit 0" 0 "$RC"
check_eq "index/3 took exactly the files of 1/3" \
    "$(cd "$T/out1" && find . -path ./.sluice -prune -o -type f -print | sort)" \
    "$(cd "$T/idx" && find . -path ./.sluice -prune -o -type f -print | sort)"

# Refused before anything is fetched: exit 2 and a message.
: > "$NGINX_ACCESS_LOG"
run_sluice --headless --shard 3/3 -i "$T/list.txt" -d "$T/bad1"
check_eq "--shard 3/3: exit 2" 2 "$RC"
check "--shard 3/3: says K is out of range" grep -q 'shard.*K: ' "$T/stderr"
env -u JOB_COMPLETION_INDEX timeout -k 5 60 "$SLUICE" --headless --shard index/3 -i "$T/list.txt" \
    -d "$T/bad2" < /dev/null > "$T/stdout" 2> "$T/stderr" && RC=0 || RC=$?
check_eq "--shard index/3 without JOB_COMPLETION_INDEX: exit 2" 2 "$RC"
check "... says the variable is not set" grep -q 'JOB_COMPLETION_INDEX is not set' "$T/stderr"
check_eq "nothing was requested by refused runs" 0 "$(grep -c ' GET ' "$NGINX_ACCESS_LOG")"

# A running worker says which shard in `ctl status` and `ctl metrics`. It runs under a low cap
# so that it is still there to ask.
mkdir -p "$T/www2"
for i in 1 2 3 4 5 6; do head -c 400000 /dev/urandom > "$T/www2/f$i.bin"; done
start_nginx "$T/www2"
for i in 1 2 3 4 5 6; do echo "$NGINX_URL/f$i.bin"; done > "$T/list2.txt"
sluice_bg --headless --shard 0/1 -r 64K -i "$T/list2.txt" -d "$T/live"
status_has_shard() {
    timeout -k 5 30 "$SLUICE" ctl -d "$T/live" status < /dev/null > "$T/ctl.out" 2> /dev/null &&
        [ "$(json_field shard < "$T/ctl.out")" = "0/1" ]
}
check "ctl status: \"shard\":\"0/1\"" wait_until 30 status_has_shard
timeout -k 5 30 "$SLUICE" ctl -d "$T/live" metrics < /dev/null > "$T/metrics.out" 2>&1
check "ctl metrics: sluice_shard{index=\"0\",count=\"1\"} 1" \
    grep -qx 'sluice_shard{index="0",count="1"} 1' "$T/metrics.out"
kill -TERM "$SLUICE_PID"
wait_sluice 30
check_eq "the live worker stops on TERM with exit 3" 3 "$RC"

finish
