#!/usr/bin/env bash
# `make demo`: a local example of the main job. nginx and the fault origin on 127.0.0.1 serve
# generated files; sluice syncs them into a temporary folder under a 10 MiB/s cap, some items failing
# transiently (they are retried: the Retry tab counts them down) and a few permanently (404: the
# Failed tab lists them within seconds). On a terminal sluice opens its TUI (q quits); otherwise
# it runs headless. The servers stop when it ends, and the temporary folder (served files, list,
# output, session) is removed: the source tree is left as it was (bar the build).
#
#   DEMO_COUNT=2000   files to generate        DEMO_RATE=10M   the cap (off: none)
#   KEEP=1            keep the temporary folder (its path is printed) to look at the output
#   extra arguments go to sluice, e.g. `bash tests/demo.sh --theme light` or `-j 32`
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
_FINISHED=1     # lib.sh's servers and cleanup, without its test bookkeeping

COUNT=${DEMO_COUNT:-2000}
RATE=${DEMO_RATE:-10M}
echo "demo: generating $COUNT files..."
mkdir -p "$T/www"
"$TOOLS/gentree" "$T/www" "$COUNT" 1000 400000 1 > "$T/files.tsv"
start_nginx "$T/www"
start_faultd "$T/www"
# The fault origin by another name: a 429 or 503 slows that host down (docs/design.md#the-engine),
# and nginx on 127.0.0.1 should not pay for it.
F="http://localhost:$FAULT_PORT"
{
    n=0
    # Missing for good, early in the list so the Failed tab fills at once.
    for i in 1 2 3; do echo "$F/gone/missing-$i.jpg"; done
    while IFS=$'\t' read -r path size; do
        n=$((n + 1))
        case $((n % 50)) in
            7) echo "$F/$path?fail=2&status=503&retry_after=2" ;;
            13) echo "$F/$path?fail=1&status=429&retry_after=3" ;;
            21) echo "$F/$path?fail=1&reset_after=20000" ;;
            # Credentials in a URL: the TUI's details show them as ***.
            33) echo "http://demo:s3cret@localhost:$FAULT_PORT/$path" ;;
            *) echo "$NGINX_URL/$path" ;;
        esac
    done < "$T/files.tsv"
} > "$T/list.txt"
echo "demo: syncing $(wc -l < "$T/list.txt") URLs into $T/out at most $RATE/s (q or Ctrl-C stops)"
"$SLUICE" -i "$T/list.txt" -d "$T/out" -j 16 -r "$RATE" --retry-wait 500ms,5s "$@"
rc=$?
echo "demo: sluice exited $rc (1 = finished with failed items, as the 3 missing files are; 3 = stopped early)"
exit 0
