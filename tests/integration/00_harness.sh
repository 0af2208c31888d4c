#!/usr/bin/env bash
# The test harness itself, driven by curl (not sluice): the tools, nginx and every faultd
# behaviour the other scripts rely on, and the helpers of lib.sh.
source "$(dirname "$0")/../lib.sh"

REQS=0 # requests sent to faultd (not /_stats): the log must have exactly one line each

# fetch NAME URL [curl args]: body in $T/NAME, headers in $T/NAME.h; CODE, CRC (curl's exit).
fetch() {
    local name=$1 url=$2
    shift 2
    CRC=0
    CODE=$(curl -s --max-time 20 -o "$T/$name" -D "$T/$name.h" -w '%{http_code}' "$@" "$url") || CRC=$?
    case $url in "${FAULT_URL:-none}"/* | http://localhost:*) REQS=$((REQS + 1)) ;; esac
}

# hdr NAME HEADER: the header's value in $T/NAME.h
hdr() {
    sed -n "s/^$2: *//Ip" "$T/$1.h" | tr -d '\r' | tail -n 1
}

size_of() {
    stat -c %s "$1"
}

is_power_of_two() {
    local n=$1
    [ "$n" -gt 0 ] || return 1
    while [ $((n % 2)) -eq 0 ]; do n=$((n / 2)); done
    [ "$n" -eq 1 ]
}

# at_least A B: A >= B for decimals (curl's timings)
at_least() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'
}

# ---- freeport and gentree ----

port=$("$TOOLS/freeport")
check "freeport prints a port number" test -n "$port" -a "${port//[0-9]/}" = "" -a "${port:-0}" -gt 0

"$TOOLS/gentree" "$T/www" 40 0 300000 42 > "$T/files.tsv"
"$TOOLS/gentree" "$T/again" 40 0 300000 42 > "$T/again.tsv"
"$TOOLS/gentree" "$T/other" 40 0 300000 43 > "$T/other.tsv"
check_eq "gentree lists 40 files" 40 "$(wc -l < "$T/files.tsv")"
check "gentree: same seed, same listing" cmp "$T/files.tsv" "$T/again.tsv"
check "gentree: same seed, same bytes" diff -r "$T/www" "$T/again"
check "gentree: another seed, other bytes" test -n "$(diff -rq "$T/www" "$T/other")"
sizes_ok=1
while IFS=$'\t' read -r p s; do
    [ "$(size_of "$T/www/$p")" = "$s" ] || sizes_ok=0
    [ "$s" -le 300000 ] || sizes_ok=0
done < "$T/files.tsv"
check_eq "gentree: files have the listed sizes, within bounds" 1 "$sizes_ok"
check "gentree: a 0-byte file" grep -q $'\t0$' "$T/files.tsv"
check "gentree: a MAXSIZE file" grep -q $'\t300000$' "$T/files.tsv"
pow=0
while IFS=$'\t' read -r p s; do is_power_of_two "$s" && [ "$s" -gt 1 ] && pow=$((pow + 1)); done < "$T/files.tsv"
check "gentree: some exact powers of two ($pow)" test "$pow" -ge 2
check "gentree: nested folders" grep -q '^d00/e0[0-9]/' "$T/files.tsv"
# No timing assertion (the machine is shared): the time is printed only.
start=$(date +%s%N)
"$TOOLS/gentree" "$T/many" 5000 0 4096 1 > "$T/many.tsv"
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "gentree: 5000 files" 5000 "$(find "$T/many" -type f | wc -l)"
echo "# gentree wrote 5000 files in $ms ms"
"$TOOLS/gentree" "$T/hw" 24 10 5000 9 --hostile > "$T/hw.tsv"
check "gentree --hostile: names with spaces" grep -q $'^[^\t]*[^\t] ' "$T/hw.tsv"
check "gentree --hostile: names with %" grep -q $'^[^\t]*%' "$T/hw.tsv"
check "gentree --hostile: names with UTF-8" grep -q 'é' "$T/hw.tsv"
check "gentree --hostile: a folder with a space" grep -q '^hostile dir ' "$T/hw.tsv"
check_eq "urlenc" "hostile%20dir%20%C3%A9/a%25b%3F%23%26%2B%27%22.bin" "$(urlenc "hostile dir é/a%b?#&+'\".bin")"

# ---- same_tree ----

cp -a "$T/www" "$T/copy"
check "same_tree: identical trees" same_tree "$T/www" "$T/copy"
mkdir -p "$T/copy/.sluice" && echo x > "$T/copy/.sluice/extra"
check "same_tree: extra files in B are fine" same_tree "$T/www" "$T/copy"
big=$(awk -F'\t' '$2 == 300000 { print $1; exit }' "$T/files.tsv")
small=$(awk -F'\t' '$2 >= 1000 && $2 <= 50000 { print $1; exit }' "$T/files.tsv")
small_size=$(size_of "$T/www/$small")
printf 'X' | dd of="$T/copy/$big" bs=1 seek=1000 conv=notrunc status=none
check "same_tree: one changed byte is found" not same_tree "$T/www" "$T/copy"
cp "$T/www/$big" "$T/copy/$big"
touch "$T/copy/$small.part"
check "same_tree: a leftover .part is found" not same_tree "$T/www" "$T/copy"
rm "$T/copy/$small.part" "$T/copy/$small"
check "same_tree: a missing file is found" not same_tree "$T/www" "$T/copy"

# ---- nginx ----

start_nginx "$T/www"
check "nginx: NGINX_URL is set" test "$NGINX_URL" = "http://127.0.0.1:$NGINX_PORT"
fetch n1 "$NGINX_URL/$big"
check_eq "nginx: 200" 200 "$CODE"
check "nginx: byte-exact" cmp "$T/www/$big" "$T/n1"
check "nginx: access log shows the request" grep -q "^[0-9]* GET /$big 200 300000 \"-\"" "$NGINX_ACCESS_LOG"
fetch n2 "$NGINX_URL/$big" -r 100-199
check_eq "nginx: range 206" 206 "$CODE"
check "nginx: range bytes" cmp <(tail -c +101 "$T/www/$big" | head -c 100) "$T/n2"
check "nginx: access log records the Range header" grep -q " 206 100 \"bytes=100-199\" " "$NGINX_ACCESS_LOG"
etag=$(hdr n1 ETag)
fetch n3 "$NGINX_URL/$big" -H "If-None-Match: $etag"
check_eq "nginx: If-None-Match gives 304" 304 "$CODE"
check "nginx: access log records If-None-Match" grep -q " 304 0 .*\"${etag//\"/\\\\x22}\"" "$NGINX_ACCESS_LOG"
check "nginx: the readiness probe is not logged" not grep -q __ready "$NGINX_ACCESS_LOG"
start_nginx "$T/hw"
hostile=$(awk -F'\t' '/ / { print $1; exit }' "$T/hw.tsv")
fetch n4 "$NGINX_URL/$(urlenc "$hostile")"
check "nginx: a second instance serves a hostile name byte-exact ($hostile)" cmp "$T/hw/$hostile" "$T/n4"
check "nginx: second instance logs to its own file" grep -q " 200 " "$T/nginx2-access.log"

# ---- faultd: plain serving ----

start_faultd "$T/www" --rate-log "$T/rate.log"
check "faultd: FAULT_URL is set" test "$FAULT_URL" = "http://127.0.0.1:$FAULT_PORT"
fetch f1 "$FAULT_URL/$big"
check_eq "faultd: 200" 200 "$CODE"
check "faultd: byte-exact" cmp "$T/www/$big" "$T/f1"
etag=$(hdr f1 ETag)
lm=$(hdr f1 Last-Modified)
check_eq "faultd: Content-Length" 300000 "$(hdr f1 Content-Length)"
check_eq "faultd: ETag is \"<hex size>-<hex mtime>\"" \
    "\"$(printf '%x-%x' 300000 "$(stat -c %Y "$T/www/$big")")\"" "$etag"
check_eq "faultd: Last-Modified is the mtime" "$(TZ=GMT LC_ALL=C date -d "@$(stat -c %Y "$T/www/$big")" '+%a, %d %b %Y %H:%M:%S GMT')" "$lm"
check_eq "faultd: Accept-Ranges" bytes "$(hdr f1 Accept-Ranges)"
fetch f0 "$FAULT_URL/$(awk -F'\t' '$2 == 0 { print $1; exit }' "$T/files.tsv")"
check "faultd: a 0-byte file" test "$CODE" = 200 -a "$(size_of "$T/f0")" = 0
fetch fh "$FAULT_URL/$big" -I
check "faultd: HEAD has the length" test "$CODE" = 200 -a "$(hdr fh Content-Length)" = 300000
check "faultd: ... and no body (curl -I writes only the headers)" cmp "$T/fh" "$T/fh.h"
fetch fk1 "$FAULT_URL/$small?ka=1" -o /dev/null "$FAULT_URL/$small?ka=2" -o /dev/null "$FAULT_URL/$small?ka=3"
REQS=$((REQS + 2))
check_eq "faultd: keep-alive, three requests on one connection" 1 \
    "$(grep '"query":"ka=' "$FAULT_LOG" | json_field conn | sort -u | wc -l)"
fetch fh2 "$FAULT_URL/$(urlenc "d00/f00001.bin")"
check_eq "faultd: percent-encoded path" 200 "$CODE"

# ---- faultd: ranges and validators ----

fetch r1 "$FAULT_URL/$big" -r 100-
check_eq "faultd: Range bytes=100- gives 206" 206 "$CODE"
check "faultd: the right bytes" cmp <(tail -c +101 "$T/www/$big") "$T/r1"
check_eq "faultd: Content-Range" "bytes 100-299999/300000" "$(hdr r1 Content-Range)"
fetch r2 "$FAULT_URL/$big" -r 10-19
check "faultd: bytes=10-19 is 10 bytes" cmp <(tail -c +11 "$T/www/$big" | head -c 10) "$T/r2"
fetch r3 "$FAULT_URL/$big" -r 300000-
check_eq "faultd: unsatisfiable range gives 416" 416 "$CODE"
check_eq "faultd: 416 names the size" "bytes */300000" "$(hdr r3 Content-Range)"
fetch r4 "$FAULT_URL/$big" -r 100- -H "If-Range: $etag"
check_eq "faultd: If-Range with the ETag gives 206" 206 "$CODE"
fetch r5 "$FAULT_URL/$big" -r 100- -H 'If-Range: "other"'
check_eq "faultd: If-Range mismatch gives 200" 200 "$CODE"
check "faultd: ... with the whole file" cmp "$T/www/$big" "$T/r5"
fetch r6 "$FAULT_URL/$big" -r 100- -H "If-Range: $lm"
check_eq "faultd: If-Range with the date gives 206" 206 "$CODE"
fetch r7 "$FAULT_URL/$big" -r 100- -H "If-Range: Mon, 01 Jan 2001 00:00:00 GMT"
check_eq "faultd: If-Range with another date gives 200" 200 "$CODE"
fetch c1 "$FAULT_URL/$big" -H "If-None-Match: $etag"
check_eq "faultd: If-None-Match gives 304" 304 "$CODE"
check "faultd: 304 has no body" test ! -s "$T/c1"
fetch c2 "$FAULT_URL/$big" -H 'If-None-Match: "nope"'
check_eq "faultd: If-None-Match mismatch gives 200" 200 "$CODE"
fetch c3 "$FAULT_URL/$big" -H "If-Modified-Since: $lm"
check_eq "faultd: If-Modified-Since (not newer) gives 304" 304 "$CODE"
fetch c4 "$FAULT_URL/$big" -H "If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT"
check_eq "faultd: If-Modified-Since (older) gives 200" 200 "$CODE"
check_eq "faultd: the log records Range and If-Range" 206 \
    "$(grep '"range":"bytes=100-","if_range":"\\"' "$FAULT_LOG" | json_field status | head -n 1)"

# ---- faultd: faults ----

fetch s1 "$FAULT_URL/$big?status=404"
check_eq "faultd: status=404" 404 "$CODE"
fetch s2 "$FAULT_URL/no/such/file?status=500"
check_eq "faultd: status= does not need the file" 500 "$CODE"
q="fail=2&status=503&retry_after=1"
fetch a1 "$FAULT_URL/$small?$q"
check_eq "faultd: fail=2 status=503, first 503" 503 "$CODE"
check_eq "faultd: ... with Retry-After: 1" 1 "$(hdr a1 Retry-After)"
fetch a2 "$FAULT_URL/$small?$q"
check_eq "faultd: second 503" 503 "$CODE"
fetch a3 "$FAULT_URL/$small?$q"
check_eq "faultd: third 200" 200 "$CODE"
check "faultd: ... byte-exact" cmp "$T/www/$small" "$T/a3"
check "faultd: ... without Retry-After" test -z "$(hdr a3 Retry-After)"
fetch a4 "$FAULT_URL/$small?fail=2&status=503&retry_after=1&other=1"
check_eq "faultd: fail= counts per path+query" 503 "$CODE"
fetch a5 "$FAULT_URL/$small?status=429&retry_after_date=120"
check "faultd: retry_after_date gives an HTTP date" \
    test "$(date -d "$(hdr a5 Retry-After)" +%s 2> /dev/null || echo 0)" -gt "$(($(date +%s) + 100))"

fetch x1 "$FAULT_URL/$big?reset_after=50000"
check "faultd: reset_after, curl reports an error (exit $CRC)" test "$CRC" -ne 0
check "faultd: ... and got fewer bytes ($(size_of "$T/x1"))" test "$(size_of "$T/x1")" -lt 300000
check "faultd: ... the bytes it got are right" cmp -n "$(size_of "$T/x1")" "$T/www/$big" "$T/x1"
fetch x2 "$FAULT_URL/$big?truncate_after=70000"
check_eq "faultd: truncate_after, curl exit 18" 18 "$CRC"
check_eq "faultd: ... after 70000 bytes" 70000 "$(size_of "$T/x2")"
check_eq "faultd: ... with the full Content-Length" 300000 "$(hdr x2 Content-Length)"
fetch x3 "$FAULT_URL/$big?fail=1&reset_after=1000"
fetch x4 "$FAULT_URL/$big?fail=1&reset_after=1000"
check "faultd: fail=1 reset_after: the second request is whole" cmp "$T/www/$big" "$T/x4"
fetch x5 "$FAULT_URL/$big?stall_after=1000" --max-time 2
check_eq "faultd: stall_after, curl times out (28)" 28 "$CRC"
check_eq "faultd: ... after 1000 bytes" 1000 "$(size_of "$T/x5")"
wait_until 5 grep -q '"query":"stall_after=1000".*"complete":false' "$FAULT_LOG"
check "faultd: the stalled request is logged when the client leaves" \
    grep -q '"query":"stall_after=1000".*"fault":"stall".*"complete":false' "$FAULT_LOG"
t=$(curl -s -o /dev/null --max-time 20 -w '%{time_starttransfer}' "$FAULT_URL/$small?delay_ms=400")
REQS=$((REQS + 1))
check "faultd: delay_ms=400 delays the first byte (${t}s)" at_least "$t" 0.35
t=$(curl -s -o "$T/x7" --max-time 20 -w '%{time_total}' "$FAULT_URL/$big?rate=200000")
REQS=$((REQS + 1))
check "faultd: rate=200000 takes 300000 bytes at least 1.2 s (${t}s)" at_least "$t" 1.2
check "faultd: ... byte-exact" cmp "$T/www/$big" "$T/x7"
fetch e1 "$FAULT_URL/$small?etag=changing"
fetch e2 "$FAULT_URL/$small?etag=changing"
check "faultd: etag=changing gives a new ETag each time" test "$(hdr e1 ETag)" != "$(hdr e2 ETag)"
fetch e3 "$FAULT_URL/$small?etag=changing" -r 10- -H "If-Range: $(hdr e2 ETag)"
check_eq "faultd: ... so If-Range never matches" 200 "$CODE"
fetch e4 "$FAULT_URL/$small?rate=fast"
check_eq "faultd: a bad fault value is a 400" 400 "$CODE"

# ---- faultd: hostile input ----

fetch h1 "$FAULT_URL/../../../etc/passwd" --path-as-is
check_eq "faultd: ../ is refused" 404 "$CODE"
fetch h2 "$FAULT_URL/%2e%2e/%2e%2e/etc/passwd"
check_eq "faultd: %2e%2e is refused" 404 "$CODE"
ln -s /etc "$T/www/link"
fetch h3 "$FAULT_URL/link/passwd"
check_eq "faultd: a symlink out of the root is refused" 404 "$CODE"
rm "$T/www/link"
garbage() {
    local reply=""
    exec 3<> "/dev/tcp/127.0.0.1/$FAULT_PORT" || return 1
    printf '%s' "$1" >&3
    IFS= read -r -t 5 reply <&3
    exec 3>&-
    printf '%s\n' "${reply%$'\r'}"
}
check_eq "faultd: garbage gives 400" "HTTP/1.1 400 Bad Request" "$(garbage $'garbage\r\n\r\n')"
check_eq "faultd: oversized headers give 431" "HTTP/1.1 431 Request Header Fields Too Large" \
    "$(garbage "GET / HTTP/1.1"$'\r\n'"X: $(head -c 20000 /dev/zero | tr '\0' a)"$'\r\n\r\n')"
REQS=$((REQS + 2))
fetch h4 "$FAULT_URL/$small"
check_eq "faultd: still serving after hostile input" 200 "$CODE"

# ---- faultd: connections and hosts ----

curl -s --max-time 5 "$FAULT_URL/_stats?reset=1" > /dev/null
pids=()
for i in 1 2 3; do
    curl -s -o /dev/null --max-time 20 "$FAULT_URL/$small?delay_ms=1500&p=$i" &
    pids+=($!)
done
for i in 1 2; do
    curl -s -o /dev/null --max-time 20 "http://localhost:$FAULT_PORT/$small?delay_ms=1500&l=$i" &
    pids+=($!)
done
wait "${pids[@]}"
REQS=$((REQS + 5))
stats=$(faultd_stats)
max_conns=$(printf '%s' "$stats" | sed -n 's/.*"max_conns":\([0-9]*\).*/\1/p')
check "faultd: /_stats max_conns sees 5 parallel connections ($stats)" test "${max_conns:-0}" -ge 5
check "faultd: max_host_active for 127.0.0.1" grep -q "\"127.0.0.1:$FAULT_PORT\":3" <<< "$stats"
check "faultd: max_host_active for localhost, a separate host" grep -q "\"localhost:$FAULT_PORT\":2" <<< "$stats"
check_eq "faultd: the log has host_active per Host" "1 2" \
    "$(grep '"query":"delay_ms=1500&l=' "$FAULT_LOG" | json_field host_active | sort -n | xargs)"
check "faultd: /_stats counts requests and body bytes" grep -q '"requests":5,"body_bytes":'"$((5 * small_size))"',' <<< "$stats"

# ---- the log and its helpers ----

check_eq "faultd: one log line per request" "$REQS" "$(wc -l < "$FAULT_LOG")"
check_eq "faultd: /_stats is not logged" 0 "$(grep -c '"path":"/_stats"' "$FAULT_LOG")"
check "faultd: every line has the fields" \
    not grep -v '^{"ts_ms":[0-9]*,"conn":[0-9]*,"method":.*,"path":.*,"query":.*,"host":.*,"range":.*,"if_range":.*,"if_none_match":.*,"if_modified_since":.*,"status":[0-9]*,"body_bytes":[0-9]*,"fault":.*,"conns":[0-9]*,"host_active":[0-9]*}$' "$FAULT_LOG"
if command -v python3 > /dev/null; then
    check "faultd: the log is valid JSON" python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' < "$FAULT_LOG"
fi
check_eq "faultd_count: the fail=2 requests of $small" 3 "$(faultd_lines "/$small" | grep -c '"query":"fail=2&status=503&retry_after=1"')"
check_eq "faultd_count: no such path" 0 "$(faultd_count '/no-such-path')"
check_eq "faultd_count: a regex" "$REQS" "$(($(faultd_count '.') + 2))" # the 400 and 431 have no path
check_eq "json_field: fault of the reset" reset \
    "$(faultd_lines "/$big" | grep '"query":"reset_after=50000"' | json_field fault)"
check "faultd: --rate-log has 100 ms windows" grep -q '^[0-9]*00 [0-9]*$' "$T/rate.log"
check "faultd: --rate-log counted bytes" test "$(awk '{ s += $2 } END { print s + 0 }' "$T/rate.log")" -gt 300000

# ---- restart and SIGTERM ----

old_port=$FAULT_PORT
lines=$(wc -l < "$FAULT_LOG")
curl -s -o /dev/null --max-time 10 "$FAULT_URL/$big?stall_after=10&bye=1" &
cpid=$!
faultd_conns() { faultd_stats | sed -n 's/.*"conns":\([0-9]*\).*/\1/p'; }
wait_until 5 output_is 1 faultd_conns
stop_faultd
check "faultd: exits on SIGTERM" not kill -0 "$FAULT_PID"
wait "$cpid"
check "faultd: a request cut by SIGTERM is logged" grep -q '"query":"stall_after=10&bye=1".*"complete":false' "$FAULT_LOG"
restart_faultd
check_eq "restart_faultd: same port" "$old_port" "$FAULT_PORT"
fetch z1 "$FAULT_URL/$small"
check_eq "restart_faultd: serving again" 200 "$CODE"
check_eq "restart_faultd: the log is appended" $((lines + 2)) "$(wc -l < "$FAULT_LOG")"

finish
