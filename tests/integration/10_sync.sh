#!/usr/bin/env bash
# A 300-file mixed-size sync from a real nginx: byte-exact, nothing left behind, one request each.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www" "$T/out"
"$TOOLS/gentree" "$T/www" 300 0 3000000 42 > "$T/files.tsv"
start_nginx "$T/www"
cut -f1 "$T/files.tsv" | sed "s|^|$NGINX_URL/|" > "$T/list.txt"

run_sluice -i "$T/list.txt" -d "$T/out" -j 8 --log "$T/events.jsonl"
check_eq "exit status 0" 0 "$RC"
check "every file byte-exact, no .part left" same_tree "$T/www" "$T/out"
check_eq "300 files written" 300 "$(out_find "$T/out" -type f | wc -l)"
check_eq "300 done events in the log" 300 "$(grep -c '"event":"done"' "$T/events.jsonl")"
check_eq "300 start events in the log" 300 "$(grep -c '"event":"start"' "$T/events.jsonl")"
check_eq "one GET per file at the origin" 300 "$(grep -c ' GET ' "$T/nginx-access.log")"
check "log lines carry ts, id, url, path, bytes, duration_ms, retry_count, http_status" \
    grep -q '"ts":"20[0-9-]*T[0-9:.]*Z","event":"done","id":[0-9]*,"url":"http://127.0.0.1:[0-9]*/[^"]*","path":"[^"]*","bytes":[0-9]*,"duration_ms":[0-9]*,"retry_count":0,"http_status":200' "$T/events.jsonl"
check "summary on stderr" grep -q 'finished: 300 done, 0 unchanged, 0 failed' "$T/stderr"
# Connections were reused: far fewer connections than requests.
conns=$(awk '{print $1}' "$T/nginx-access.log" | sort -u | wc -l)
check "connections reused ($conns connections for 300 requests)" test "$conns" -le 40

# The same list again, flat layout into another folder: names are the last segments.
mkdir -p "$T/flat"
head -20 "$T/list.txt" > "$T/list20.txt"
run_sluice -i "$T/list20.txt" -d "$T/flat" --layout flat
check_eq "flat layout exit 0" 0 "$RC"
first=$(head -1 "$T/files.tsv" | cut -f1)
check "flat layout puts files at the top" cmp "$T/www/$first" "$T/flat/$(basename "$first")"
check_eq "flat layout makes no folders" 0 "$(out_find "$T/flat" -type d | wc -l)"

# host layout: DIR/HOST_PORT/path
run_sluice "$NGINX_URL/$first" -d "$T/host" --layout host
check_eq "host layout exit 0" 0 "$RC"
check "host layout path" cmp "$T/www/$first" "$T/host/127.0.0.1_$NGINX_PORT/$first"

# out= and dir= override the name
printf '%s/%s\n  out=renamed/one.bin\n%s/%s\n  dir=sub\n' "$NGINX_URL" "$first" "$NGINX_URL" \
    "$(sed -n 2p "$T/files.tsv" | cut -f1)" > "$T/opts.txt"
run_sluice -i "$T/opts.txt" -d "$T/o2"
check_eq "out=/dir= exit 0" 0 "$RC"
check "out= names the file" cmp "$T/www/$first" "$T/o2/renamed/one.bin"
second=$(sed -n 2p "$T/files.tsv" | cut -f1)
check "dir= prefixes the path" cmp "$T/www/$second" "$T/o2/sub/$second"

# Last-Modified becomes the file's mtime.
check_eq "mtime from Last-Modified" "$(stat -c %Y "$T/www/$first")" "$(stat -c %Y "$T/out/$first")"

# Standard input as the list.
run_sluice_stdin "$T/list20.txt" -i - -d "$T/stdin"
check_eq "-i - exit 0" 0 "$RC"
check_eq "-i - wrote 20 files" 20 "$(out_find "$T/stdin" -type f | wc -l)"
finish
