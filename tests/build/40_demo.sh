#!/usr/bin/env bash
# `make demo` leaves the source tree as it found it: a small headless demo run adds, changes
# and removes nothing outside build/ (the folder's own mtime included).
source "$(dirname "$0")/../lib.sh"

[ -x "$TOOLS/gentree" ] && [ -x "$TOOLS/faultd" ] || bail "build/tools are not built (make tools)"
snapshot() {
    (cd "$ROOT" && find . \( -path ./build -o -path ./.git \) -prune -o -printf '%p %s %T@\n' |
        sort) > "$1"
    stat -c '%Y' "$ROOT" >> "$1"
}
snapshot "$T/before"
DEMO_COUNT=40 DEMO_RATE=off timeout 120 bash "$ROOT/tests/demo.sh" --headless --retries 0 \
    > "$T/demo.out" 2>&1
rc=$?
check_eq "the demo ran" 0 "$rc"
check "sluice ran and finished (1: the 3 missing files)" grep -q "sluice exited 1" "$T/demo.out"
snapshot "$T/after"
check_eq "the source tree is as it was" "" "$(diff "$T/before" "$T/after")"
finish
