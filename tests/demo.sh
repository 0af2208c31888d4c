#!/usr/bin/env bash
# `make demo`: a local example of the main job. nginx and the fault origin on 127.0.0.1 serve
# generated files; sluice syncs them into ./demo-out, some items failing transiently (they are
# retried) and a few permanently (404, listed at the end). The servers stop when it ends.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO=1
source "$ROOT/tests/lib.sh"

COUNT=${DEMO_COUNT:-2000}
echo "demo: generating $COUNT files..."
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$COUNT" 1000 400000 1 > "$T/files.tsv"
start_nginx "$T/www"
start_faultd "$T/www"
{
    n=0
    while IFS=$'\t' read -r path size; do
        n=$((n + 1))
        case $((n % 50)) in
            7) echo "$FAULT_URL/$path?fail=2&status=503&retry_after=2" ;;
            13) echo "$FAULT_URL/$path?fail=1&status=429&retry_after=3" ;;
            21) echo "$FAULT_URL/$path?fail=1&reset_after=20000" ;;
            *) echo "$NGINX_URL/$path" ;;
        esac
    done < "$T/files.tsv"
    for i in 1 2 3; do echo "$FAULT_URL/gone/missing-$i.jpg"; done
} > "$T/list.txt"
rm -rf "$ROOT/demo-out"
echo "demo: syncing $(wc -l < "$T/list.txt") URLs into ./demo-out (Ctrl-C stops; run again to redo)"
"$SLUICE" -i "$T/list.txt" -d "$ROOT/demo-out" -j 16 --retry-wait 500ms,5s "$@"
rc=$?
echo "demo: sluice exited $rc (1 = finished with failed items, as the 3 missing files are)"
exit 0
