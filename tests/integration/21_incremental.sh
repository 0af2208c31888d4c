#!/usr/bin/env bash
# Incremental sync: a rerun of a finished sync moves no bodies (304s); when 10 % of the origin
# changes, only those files are fetched again; --overwrite fetches everything.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 100 1000 200000 21 > "$T/files.tsv"
# Origin files dated in the past, so a changed file is clearly newer.
find "$T/www" -type f -exec touch -d '2026-01-01 00:00:00 UTC' {} +
start_nginx "$T/www"
tree_urls "$NGINX_URL" "$T/files.tsv" > "$T/list.txt"
log=$NGINX_ACCESS_LOG

run_sluice -i "$T/list.txt" -d "$T/out" -j 8
check_eq "first sync: exit 0" 0 "$RC"
check "first sync: byte-exact" same_tree "$T/www" "$T/out"
check_eq "first sync: 100 bodies" 100 "$(grep -c ' GET [^ ]* 200 ' "$log")"

: > "$log"
run_sluice -i "$T/list.txt" -d "$T/out" -j 8 --log "$T/ev2.jsonl"
check_eq "rerun: exit 0" 0 "$RC"
check_eq "rerun: no body fetched" 0 "$(grep -c ' GET [^ ]* 200 ' "$log")"
check_eq "rerun: every request was answered 304" "$(wc -l < "$log")" "$(grep -c ' GET [^ ]* 304 ' "$log")"
check_eq "rerun: 100 unchanged events" 100 "$(grep -c '"event":"unchanged"' "$T/ev2.jsonl")"
check "rerun: summary says unchanged" grep -q '0 done, 100 unchanged, 0 failed' "$T/stderr"

# Change 10 files at the origin (new content, newer mtime).
sed -n '1~10p' "$T/files.tsv" | cut -f1 > "$T/changed.txt"
while read -r p; do head -c 5000 /dev/urandom > "$T/www/$p"; done < "$T/changed.txt"
: > "$log"
run_sluice -i "$T/list.txt" -d "$T/out" -j 8
check_eq "10 % changed: exit 0" 0 "$RC"
check_eq "10 % changed: exactly 10 bodies fetched" 10 "$(grep -c ' GET [^ ]* 200 ' "$log")"
check "10 % changed: byte-exact again" same_tree "$T/www" "$T/out"
check "10 % changed: summary" grep -q '10 done, 90 unchanged, 0 failed' "$T/stderr"

# A local file changed by someone else (different size, newer mtime) is not trusted when its
# recorded size is known; without a record it is kept if newer. --overwrite fetches all.
: > "$log"
run_sluice -i "$T/list.txt" -d "$T/out" -j 8 --overwrite
check_eq "--overwrite: exit 0" 0 "$RC"
check_eq "--overwrite: 100 bodies" 100 "$(grep -c ' GET [^ ]* 200 ' "$log")"
finish
