#!/usr/bin/env bash
# A retry whose wait has passed starts before the fresh items of its host
# (docs/design.md#retries-and-backoff), even when the host was slowed to one connection by the
# 429 and the retry was written to the session and let go of meanwhile: the origin's log shows
# its second request right after its Retry-After, not behind the fresh items read ahead.
source "$(dirname "$0")/../lib.sh"

mkdir -p "$T/www"
N=150
for i in $(seq -w 1 $N); do
    head -c 20000 /dev/zero > "$T/www/f$i.bin"
done
start_faultd "$T/www"

# Every file takes about 0.25 s (20 kB at 80 kB/s); f003 and f005 answer 429 Retry-After: 3
# once, which also holds the host at one connection for 3 s.
: > "$T/list"
for i in $(seq -w 1 $N); do
    case $i in
    003 | 005) echo "$FAULT_URL/f$i.bin?rate=80000&fail=1&status=429&retry_after=3" ;;
    *) echo "$FAULT_URL/f$i.bin?rate=80000" ;;
    esac >> "$T/list"
done
SLUICE_TIMEOUT=180 run_sluice -i "$T/list" -d "$T/out" --headless -j 2 --retry-wait 100ms,1m
check_eq "the run finishes (exit 0)" 0 "$RC"

# ts NAME K: completion time (ms) of the K-th request for NAME in the origin's log.
ts() { faultd_lines "^/$1\$" | sed -n "$2p" | json_field ts_ms; }
for f in f003 f005; do
    first=$(ts "$f.bin" 1)
    second=$(ts "$f.bin" 2)
    if [ -z "$first" ] || [ -z "$second" ]; then
        not_ok "$f: asked for twice" "log: $(faultd_lines "^/$f.bin\$")"
        continue
    fi
    due=$((first + 3000))
    late=$((second - due))
    # The retry's own transfer takes ~0.25 s; "a few seconds" leaves room for a loaded machine.
    check "$f: its retry came $late ms after its due time (within 2.5 s)" test "$late" -le 2500
    # Fresh items of the same host that finished between the due time and the retry's own end:
    # at one connection of ~0.25 s each, one or two that were running already, not dozens.
    fresh=$(faultd_lines '^/f[0-9]*\.bin$' | awk -v a="$due" -v b="$second" -F'"ts_ms":' \
        '{ split($2, x, ","); if (x[1] + 0 > a + 0 && x[1] + 0 < b + 0) n++ } END { print n + 0 }')
    check "$f: $fresh fresh items finished between its due time and its retry (at most 4)" \
        test "$fresh" -le 4
done

finish
