#!/usr/bin/env bash
# Bad input stops the run before any request, listing every problem as FILE:LINE (exit 2).
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" 2 1000 2000 3 > "$T/files.tsv"
start_faultd "$T/www"
good="$FAULT_URL/$(head -1 "$T/files.tsv" | cut -f1)"

cat > "$T/bad.txt" <<LIST
# a comment
$good
  out=ok.bin
ftp://example.invalid/file
$FAULT_URL/a
  colour=blue
$FAULT_URL/b
  checksum=sha-256=1234
  out=../../escape
LIST
run_sluice -i "$T/bad.txt" -d "$T/out"
check_eq "malformed list: exit 2" 2 "$RC"
check "bad scheme named with its line" grep -q "^$T/bad.txt:4: " "$T/stderr"
check "unknown key named with its line" grep -q "^$T/bad.txt:6: .*colour" "$T/stderr"
check "bad checksum named with its line" grep -q "^$T/bad.txt:8: " "$T/stderr"
check "escaping out= named with its line" grep -q "^$T/bad.txt:9: " "$T/stderr"
check_eq "nothing was requested" 0 "$(faultd_count '.')"
check_eq "nothing was written" 0 "$(out_find "$T/out" -type f | wc -l)"

# Two items for one target, and X next to X.part: both lines named.
printf '%s/c\n  out=same.bin\n%s/d\n  out=same.bin\n%s/e\n  out=p.bin\n%s/f\n  out=p.bin.part\n' \
    "$FAULT_URL" "$FAULT_URL" "$FAULT_URL" "$FAULT_URL" > "$T/clash.txt"
run_sluice -i "$T/clash.txt" -d "$T/out"
check_eq "one target for two items: exit 2" 2 "$RC"
check "two items for one path name both lines" grep -q "^$T/clash.txt:3: .*same.bin.*$T/clash.txt:1" "$T/stderr"
check "X.part of another item named" grep -q "^$T/clash.txt:7: .*p.bin.part.*$T/clash.txt:5" "$T/stderr"

# Command-line URLs are checked the same way.
run_sluice "file:///etc/passwd" -d "$T/out"
check_eq "file:// URL: exit 2" 2 "$RC"
check "file:// URL message" grep -q 'command line' "$T/stderr"

# A missing list file.
run_sluice -i "$T/nope.txt" -d "$T/out"
check_eq "missing list: exit 2" 2 "$RC"

# Repeated URLs are merged: one request.
printf '%s\n%s\n%s\n' "$good" "$good" "$good" > "$T/dup.txt"
run_sluice -i "$T/dup.txt" -d "$T/dup"
check_eq "repeated URLs: exit 0" 0 "$RC"
check_eq "repeated URLs: one request" 1 "$(faultd_count "$(head -1 "$T/files.tsv" | cut -f1)")"

# Config errors: FILE:LINE and exit 2.
printf 'concurrency = 4;\nratee = "5M";\n' > "$T/bad.conf"
run_sluice -c "$T/bad.conf" "$good" -d "$T/out"
check_eq "unknown config key: exit 2" 2 "$RC"
check "unknown config key: FILE:LINE" grep -q "^$T/bad.conf:2: " "$T/stderr"
printf 'concurrency = 4;\nrate = = "5M";\n' > "$T/syntax.conf"
run_sluice -c "$T/syntax.conf" "$good" -d "$T/out"
check_eq "config syntax error: exit 2" 2 "$RC"
check "config syntax error: FILE:LINE" grep -q "^$T/syntax.conf:[0-9]*: " "$T/stderr"
run_sluice --rate fast "$good" -d "$T/out"
check_eq "bad --rate: exit 2" 2 "$RC"
run_sluice -j 0 "$good" -d "$T/out"
check_eq "-j 0: exit 2" 2 "$RC"
check_eq "still nothing requested but the dup test's one" 1 "$(faultd_count '.')"
finish
