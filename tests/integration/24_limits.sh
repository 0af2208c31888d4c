#!/usr/bin/env bash
# Limits that keep one hostile or broken origin from holding the sync: --max-size (announced or
# counted as the body comes), a file bigger than the whole output filesystem, and --min-rate
# against a trickle that the silence-based stall detector alone never catches.
source "$(dirname "$0")/../lib.sh"

MIB=1048576
mkdir -p "$T/www" "$T/out"
head -c $((4 * MIB)) /dev/urandom > "$T/www/big.bin"
head -c 100000 /dev/urandom > "$T/www/small.bin"
head -c 1000 /dev/urandom > "$T/www/trickle.bin"
# Sparse, bigger than the filesystem the output goes to (ext4 takes up to 16 TiB).
cap=$(df -B1 --output=size "$T/out" | tail -n 1 | tr -d ' ')
huge_ok=""
truncate -s $((cap + MIB)) "$T/www/huge.bin" 2>/dev/null && huge_ok=1
start_faultd "$T/www"

run_sluice "$FAULT_URL/big.bin" "$FAULT_URL/small.bin" -d "$T/out" --max-size 1M --headless \
    --log "$T/ev.jsonl"
check_eq "--max-size: exit 1" 1 "$RC"
check "--max-size: the reason" grep -q 'too large: 4194304 bytes, over --max-size (1048576)' "$T/stderr"
check "--max-size: the others go on" cmp "$T/www/small.bin" "$T/out/small.bin"
check "--max-size: no file" test ! -e "$T/out/big.bin"
check_eq "--max-size: not retried" 1 "$(faultd_count '^/big.bin$')"

# Without Content-Length the body is counted as it comes.
run_sluice "$FAULT_URL/big.bin?length=none" -d "$T/out2" --max-size 1M --headless
check_eq "--max-size, no length: exit 1" 1 "$RC"
check "--max-size, no length: the reason" grep -q 'bytes so far, over --max-size (1048576)' "$T/stderr"
check "--max-size, no length: no file" test ! -e "$T/out2/big.bin"
run_sluice "$FAULT_URL/big.bin?length=none" -d "$T/out3" --headless
check_eq "no length, no limit: exit 0" 0 "$RC"
check "no length, no limit: byte-exact" cmp "$T/www/big.bin" "$T/out3/big.bin"

if [ -n "$huge_ok" ]; then
    # Throttled and bounded in time: a sluice that fetched it anyway must not fill the disk.
    SLUICE_TIMEOUT=15 run_sluice "$FAULT_URL/huge.bin?rate=5000000" "$FAULT_URL/small.bin" \
        -d "$T/out4" --headless
    check_eq "bigger than the filesystem: exit 1" 1 "$RC"
    check "bigger than the filesystem: the reason" grep -q 'cannot fit on the output filesystem' "$T/stderr"
    check "bigger than the filesystem: the others go on" cmp "$T/www/small.bin" "$T/out4/small.bin"
    check_eq "bigger than the filesystem: not retried" 1 "$(faultd_count '^/huge.bin$')"
else
    ok "# skip: no sparse file bigger than the filesystem"
fi

# A trickle (2 bytes/s) keeps the stall detector quiet; --min-rate over its window does not.
start=$(date +%s)
run_sluice "$FAULT_URL/trickle.bin?rate=2" "$FAULT_URL/small.bin" -d "$T/out5" --stall 1s \
    --min-rate 100 --retries 0 --headless
check_eq "--min-rate: exit 1" 1 "$RC"
check "--min-rate: the reason" grep -q 'too slow: .* under --min-rate' "$T/stderr"
check "--min-rate: within seconds" test $(($(date +%s) - start)) -le 10
check "--min-rate: the others go on" cmp "$T/www/small.bin" "$T/out5/small.bin"
run_sluice "$FAULT_URL/big.bin" -d "$T/out6" --stall 1s --min-rate 100K --headless
check_eq "--min-rate, a fast origin: exit 0" 0 "$RC"
check "--min-rate, a fast origin: byte-exact" cmp "$T/www/big.bin" "$T/out6/big.bin"
finish
