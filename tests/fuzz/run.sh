#!/usr/bin/env bash
# `make fuzz`: builds every tests/fuzz/fuzz_TARGET.c as a libFuzzer binary (clang, ASan + UBSan;
# it links util, hmap and the modules named in fuzz_TARGET.deps), then runs each for
# FUZZ_SECONDS (default 60) from its seed corpus tests/fuzz/TARGET/.
#
#   FUZZ_SECONDS=600 bash tests/fuzz/run.sh [TARGET...]     (default: every target)
#   FUZZ_BUILD_ONLY=1                                        build, do not run
#
# New inputs found go to build/fuzz/corpus/TARGET/ (the seeds in git stay as they are); a crash
# leaves build/fuzz/crash/TARGET-crash-* and the script exits 1. Add a crash input to
# tests/fuzz/TARGET/ once it is fixed, so every later run replays it first.
set -u
cd "$(dirname "$0")/../.." || exit 1

CLANG=${FUZZ_CC:-clang}
SECONDS_EACH=${FUZZ_SECONDS:-60}
OUT=${FUZZ_OUT:-build/fuzz}
PKGS="ncursesw libcurl libconfig libcrypto sqlite3"
FLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Werror -iquote include
  -iquote tests/fuzz $(pkg-config --cflags $PKGS 2>/dev/null | sed 's/-D_XOPEN_SOURCE=[^ ]*//;s/-D_DEFAULT_SOURCE//')
  -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lpthread -lm"

command -v "$CLANG" > /dev/null || { echo "fuzz: $CLANG is not installed (apt-get install clang)"; exit 2; }
mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/crash"

# obj MODULE: src/MODULE.c compiled for the fuzzers (without the libFuzzer main).
obj() {
    local o="$OUT/obj/$1.o"
    if [ ! -e "$o" ] || [ "src/$1.c" -nt "$o" ] || [ -n "$(find include -newer "$o" -name '*.h' | head -n 1)" ]; then
        # shellcheck disable=SC2086 # FLAGS is a list of words
        "$CLANG" $FLAGS -fsanitize=fuzzer-no-link -c -o "$o" "src/$1.c" || return 1
    fi
    echo "$o"
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        t=${f#tests/fuzz/fuzz_}
        targets+=("${t%.c}")
    done
fi

fail=0
for t in "${targets[@]}"; do
    objs=()
    for m in util hmap $(cat "tests/fuzz/fuzz_$t.deps" 2> /dev/null); do
        o=$(obj "$m") || { echo "fuzz: $t: cannot build $m"; exit 1; }
        objs+=("$o")
    done
    # shellcheck disable=SC2086
    "$CLANG" $FLAGS -fsanitize=fuzzer -o "$OUT/fuzz_$t" "tests/fuzz/fuzz_$t.c" \
        $(printf '%s\n' "${objs[@]}" | sort -u) $LIBS || { echo "fuzz: $t: build failed"; exit 1; }
done
[ -n "${FUZZ_BUILD_ONLY:-}" ] && exit 0

for t in "${targets[@]}"; do
    mkdir -p "$OUT/corpus/$t" "tests/fuzz/$t"
    echo "== fuzz $t: ${SECONDS_EACH} s"
    log="$OUT/fuzz_$t.log"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp:print_suppressions=0 \
        "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$OUT/crash/$t-" \
        "$OUT/corpus/$t" "tests/fuzz/$t" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz $t: ok, ${runs:-?} runs in ${SECONDS_EACH} s (${speed:-?}/s), $cov"
    else
        echo "fuzz $t: FAILED (exit $rc), ${runs:-?} runs; see $log"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 10
        fail=1
    fi
done
exit "$fail"
