#!/usr/bin/env bash
# test: long
# Segmented downloads (docs/design.md#segmented-downloads): --segments N fetches a file that
# accepts ranges as up to N ranges on N connections, byte-exact; free slots at the tail cut the
# largest range again (work stealing); an origin that ignores ranges, or whose validator changes,
# sends the file back to one connection from zero and says so; a truncated range is fetched
# again alone from where it broke off; kill -9 resumes every range where it was on disk; the
# SHA-256 of the whole file is checked against checksum=.
source "$(dirname "$0")/../lib.sh"

MIB=1048576
mkdir -p "$T/www"
for f in a b c d e f g h p q r; do head -c $((16 * MIB)) /dev/urandom > "$T/www/$f.bin"; done
head -c $((24 * MIB)) /dev/urandom > "$T/www/k.bin"
start_faultd "$T/www"
seg=(--segments 4 -j 4 --min-segment 1M --retry-wait 50ms,200ms --headless)
# Ranges of 4 MiB that are never cut again (a cut needs twice --min-segment left): exact counts.
nosteal=(--segments 4 -j 4 --min-segment 4M --retry-wait 50ms,200ms --headless)
wire() { faultd_lines "^/$1\$" | json_field body_bytes | awk '{s += $1} END {print s}'; }
sq() { sqlite3 -cmd '.timeout 5000' "$1/.sluice/session.db" "$2"; }
# ranges PATH: the Range header of each request for PATH, in log order ("null" for none).
ranges() { faultd_lines "^/$1\$" | json_field range; }
max_conns() { faultd_lines "^/$1\$" | json_field conns | sort -n | tail -n 1; }

# --- ranges honoured: four ranges on four connections, written in place ---
run_sluice "$FAULT_URL/a.bin?rate=4000000" -d "$T/o1" "${nosteal[@]}" --log "$T/o1.jsonl"
check_eq "honoured: exit 0" 0 "$RC"
check "honoured: byte-exact" cmp "$T/www/a.bin" "$T/o1/a.bin"
# (The log has each request when it ends: the first one, cut at its range's end, may come last.)
check_eq "honoured: one request for the whole file" 1 "$(ranges a.bin | grep -c null)"
check_eq "honoured: then three closed ranges" \
    "bytes=4194304-8388607 bytes=8388608-12582911 bytes=12582912-16777215" \
    "$(ranges a.bin | grep -v null | sort -t= -k2 -n | tr '\n' ' ' | sed 's/ $//')"
check "honoured: the origin saw four connections at once" test "$(max_conns a.bin)" -ge 4
check_eq "honoured: the 206 answers carried exactly their ranges" $((12 * MIB)) \
    "$(faultd_lines '^/a.bin$' | grep '"status":206' | json_field body_bytes | awk '{s += $1} END {print s}')"
# The first request asked for the whole file: what its origin had sent past the cut when the
# connection stopped there is the only byte sent twice.
check "honoured: wire bytes within size + the first request's overshoot" test "$(wire a.bin)" -le $((16 * MIB + MIB))
check_eq "honoured: every range sent If-Range" 3 "$(faultd_lines '^/a.bin$' | grep -c '"if_range":"\\"')"
check_eq "honoured: done with its SHA-256" \
    "$(sha256sum < "$T/www/a.bin" | cut -c1-64)" "$(sq "$T/o1" "SELECT lower(hex(sha256)) FROM items")"
check_eq "honoured: the session keeps no ranges of a finished file" 0 "$(sq "$T/o1" "SELECT count(*) FROM segments")"
check "honoured: no .part left" not test -e "$T/o1/a.bin.part"

# --- nginx: the same against a real server ---
start_nginx "$T/www"
run_sluice "$NGINX_URL/b.bin" -d "$T/o2" "${seg[@]}"
check_eq "nginx: exit 0" 0 "$RC"
check "nginx: byte-exact" cmp "$T/www/b.bin" "$T/o2/b.bin"
check "nginx: ranges answered 206" test "$(grep -c '/b.bin 206 ' "$NGINX_ACCESS_LOG")" -ge 1

# --- work stealing: two ranges planned, the free slots cut them further ---
run_sluice "$FAULT_URL/c.bin?rate=2000000" -d "$T/o3" --segments 2 -j 6 --min-segment 1M --headless
check_eq "steal: exit 0" 0 "$RC"
check "steal: byte-exact" cmp "$T/www/c.bin" "$T/o3/c.bin"
check "steal: more than the two planned ranges were asked for" test "$(ranges c.bin | grep -vc null)" -ge 3
check "steal: up to -j connections at once" test "$(max_conns c.bin)" -ge 4
check "steal: wire bytes within size + what the cut connections had in flight" \
    test "$(wire c.bin)" -le $((16 * MIB + 6 * MIB))

# --- --per-host counts each connection of a segmented file ---
run_sluice "$FAULT_URL/c.bin?rate=2000000&perhost" -d "$T/o3b" --segments 4 -j 8 --per-host 2 --min-segment 4M --headless
check_eq "per-host: exit 0" 0 "$RC"
check "per-host: byte-exact" cmp "$T/www/c.bin" "$T/o3b/c.bin"
check "per-host: fetched in ranges" test "$(faultd_lines '^/c.bin$' | grep -c perhost)" -ge 3
# At the origin, from each request's start and end: how many ran at once. A connection sluice
# stopped at its range's end (the first request, asked for the whole file) is seen closed when
# the origin next writes to it, after sluice closed it and started the next range: such a stop
# is not counted within two seconds of its end (one second was too short once, on a machine
# loaded by five other builds: the origin's next write came late).
overlap() {
    faultd_lines '^/c.bin$' | grep perhost | while read -r l; do
        echo "$(echo "$l" | json_field ts_ms) $(echo "$l" | json_field dur_ms) $(echo "$l" | json_field complete)"
    done | awk '{ e[NR] = $1; s[NR] = $1 - $2; c[NR] = $3 }
        END { m = 0
            for (i = 1; i <= NR; i++) { n = 1
                for (j = 1; j <= NR; j++) if (j != i && s[j] <= s[i] && s[i] < e[j] &&
                    !(c[j] == "false" && e[j] - s[i] < 2000)) n++
                if (n > m) m = n }
            print m }'
}
check_eq "per-host: never more than 2 requests at once at the origin" 2 "$(overlap)"

# --- ranges ignored: a 200 to a range request; back to one connection from zero ---
run_sluice "$FAULT_URL/d.bin?ranges=ignore" -d "$T/o4" "${seg[@]}" --log "$T/o4.jsonl"
check_eq "ignored: exit 0" 0 "$RC"
check "ignored: byte-exact" cmp "$T/www/d.bin" "$T/o4/d.bin"
check "ignored: said so" grep -q 'd.bin: falling back to one connection from zero: HTTP 200 to a range request' "$T/stderr"
check "ignored: the last request is the whole file, complete" \
    test "$(faultd_lines '^/d.bin$' | tail -n 1 | json_field range)-$(faultd_lines '^/d.bin$' | tail -n 1 | json_field complete)" = null-true
check "ignored: no range request after the fallback" \
    test "$(ranges d.bin | tail -n 1)" = null

# --- the validator changes mid-way: If-Range does not match, the file starts over ---
run_sluice "$FAULT_URL/e.bin?etag=changing" -d "$T/o5" "${seg[@]}"
check_eq "validator changed: exit 0" 0 "$RC"
check "validator changed: byte-exact" cmp "$T/www/e.bin" "$T/o5/e.bin"
check "validator changed: said so" grep -q 'e.bin: falling back to one connection from zero' "$T/stderr"

# --- a truncated range is fetched again alone, from where it broke off ---
run_sluice "$FAULT_URL/f.bin?truncate_after=1000000&fail=1&rate=4000000" -d "$T/o6" "${nosteal[@]}" --log "$T/o6.jsonl"
check_eq "truncated: exit 0" 0 "$RC"
check "truncated: byte-exact" cmp "$T/www/f.bin" "$T/o6/f.bin"
check_eq "truncated: the first range resumed at the break, alone; the others asked once each" \
    "bytes=1000000-4194303 bytes=4194304-8388607 bytes=8388608-12582911 bytes=12582912-16777215" \
    "$(ranges f.bin | grep -v null | sort -t= -k2 -n | tr '\n' ' ' | sed 's/ $//')"
check_eq "truncated: five requests in all" 5 "$(faultd_count '^/f.bin$')"
check "truncated: wire bytes within size + the first request's overshoot" test "$(wire f.bin)" -le $((16 * MIB + MIB))

# --- checksum: the SHA-256 of the whole file, computed once every range is on disk ---
sum=$(sha256sum < "$T/www/g.bin" | cut -c1-64)
printf '%s/g.bin\n  checksum=sha-256=%s\n' "$FAULT_URL" "$sum" > "$T/good.txt"
run_sluice -i "$T/good.txt" -d "$T/o7" "${seg[@]}"
check_eq "checksum right: exit 0" 0 "$RC"
check "checksum right: byte-exact" cmp "$T/www/g.bin" "$T/o7/g.bin"
check "checksum right: fetched in ranges" test "$(ranges g.bin | grep -vc null)" -ge 3
# Four connections, four pieces each, none under --min-segment (1M): the first request is cut
# at 1 MiB and fifteen closed ranges of 1 MiB follow, which the connections take in file order
# while the SHA-256 follows them (the checksum above holds).
check_eq "pieces: fifteen closed ranges of 1 MiB after the first request" "15 15" \
    "$(ranges g.bin | grep -vc null) $(ranges g.bin | grep -v null | sed 's/^bytes=//' | awk -F- '$2 - $1 + 1 == 1048576' | wc -l)"
printf '%s/h.bin\n  checksum=sha-256=%064d\n' "$FAULT_URL" 0 > "$T/bad.txt"
run_sluice -i "$T/bad.txt" -d "$T/o8" "${seg[@]}" --retries 1
check_eq "checksum wrong: exit 1" 1 "$RC"
check "checksum wrong: reason" grep -q 'checksum mismatch' "$T/stderr"
check "checksum wrong: never renamed into place" not test -e "$T/o8/h.bin"

# --- kill -9 four times, then the same command: every range resumes where it was on disk ---
u="$FAULT_URL/k.bin?rate=1000000"
for n in 1 2 3 4; do
    sluice_bg "$u" -d "$T/o9" "${seg[@]}"
    # Until this run has written more: the ranges leave holes, so the .part's allocated blocks
    # count what is on disk (reading the session here would race sluice opening it).
    want=$(( n * 3 * MIB ))
    wait_until 30 sh -c "test \$(( \$(stat -c '%b * %B' '$T/o9/k.bin.part' 2>/dev/null || echo 0) )) -ge $want"
    kill -9 "$SLUICE_PID"
    wait "$SLUICE_PID" 2>/dev/null
done
check "kill -9: ranges were recorded" test "$(sq "$T/o9" "SELECT count(*) FROM segments")" -ge 4
run_sluice "$u" -d "$T/o9" "${seg[@]}"
check_eq "kill -9: exit 0" 0 "$RC"
check "kill -9: byte-exact" cmp "$T/www/k.bin" "$T/o9/k.bin"
check_eq "kill -9: one whole-file request only (the rest resumed in ranges)" 1 "$(ranges k.bin | grep -c null)"
# What a kill loses is what was in flight: received but not yet recorded on disk (ranges are
# recorded every 25 ms; plus what the origin had sent ahead) on each of the four connections,
# and what the first request sent past its range. A range fetched twice (6 MiB) would not fit.
echo "# kill -9: wire bytes $(wire k.bin) for $((24 * MIB))"
check "kill -9: wire bytes within size + 4 kills x 4 connections x 256 KiB in flight" \
    test "$(wire k.bin)" -le $((24 * MIB + 4 * MIB))

# --- a .part cut back while sluice was not running: its ranges cannot be trusted ---
sluice_bg "$FAULT_URL/p.bin?rate=1000000" -d "$T/o10" "${seg[@]}"
wait_until 30 sh -c "test \$(( \$(stat -c '%b * %B' '$T/o10/p.bin.part' 2>/dev/null || echo 0) )) -ge $((3 * MIB))"
kill -9 "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
check "cut back: ranges were recorded" test "$(sq "$T/o10" "SELECT count(*) FROM segments")" -ge 2
truncate -s $((2 * MIB)) "$T/o10/p.bin.part"
run_sluice "$FAULT_URL/p.bin?rate=1000000" -d "$T/o10" "${seg[@]}"
check_eq "cut back: exit 0" 0 "$RC"
check "cut back: byte-exact" cmp "$T/www/p.bin" "$T/o10/p.bin"
check "cut back: said so, and started over" grep -q 'p.bin: the .part holds 2097152 bytes, its ranges reach [0-9]*: starting over from zero' "$T/stderr"

# --- under a cap: the planned ranges count for the share from the split on, the first range is
# hashed as it comes, and the file is checked against checksum= (docs/design.md#segmented-downloads) ---
sum=$(sha256sum "$T/www/q.bin" | cut -d' ' -f1)
printf '%s/q.bin?rate=4000000\n  checksum=sha-256=%s\n' "$FAULT_URL" "$sum" > "$T/q.txt"
run_sluice -i "$T/q.txt" -d "$T/o11" "${nosteal[@]}" -r 8M
check_eq "capped: exit 0 (checksum right)" 0 "$RC"
check "capped: byte-exact" cmp "$T/www/q.bin" "$T/o11/q.bin"
check_eq "capped: one whole-file request, three ranges" "1 3" \
    "$(ranges q.bin | grep -c null) $(ranges q.bin | grep -vc null)"
check "capped: no range fell back" not grep -q 'falling back' "$T/stderr"

# --- a .part that one connection wrote, resumed with --segments: the rest is split ---
sluice_bg "$FAULT_URL/r.bin?rate=2000000" -d "$T/o12" --segments 1 --headless
wait_until 30 sh -c "test \$(stat -c %s '$T/o12/r.bin.part' 2>/dev/null || echo 0) -ge $((4 * MIB))"
kill -9 "$SLUICE_PID"
wait "$SLUICE_PID" 2>/dev/null
check_eq "resumed: the first run kept no ranges (one connection)" 0 "$(sq "$T/o12" "SELECT count(*) FROM segments")"
run_sluice "$FAULT_URL/r.bin?rate=2000000" -d "$T/o12" "${seg[@]}" --log "$T/o12.jsonl"
check_eq "resumed: exit 0" 0 "$RC"
check "resumed: byte-exact" cmp "$T/www/r.bin" "$T/o12/r.bin"
# The first run's request (whole file, cut by the kill), then the resumed one from where the
# .part was recorded, open-ended, then closed ranges for the rest.
resumed=$(ranges r.bin | grep -c -- '-$')
from=$(ranges r.bin | grep -- '-$' | head -n 1 | sed 's/^bytes=//; s/-$//')
echo "# resumed: ranges asked: $(ranges r.bin | tr '\n' ' ')"
check_eq "resumed: one request from zero, one resumed request" "1 1" "$(ranges r.bin | grep -c null) $resumed"
check "resumed: it resumed past 3 MiB" test "${from:-0}" -ge $((3 * MIB))
check "resumed: the rest was split into closed ranges after that point" \
    test "$(ranges r.bin | grep -v null | grep -v -- '-$' | sed 's/^bytes=//; s/-.*//' | awk -v f="${from:-0}" '$1 > f' | wc -l)" -ge 2
check "resumed: connections at once" test "$(max_conns r.bin)" -ge 3
check_eq "resumed: done with its SHA-256" \
    "$(sha256sum < "$T/www/r.bin" | cut -c1-64)" "$(sq "$T/o12" "SELECT lower(hex(sha256)) FROM items")"
# Nothing before the resume point fetched twice: the first run's request, the resumed one up to
# its cut (and what its origin sent past it), the ranges.
echo "# resumed: wire bytes $(wire r.bin) for $((16 * MIB))"
check "resumed: wire bytes within size + in flight at the kill + the overshoot" \
    test "$(wire r.bin)" -le $((16 * MIB + 2 * MIB))

finish
