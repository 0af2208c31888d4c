#!/usr/bin/env bash
# The `make test` runner: unit tests (cmocka), the build checks (tests/build: the Makefile, the
# installed files), then the integration scripts, then unit and integration again under
# ASan+UBSan.  Prints every test's output prefixed with its name, a summary per phase,
# and as its very last line "N passed, N failed"; exits 1 if anything failed.
#
# Environment:
#   TEST_FILTER=PAT   only test files whose name contains PAT (a glob: *, ? and [..] work;
#                     A|B: either)
#   TEST_PHASES=...   a subset of "unit build integration unit-san integration-san"
#   TEST_JOBS=N       integration scripts at once (default 2; a script with a line
#                     "# test: serial" among its first 10 runs alone, one with "# test: long"
#                     (30 s or more) starts before the others, one with "# test: light" (waits
#                     on the wall clock, little CPU) starts first and takes no slot)
#   TEST_TIMEOUT=S    limit for one integration script (default 900 s), unit binary (300 s)
#   KEEP=1            integration scripts keep their temporary folders
set -u
cd "$(dirname "$0")/.." || exit 1

FILTER=${TEST_FILTER:-}
PHASES=${TEST_PHASES:-unit build integration unit-san integration-san}
JOBS=${TEST_JOBS:-2}
SCRIPT_TIMEOUT=${TEST_TIMEOUT:-900}
UNIT_TIMEOUT=300
SAN_ENV=(ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

TOTAL_PASS=0
TOTAL_FAIL=0
OUT=$(mktemp -d "${TMPDIR:-/tmp}/sluice-run.XXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT
# Stop the scripts still running; each one's own trap then stops its servers.
trap 'kill $(jobs -p) 2> /dev/null; exit 130' INT TERM

case $JOBS in '' | *[!0-9]* | 0) JOBS=1 ;; esac

selected() {
    local pat
    [ -z "$FILTER" ] && return 0
    local IFS='|'
    for pat in $FILTER; do
        [ -n "$pat" ] && [[ $1 == *$pat* ]] && return 0
    done
    return 1
}

want_phase() {
    [[ " $PHASES " == *" $1 "* ]]
}

# phase_done LABEL PASS FAIL
phase_done() {
    echo "== $1: $2 passed, $3 failed"
    echo
    TOTAL_PASS=$((TOTAL_PASS + $2))
    TOTAL_FAIL=$((TOTAL_FAIL + $3))
}

# run_units DIR LABEL [ENV...]: every tests/unit/test_X.c must have DIR/test_X.
run_units() {
    local dir=$1 label=$2 src name bin out rc okn failn pass=0 fail=0
    shift 2
    echo "== $label: $dir/test_*"
    for src in tests/unit/test_*.c; do
        [ -e "$src" ] || continue
        name=$(basename "$src" .c)
        selected "$name" || continue
        bin="$dir/$name"
        if [ ! -x "$bin" ]; then
            echo "[$label/$name] MISSING: $bin was not built"
            fail=$((fail + 1))
            continue
        fi
        out="$OUT/$label-$name.out"
        rc=0
        env "$@" timeout -k 5 "$UNIT_TIMEOUT" "$bin" < /dev/null > "$out" 2>&1 || rc=$?
        sed "s|^|[$label/$name] |" "$out"
        okn=$(grep -c '^\[ *OK *\] ' "$out")
        # cmocka names each failed test twice (as it fails and in the summary).
        failn=$(grep '^\[ *FAILED *\] ' "$out" | grep -v 'test(s)' | sort -u | wc -l)
        if [ "$rc" -ne 0 ] && [ "$failn" -eq 0 ]; then
            echo "[$label/$name] FAILED: exit $rc without a FAILED test (crash, sanitizer or timeout)"
            failn=1
        fi
        pass=$((pass + okn))
        fail=$((fail + failn))
    done
    phase_done "$label" "$pass" "$fail"
}

is_serial() {
    head -n 10 "$1" | grep -q '^# test: serial'
}

is_long() {
    head -n 10 "$1" | grep -q '^# test: long'
}

is_light() {
    head -n 10 "$1" | grep -q '^# test: light'
}

# run_integration LABEL SLUICE_BIN [ENV...]: tests/integration/*.sh (SCRIPTS_DIR=tests/build for the
# build checks).
run_integration() {
    local label=$1 bin=$2 dir=${SCRIPTS_DIR:-tests/integration} s scripts=() pids=() i=0 next=0 n j busy pass=0 fail=0
    shift 2
    echo "== $label: $dir/*.sh with SLUICE=$bin"
    for s in "$dir"/*.sh; do
        [ -e "$s" ] || continue
        selected "$(basename "$s")" && scripts+=("$s")
    done
    n=${#scripts[@]}
    if [ ! -x "$bin" ] && [ "$n" -gt 0 ]; then
        echo "[$label] MISSING: $bin does not exist (the scripts run anyway)"
        fail=$((fail + 1))
    fi
    # A pool of JOBS scripts: the next one starts as soon as any slot is free (a slow script no
    # longer holds back the slot beside it); results are printed in file order. Scripts marked
    # "# test: long" start first, so the phase does not end on one long script running alone;
    # before them those marked "# test: light", which mostly wait for the wall clock's next
    # minute and run beside the pool without a slot. A serial script starts when nothing runs,
    # and nothing starts beside it. Each script's time is printed after its output.
    local running lrun serial_on t0 k order=() started=()
    for ((k = 0; k < n; k++)); do
        is_light "${scripts[k]}" && order+=("$k")
    done
    for ((k = 0; k < n; k++)); do
        is_long "${scripts[k]}" && ! is_light "${scripts[k]}" && order+=("$k")
    done
    for ((k = 0; k < n; k++)); do
        is_long "${scripts[k]}" || is_light "${scripts[k]}" || order+=("$k")
    done
    while [ "$i" -lt "$n" ]; do
        running=0 lrun=0 serial_on=""
        for k in "${started[@]}"; do
            [ -e "$OUT/$label-$(basename "${scripts[k]}").rc" ] && continue
            if is_light "${scripts[k]}"; then
                lrun=$((lrun + 1))
            else
                running=$((running + 1))
            fi
            is_serial "${scripts[k]}" && serial_on=1
        done
        while [ "$next" -lt "$n" ] && [ -z "$serial_on" ]; do
            k=${order[next]}
            s=${scripts[k]}
            if is_light "$s"; then
                lrun=$((lrun + 1))
            elif [ "$running" -ge "$JOBS" ]; then
                break
            elif is_serial "$s"; then
                [ "$running" -eq 0 ] && [ "$lrun" -eq 0 ] || break
                serial_on=1
                running=$((running + 1))
            else
                running=$((running + 1))
            fi
            (
                # timeout passes a TERM on to the script, whose trap stops its servers.
                trap 'kill -TERM $child 2> /dev/null' INT TERM
                t0=$SECONDS
                env SLUICE="$bin" "$@" timeout -k 10 "$SCRIPT_TIMEOUT" bash "$s" \
                    < /dev/null > "$OUT/$label-$(basename "$s").out" 2>&1 &
                child=$!
                wait "$child"
                rc=$?
                echo "$((SECONDS - t0))" > "$OUT/$label-$(basename "$s").time"
                echo "$rc" > "$OUT/$label-$(basename "$s").rc"
            ) &
            pids[k]=$!
            started+=("$k")
            next=$((next + 1))
        done
        if [ ! -e "$OUT/$label-$(basename "${scripts[i]}").rc" ]; then
            sleep 0.2
            continue
        fi
        wait "${pids[i]}"
        s=${scripts[i]}
        local name out rc okn notn
        name=$(basename "$s" .sh)
        out="$OUT/$label-$(basename "$s").out"
        rc=$(cat "$OUT/$label-$(basename "$s").rc" 2> /dev/null || echo 1)
        [ -f "$out" ] || : > "$out"
        sed "s|^|[$label/$name] |" "$out"
        okn=$(grep -c '^ok\b' "$out")
        notn=$(grep -c '^not ok\b' "$out")
        if [ "$rc" -ne 0 ] && [ "$notn" -eq 0 ]; then
            if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
                echo "[$label/$name] FAILED: killed after $SCRIPT_TIMEOUT s"
            else
                echo "[$label/$name] FAILED: exit $rc without a 'not ok' line"
            fi
            notn=1
        fi
        echo "[$label/$name] ($(cat "$OUT/$label-$(basename "$s").time" 2> /dev/null || echo '?') s)"
        pass=$((pass + okn))
        fail=$((fail + notn))
        i=$((i + 1))
    done
    phase_done "$label" "$pass" "$fail"
}

want_phase unit && run_units build/unit unit
want_phase build && SCRIPTS_DIR=tests/build run_integration build ./sluice
want_phase integration && run_integration integration ./sluice
want_phase unit-san && run_units build/unit-san unit-san "${SAN_ENV[@]}"
want_phase integration-san && run_integration integration-san build/sluice-san "${SAN_ENV[@]}"

echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
