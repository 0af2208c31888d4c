#!/usr/bin/env bash
# test: long
# Every libFuzzer target still builds and links against the modules as they are now (a stand-in
# engine that misses a new engine function fails here, not in the next `make fuzz`), and each
# replays its seed corpus without a crash (a few seconds: the real runs are `make fuzz`'s).
source "$(dirname "$0")/../lib.sh"

command -v clang > /dev/null || bail "clang is not installed (make deps)"
cd "$ROOT" || bail "no $ROOT"
out="$T/fuzz"
FUZZ_OUT="$out" FUZZ_BUILD_ONLY=1 bash tests/fuzz/run.sh > "$T/build.log" 2>&1
check_eq "every fuzz target builds" 0 "$?"
tail -n 5 "$T/build.log" | sed 's/^/# /'
for src in tests/fuzz/fuzz_*.c; do
    t=${src#tests/fuzz/fuzz_}
    t=${t%.c}
    [ -x "$out/fuzz_$t" ] || { not_ok "fuzz_$t was not built"; continue; }
    # -runs=0: every seed once, no mutation.
    # libconfig's own leak on some syntax errors is suppressed, as make fuzz does.
    ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp:print_suppressions=0 \
        "$out/fuzz_$t" -runs=0 -artifact_prefix="$T/" "tests/fuzz/$t" > "$T/run-$t.log" 2>&1
    check_eq "fuzz_$t replays its seeds without a crash" 0 "$?"
done
finish
