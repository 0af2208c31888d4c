#!/usr/bin/env bash
# make bench: sluice against curl --parallel and aria2c, same nginx on 127.0.0.1, same run.
#   A) SMALL_N x 64 KiB files, concurrency 16 for every tool
#   T) TINY_N x 1 KiB files, concurrency 16 (the cost per file, issue 15)
#   B) 1 x BIG_MB MiB file over one connection
# Prints wall, CPU and peak RSS (medians over BENCH_RUNS runs, tools alternated), durable time
# (wall for sluice, which makes every file durable; wall + the `sync` after it for the others),
# CPU per 1,000 files and per GiB, the ratios and the goals, and how fast this machine's disk
# (1 GiB written and flushed) and SHA-256 (`openssl speed`) are, so that figures from two
# machines can be compared; writes the same figures as key=value lines to build/bench-results.txt.
#
# Environment:
#   BENCH_RUNS=5        runs per tool and workload (this machine is noisy: fewer make the medians swing)
#   BENCH_DIR=DIR       work dir for data and outputs (default: a fresh /tmp/sluice-bench.*)
#   KEEP=1              keep the generated data (reused by the next run with the same BENCH_DIR)
#                       and the tool logs in BENCH_DIR/run
#   BENCH_SMALL_N=5000  number of small files; BENCH_BIG_MB=1024 size of the big file (MiB)
#   BENCH_TINY_N=20000  number of 1 KiB files (0: no such workload)
#   BENCH_WORKLOADS="small tiny big"   subset to run
#   BENCH_TOOLS="sluice curl aria2"   subset to run; BENCH_TIMEOUT=180 seconds per run
#   BENCH_WAN=1         also run bench/wan.sh (long paths through build/tools/delaylink; root)
#   BENCH_SOAK=1        also run bench/soak.sh (50 kill -9 in a capped 2,000-file sync, sluice
#                       against aria2c; about 7.5 minutes; its SOAK_* variables apply)
# Exit status: 0 when every run produced correct output (the goals are reported, not
# enforced), 1 when a run was INVALID or timed out, 2 on a setup error.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

RUNS=${BENCH_RUNS:-5}
SMALL_N=${BENCH_SMALL_N:-5000}
SMALL_SIZE=65536
TINY_N=${BENCH_TINY_N:-20000}
TINY_SIZE=1024
read -r -a WORKLOADS <<< "${BENCH_WORKLOADS:-small tiny big}"
[ "$TINY_N" = 0 ] && read -r -a WORKLOADS <<< "$(printf '%s\n' "${WORKLOADS[@]}" | grep -vx tiny | tr '\n' ' ')"
BIG_MB=${BENCH_BIG_MB:-1024}
BIG_BYTES=$((BIG_MB * 1024 * 1024))
CONC=16
TIMEOUT=${BENCH_TIMEOUT:-180}
read -r -a TOOLS_ORDER <<< "${BENCH_TOOLS:-sluice curl aria2}"
RESULTS_FILE="$ROOT/build/bench-results.txt"

die() { echo "bench: $*" >&2; exit 2; }

# Nothing but loopback: no proxy from the environment may capture the requests, and no
# per-user configuration may change how a tool behaves.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY ftp_proxy FTP_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ "$SMALL_N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SMALL_N must be a positive integer"
[[ "$BIG_MB" =~ ^[1-9][0-9]*$ ]] || die "BENCH_BIG_MB must be a positive integer"
[[ "$TINY_N" =~ ^[0-9]+$ ]] || die "BENCH_TINY_N must be a whole number"
for wl in "${WORKLOADS[@]}"; do
    case $wl in small | tiny | big) ;; *) die "unknown workload in BENCH_WORKLOADS: $wl" ;; esac
done
[ -x "${SLUICE:-$ROOT/sluice}" ] || die "${SLUICE:-./sluice} is missing (make sluice)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install -y time"
for t in "${TOOLS_ORDER[@]}"; do
    case $t in
    sluice) ;;
    curl) command -v curl >/dev/null || die "curl is missing (make deps)" ;;
    aria2) command -v aria2c >/dev/null || die "aria2c is missing (make deps)" ;;
    *) die "unknown tool in BENCH_TOOLS: $t" ;;
    esac
done
[ -f "$ROOT/tests/lib.sh" ] || die "tests/lib.sh is missing"

# tests/lib.sh gives start_nginx, $T and the cleanup of servers and $T on exit (on_exit hooks
# run before the servers stop). Its TAP results are not used: the bench is not a test, so it
# is marked finished from the start and the exit status stays this script's own.
# shellcheck source=../tests/lib.sh
source "$ROOT/tests/lib.sh" || die "sourcing tests/lib.sh failed"
_FINISHED=1
set +e   # in case lib.sh turned it on: a failing tool must be recorded, not end the bench
type start_nginx >/dev/null 2>&1 && type on_exit >/dev/null 2>&1 ||
    die "tests/lib.sh has no start_nginx/on_exit"

# The work dir. Only what this script created inside it is ever removed.
if [ -n "${BENCH_DIR:-}" ]; then
    W=$BENCH_DIR
    mkdir -p "$W" || die "cannot create $W"
    W=$(cd "$W" && pwd)
    W_CREATED=0
else
    W=$(mktemp -d /tmp/sluice-bench.XXXXXX) || die "mktemp failed"
    W_CREATED=1
fi
# nginx workers may run as an unprivileged user: they must be able to reach the docroot.
chmod a+rx "$W"
WWW="$W/www"
STAMP="$WWW/.bench-data"
DATA_SPEC="small=${SMALL_N}x${SMALL_SIZE} tiny=${TINY_N}x${TINY_SIZE} big=${BIG_BYTES}"

bench_cleanup() {
    [ -n "${W:-}" ] || return 0
    rm -rf "$W"/out-* "$W"/kept-*
    if [ "${KEEP:-0}" = 1 ]; then
        echo "bench: kept the data, lists and tool logs in $W"
    else
        rm -rf "$WWW" "$W/small.md5" "$W/tiny.md5" "$W"/run "$W"/xdg
        [ "$W_CREATED" = 1 ] && rmdir "$W" 2>/dev/null
    fi
    return 0
}

on_exit bench_cleanup

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------- data (generated once)
gen_data() {
    local t0 width
    t0=$(now)
    rm -rf "$WWW"
    mkdir -p "$WWW" && chmod a+rx "$WWW" || die "cannot create $WWW"
    width=${#SMALL_N}
    [ "$width" -lt 4 ] && width=4
    echo "bench: generating $SMALL_N x $SMALL_SIZE B and 1 x $BIG_MB MiB in $WWW"
    # Random bytes so no layer can compress them; split cuts exact 64 KiB files.
    head -c $((SMALL_N * SMALL_SIZE)) /dev/urandom |
        split -b "$SMALL_SIZE" -a "$width" -d --additional-suffix=.bin - "$WWW/f" ||
        die "generating the small files failed"
    head -c "$BIG_BYTES" /dev/urandom > "$WWW/big.bin" || die "generating the big file failed"
    [ "$(find "$WWW" -maxdepth 1 -name 'f*.bin' -size "${SMALL_SIZE}c" | wc -l)" = "$SMALL_N" ] ||
        die "wrong number of small files generated"
    if [ "$TINY_N" -gt 0 ]; then
        width=${#TINY_N}
        [ "$width" -lt 5 ] && width=5
        head -c $((TINY_N * TINY_SIZE)) /dev/urandom |
            split -b "$TINY_SIZE" -a "$width" -d --additional-suffix=.bin - "$WWW/t" ||
            die "generating the tiny files failed"
        [ "$(find "$WWW" -maxdepth 1 -name 't*.bin' -size "${TINY_SIZE}c" | wc -l)" = "$TINY_N" ] ||
            die "wrong number of tiny files generated"
        (cd "$WWW" && cat t*.bin | md5sum | cut -d' ' -f1) > "$W/tiny.md5"
    fi
    [ "$(stat -c %s "$WWW/big.bin")" = "$BIG_BYTES" ] || die "big file has the wrong size"
    # One digest over all small files in name order, to check every output byte cheaply.
    (cd "$WWW" && cat f*.bin | md5sum | cut -d' ' -f1) > "$W/small.md5"
    sync
    echo "$DATA_SPEC" > "$STAMP"
    echo "bench: data ready in $(elapsed "$t0" "$(now)") s"
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$DATA_SPEC" ] && [ -s "$W/small.md5" ] &&
    { [ "$TINY_N" = 0 ] || [ -s "$W/tiny.md5" ]; }; then
    echo "bench: reusing data in $WWW"
else
    gen_data
fi
SMALL_MD5=$(cat "$W/small.md5")
TINY_MD5=$(cat "$W/tiny.md5" 2>/dev/null)

start_nginx "$WWW" || die "start_nginx failed"
[ -n "${NGINX_URL:-}" ] || die "start_nginx did not set NGINX_URL"
case $NGINX_URL in
http://127.0.0.1:*) ;;
*) die "nginx is not on 127.0.0.1: $NGINX_URL" ;;
esac
mkdir -p "$W/run" "$W/xdg"
export XDG_CONFIG_HOME="$W/xdg"   # no user sluice.conf
(cd "$WWW" && ls f*.bin) | sed "s|^|$NGINX_URL/|" > "$W/run/list-small.txt"
[ "$TINY_N" -gt 0 ] && (cd "$WWW" && ls t*.bin) | sed "s|^|$NGINX_URL/|" > "$W/run/list-tiny.txt"
echo "$NGINX_URL/big.bin" > "$W/run/list-big.txt"
[ "$(wc -l < "$W/run/list-small.txt")" = "$SMALL_N" ] || die "small list is incomplete"
curl -q -s -f -o /dev/null "$(head -n 1 "$W/run/list-small.txt")" &&
    curl -q -s -f -r 0-0 -o /dev/null "$NGINX_URL/big.bin" || die "nginx does not serve $WWW"

# ---------------------------------------------------------------- one timed run
# Sets RUN_STATUS (ok | INVALID: why | TIMEOUT), RUN_WALL, RUN_USER, RUN_SYS, RUN_RSS (KiB),
# RUN_SYNC (seconds the `sync` right after took).
verify_out() {
    local wl=$1 out=$2 n sum want size pre md5
    if [ "$wl" = small ] || [ "$wl" = tiny ]; then
        if [ "$wl" = small ]; then want=$SMALL_N size=$SMALL_SIZE pre=f md5=$SMALL_MD5
        else want=$TINY_N size=$TINY_SIZE pre=t md5=$TINY_MD5; fi
        n=$(find "$out" -type f -not -path "$out/.sluice/*" | wc -l)
        [ "$n" = "$want" ] || { echo "INVALID: $n files, want $want"; return; }
        n=$(find "$out" -maxdepth 1 -type f -name "$pre*.bin" -size "${size}c" | wc -l)
        [ "$n" = "$want" ] || { echo "INVALID: $n files of $size B at the top, want $want"; return; }
        sum=$(cd "$out" && cat "$pre"*.bin | md5sum | cut -d' ' -f1)
        [ "$sum" = "$md5" ] || { echo "INVALID: content differs (md5 over all files)"; return; }
    else
        n=$(find "$out" -type f -not -path "$out/.sluice/*" | wc -l)
        [ "$n" = 1 ] || { echo "INVALID: $n files, want 1"; return; }
        [ -f "$out/big.bin" ] || { echo "INVALID: big.bin missing"; return; }
        cmp -s "$WWW/big.bin" "$out/big.bin" || { echo "INVALID: big.bin differs"; return; }
    fi
    echo ok
}

run_one() {
    local wl=$1 tool=$2 r=$3 out log tf rc s0 s1 line
    local -a cmd
    out="$W/out-$wl-$tool-$r"
    log="$W/run/$wl-$tool-$r.log"
    tf="$W/run/$wl-$tool-$r.time"
    rm -rf "$out" && mkdir -p "$out"
    case $tool-$wl in
    sluice-*)
        cmd=("$SLUICE" -i "$W/run/list-$wl.txt" -d "$out" -j "$CONC" --headless) ;;
    curl-small | curl-tiny)
        awk -v out="$out" '{ n = $0; sub(/.*\//, "", n)
            printf "url = \"%s\"\noutput = \"%s/%s\"\n", $0, out, n }' \
            "$W/run/list-$wl.txt" > "$W/run/curl-$wl.cfg"
        cmd=(curl -q --parallel --parallel-max "$CONC" -s -S -f -K "$W/run/curl-$wl.cfg") ;;
    curl-big)
        cmd=(curl -q -s -S -f -o "$out/big.bin" "$NGINX_URL/big.bin") ;;
    aria2-small | aria2-tiny)
        cmd=(aria2c --no-conf -i "$W/run/list-$wl.txt" -d "$out" -j "$CONC" -x 1
            --allow-overwrite=true --auto-file-renaming=false --console-log-level=error
            --summary-interval=0 --file-allocation=none) ;;
    aria2-big)
        cmd=(aria2c --no-conf -i "$W/run/list-big.txt" -d "$out" -j 1 -x 1 -s 1
            --allow-overwrite=true --auto-file-renaming=false --console-log-level=error
            --summary-interval=0 --file-allocation=none) ;;
    esac
    # Start every tool with no dirty pages left over from the previous one.
    sync
    # timeout inside time: the rusage still covers the tool (a reaped descendant).
    # time(1) gives CPU and peak RSS; wall is taken here to the millisecond (%e has 10 ms).
    s0=$(now)
    /usr/bin/time -f '%U %S %M' -o "$tf" timeout -k 5 "$TIMEOUT" "${cmd[@]}" \
        > "$log" 2>&1 < /dev/null
    rc=$?
    s1=$(now)
    sync
    RUN_WALL=$(elapsed "$s0" "$s1")
    RUN_SYNC=$(elapsed "$s1" "$(now)")
    line=$(tail -n 1 "$tf" 2>/dev/null)
    read -r RUN_USER RUN_SYS RUN_RSS <<< "$line"
    if ! [[ "${RUN_RSS:-}" =~ ^[0-9]+$ ]]; then
        RUN_USER=0 RUN_SYS=0 RUN_RSS=0
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        RUN_STATUS="TIMEOUT after ${TIMEOUT}s"
    elif [ "$rc" != 0 ]; then
        RUN_STATUS="INVALID: exit status $rc"
    else
        RUN_STATUS=$(verify_out "$wl" "$out")
    fi
    if [ "$RUN_STATUS" != ok ]; then
        {
            echo "bench: $tool $wl run $r: $RUN_STATUS; command: ${cmd[*]}"
            echo "bench: last lines of its output ($log):"
            tail -n 8 "$log" | sed 's/^/    /'
        } >&2
        # Keep the evidence of a broken run (in build/, the work dir goes); drop the output.
        mv "$log" "$W/run/FAILED-$wl-$tool-$r.log" 2>/dev/null
        cp "$W/run/FAILED-$wl-$tool-$r.log" "$ROOT/build/bench-$wl-$tool-$r.log" 2>/dev/null
    fi
    # A small workload's 5,000 files are not deleted until the bench ends: on ext4 without a
    # journal (this machine's root), creating files soon after thousands were deleted makes the
    # inode allocator skip every "recently deleted" inode (fs/ext4/ialloc.c recently_deleted),
    # which made whichever tool ran next up to 10x slower at creating files. The big file is
    # one inode and goes at once (a GiB per run would add up).
    if [ "$wl" != big ]; then
        mv "$out" "$W/kept-$wl-$tool-$r" 2>/dev/null || rm -rf "$out"
    else
        rm -rf "$out"
    fi
}

# ---------------------------------------------------------------- the runs
RAW="$W/run/raw.txt"
: > "$RAW"
mkdir -p "$ROOT/build"
rm -f "$ROOT"/build/bench-small-*.log "$ROOT"/build/bench-big-*.log   # a past run's failures
declare -A SKIP
ntools=${#TOOLS_ORDER[@]}
T0=$(now)
# How fast this filesystem creates files right now (see the note in run_one): every tool pays
# it 5,000 times in the small workload, so a slow figure here makes the small figures noisy.
probe_create() {
    local d="$W/kept-probe" t0 t1
    rm -rf "$d" && mkdir -p "$d" || return 0
    t0=$(now)
    (cd "$d" && seq 1 2000 | xargs touch) 2>/dev/null
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "bench: creating 2,000 files took %.0f us each", (b - a) * 1e6 / 2000 }'
    awk -v a="$t0" -v b="$t1" 'BEGIN { if ((b - a) > 0.4) printf " (slow: recently deleted inodes nearby; figures will be noisy)" }'
    echo
}
probe_create
# How fast this machine's disk and SHA-256 are, so figures from two machines can be compared:
# 256 MiB written and flushed (dd conv=fsync), and OpenSSL's SHA-256 on 1 MiB blocks (what
# sluice's digest uses; 2 GB/s means about 0.5 s of CPU per GiB that sluice spends and curl not).
probe_machine() {
    local t0 t1 f="$W/kept-disk-probe"
    sync
    t0=$(now)
    dd if=/dev/zero of="$f" bs=1M count=256 conv=fsync status=none 2>/dev/null
    t1=$(now)
    rm -f "$f"
    DISK_MBPS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", 256 * 1048576 / (b - a) / 1e6 }')
    HASH_MBPS=$(openssl speed -seconds 1 -bytes 1048576 -evp sha256 2>/dev/null |
        awk '$1 == "sha256" { v = $2; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }')
    [ -n "$HASH_MBPS" ] || HASH_MBPS=0
    echo "bench: disk: 256 MiB written and flushed at $DISK_MBPS MB/s; SHA-256 (openssl speed, 1 MiB blocks): $HASH_MBPS MB/s$(
        awk -v h="$HASH_MBPS" 'BEGIN { if (h > 0) printf ", %.2f s of CPU per GiB", 1073741824 / h / 1e6 }')"
}
probe_machine
echo "bench: $RUNS run(s) of ${TOOLS_ORDER[*]} on $NGINX_URL (concurrency $CONC, timeout ${TIMEOUT}s per run)"
for ((r = 1; r <= RUNS; r++)); do
    for wl in "${WORKLOADS[@]}"; do
        # Rotate the order each run so no tool always goes first or last.
        for ((k = 0; k < ntools; k++)); do
            tool=${TOOLS_ORDER[$(((k + r - 1) % ntools))]}
            if [ -n "${SKIP[$wl-$tool]:-}" ]; then
                echo "  run $r  $wl  $tool: skipped (timed out before)"
                continue
            fi
            run_one "$wl" "$tool" "$r"
            printf '  run %d  %-5s  %-6s  wall %7.2f s  +sync %6.2f s  cpu %6.2f s  rss %6.1f MiB  %s\n' \
                "$r" "$wl" "$tool" "$RUN_WALL" "$RUN_SYNC" \
                "$(awk -v u="$RUN_USER" -v s="$RUN_SYS" 'BEGIN { print u + s }')" \
                "$(awk -v k="$RUN_RSS" 'BEGIN { print k / 1024 }')" "$RUN_STATUS"
            st=ok
            [ "$RUN_STATUS" = ok ] || st=bad
            [[ "$RUN_STATUS" == TIMEOUT* ]] && SKIP[$wl-$tool]=1
            echo "$wl $tool $r $st $RUN_WALL $RUN_USER $RUN_SYS $RUN_RSS $RUN_SYNC" >> "$RAW"
        done
    done
done
TOTAL=$(elapsed "$T0" "$(now)")

# ---------------------------------------------------------------- summary
# One awk does the statistics, the table, the ratios, the goals and the key=value file.
mkdir -p "$ROOT/build"
awk -v runs="$RUNS" -v small_bytes=$((SMALL_N * SMALL_SIZE)) -v big_bytes="$BIG_BYTES" \
    -v small_n="$SMALL_N" -v big_mb="$BIG_MB" -v conc="$CONC" -v total="$TOTAL" \
    -v tiny_n="$TINY_N" -v tiny_bytes=$((TINY_N * TINY_SIZE)) -v workloads="${WORKLOADS[*]}" \
    -v disk_mbps="$DISK_MBPS" -v hash_mbps="$HASH_MBPS" \
    -v tools="${TOOLS_ORDER[*]}" -v kv="$RESULTS_FILE" \
    -v stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v host="$(uname -srm) $(nproc) cpu" '
function median(list,    a, n, i, j, t) {
    n = split(list, a, " ")
    if (n == 0) return -1
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function minof(list,    a, n, i, m) { n = split(list, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 < m) m = a[i] + 0; return m }
function maxof(list,    a, n, i, m) { n = split(list, a, " "); m = a[1] + 0; for (i = 2; i <= n; i++) if (a[i] + 0 > m) m = a[i] + 0; return m }
function ratio(a, b) { return (a > 0 && b > 0) ? sprintf("%.2f", a / b) : "n/a" }
function goal(name, text, ok, detail,    g) {
    g = ok == "" ? "n/a" : ok ? "PASS" : "FAIL"
    printf "GOAL %s: %s: %s%s\n", name, text, g, detail == "" ? "" : " (" detail ")"
    print "goal." name "=" g >> kv
}
{
    k = $1 "." $2
    nrun[k]++
    if ($4 != "ok") { nbad[k]++; next }
    nok[k]++
    wall[k] = wall[k] " " $5; wsync[k] = wsync[k] " " ($5 + $9); cpu[k] = cpu[k] " " ($6 + $7); rss[k] = rss[k] " " $8
    # durable: sluice has made every file durable when it exits; the others after a sync
    dur[k] = dur[k] " " ($2 == "sluice" ? $5 : $5 + $9)
}
END {
    ntool = split(tools, tl, " ")
    nwl = split(workloads, wls, " ")
    bytes["small"] = small_bytes; bytes["big"] = big_bytes; bytes["tiny"] = tiny_bytes
    files["small"] = small_n; files["big"] = 1; files["tiny"] = tiny_n
    label["small"] = small_n " x 64 KiB"; label["big"] = "1 x " big_mb " MiB"; label["tiny"] = tiny_n " x 1 KiB"
    hash_s_gib = hash_mbps > 0 ? 1073741824 / (hash_mbps * 1e6) : 0
    printf "" > kv
    print "date=" stamp >> kv
    print "host=" host >> kv
    print "runs=" runs >> kv
    print "concurrency=" conc >> kv
    print "small_files=" small_n >> kv
    print "small_bytes=" small_bytes >> kv
    print "tiny_files=" tiny_n >> kv
    print "big_bytes=" big_bytes >> kv
    print "disk_mbps=" disk_mbps >> kv
    print "sha256_mbps=" hash_mbps >> kv
    print "total_seconds=" total >> kv
    print ""
    printf "%-16s %-7s %-20s %-9s %-8s %-6s %-7s %-8s %-9s %-8s %s\n", "workload", "tool", "wall s (min-max)", "wall+sync", "durable", "CPU s", "RSS MiB", "MB/s dur", "files/s d", "CPU/1k f", "CPU/GiB  runs ok"
    printf "%-16s %-7s %-20s %-9s %-8s %-6s %-7s %-8s %-9s %-8s %s\n", "--------", "----", "----------------", "---------", "-------", "-----", "-------", "--------", "---------", "--------", "-------  -------"
    for (w = 1; w <= nwl; w++) {
        wl = wls[w]
        for (t = 1; t <= ntool; t++) {
            tool = tl[t]; k = wl "." tool
            if (!nrun[k]) continue
            p = "result." k "."
            print p "runs=" nrun[k] + 0 >> kv
            print p "runs_ok=" nok[k] + 0 >> kv
            if (nbad[k]) invalid = 1
            if (!nok[k]) {
                printf "%-16s %-7s %s\n", label[wl], tool, "INVALID (no correct run)"
                print p "valid=no" >> kv
                continue
            }
            valid[k] = nbad[k] ? "partial" : "yes"
            mw[k] = median(wall[k]); ms[k] = median(wsync[k]); mc[k] = median(cpu[k]); mr = median(rss[k]); md[k] = median(dur[k])
            mbps[k] = bytes[wl] / mw[k] / 1e6; mbpss[k] = bytes[wl] / ms[k] / 1e6; mbpsd[k] = bytes[wl] / md[k] / 1e6
            fps[k] = files[wl] / md[k]
            cpk = mc[k] / files[wl] * 1000; cpg = mc[k] / bytes[wl] * 1073741824
            rng = sprintf("%.2f (%.2f-%.2f)", mw[k], minof(wall[k]), maxof(wall[k]))
            printf "%-16s %-7s %-20s %-9.2f %-8.2f %-6.2f %-7.1f %-8.0f %-9s %-8s %-7.2f  %d/%d%s\n", label[wl], tool, rng, ms[k], md[k], mc[k], mr / 1024, mbpsd[k], wl == "big" ? "-" : sprintf("%.0f", fps[k]), wl == "big" ? "-" : sprintf("%.3f", cpk), cpg, nok[k], nrun[k], nbad[k] ? "  INVALID runs!" : ""
            print p "valid=" valid[k] >> kv
            printf "%swall_median=%.3f\n%swall_min=%.3f\n%swall_max=%.3f\n", p, mw[k], p, minof(wall[k]), p, maxof(wall[k]) >> kv
            printf "%swall_sync_median=%.3f\n%sdurable_median=%.3f\n%scpu_median=%.3f\n%srss_kib_median=%d\n%srss_kib_max=%d\n", p, ms[k], p, md[k], p, mc[k], p, mr, p, maxof(rss[k]) >> kv
            printf "%smbps=%.1f\n%smbps_sync=%.1f\n%smbps_durable=%.1f\n%sfiles_per_s_durable=%.0f\n", p, mbps[k], p, mbpss[k], p, mbpsd[k], p, fps[k] >> kv
            printf "%scpu_per_1000_files=%.4f\n%scpu_per_gib=%.3f\n", p, cpk, p, cpg >> kv
        }
    }
    print ""
    print "Durable time: sluice fsyncs every file before renaming it into place and exits when all are"
    print "durable, so its wall time is its durable time; curl leaves the data in the page cache and"
    print "aria2c 1.36 fsyncs each file but not its folder (strace), so theirs is wall + a `sync` run"
    print "right after they exit. sluice also hashes every file (SHA-256) and records it in its session"
    print "database."
    printf "This machine: disk %s MB/s written and flushed, SHA-256 %s MB/s (%.2f s of CPU per GiB).\n", disk_mbps, hash_mbps, hash_s_gib
    print ""
    for (w = 1; w <= nwl; w++) {
        wl = wls[w]; s = wl ".sluice"
        for (t = 1; t <= ntool; t++) {
            tool = tl[t]
            if (tool == "sluice") continue
            o = wl "." tool
            rw = (s in mw && o in mw) ? ratio(mw[s], mw[o]) : "n/a"
            rs = (s in ms && o in ms) ? ratio(ms[s], ms[o]) : "n/a"
            rd = (s in md && o in md) ? ratio(md[s], md[o]) : "n/a"
            rc = (s in mc && o in mc) ? ratio(mc[s], mc[o]) : "n/a"
            line = sprintf("ratio %-5s sluice/%-5s  wall %s  wall+sync %s  durable %s  CPU %s", wl, tool, rw, rs, rd, rc)
            print "ratio." wl ".wall.sluice_" tool "=" rw >> kv
            print "ratio." wl ".wall_sync.sluice_" tool "=" rs >> kv
            print "ratio." wl ".durable.sluice_" tool "=" rd >> kv
            print "ratio." wl ".cpu.sluice_" tool "=" rc >> kv
            if (wl == "big") {
                rt = (s in mbps && o in mbps) ? ratio(mbps[s], mbps[o]) : "n/a"
                rts = (s in mbpsd && o in mbpsd) ? ratio(mbpsd[s], mbpsd[o]) : "n/a"
                line = line sprintf("  throughput %s  durable throughput %s", rt, rts)
                print "ratio.big.throughput.sluice_" tool "=" rt >> kv
                print "ratio.big.throughput_durable.sluice_" tool "=" rts >> kv
            }
            print line
        }
    }
    print ""
    # The goals of issue 15, on durable time and CPU, medians of the same run.
    s = "big.sluice"; c = "big.curl"
    if ((s in md) && (c in md)) {
        goal("big", "sluice durable throughput >= 1.1 x curl", mbpsd[s] >= 1.1 * mbpsd[c],
             sprintf("%.0f MB/s vs %.0f MB/s, %.2fx", mbpsd[s], mbpsd[c], mbpsd[s] / mbpsd[c]))
        goal("big_cpu", "sluice CPU <= curl + SHA-256 of the data", mc[s] <= mc[c] + hash_s_gib * big_bytes / 1073741824,
             sprintf("%.2f s vs %.2f + %.2f s", mc[s], mc[c], hash_s_gib * big_bytes / 1073741824))
    } else if ("big" in label && index(" " workloads " ", " big ")) goal("big", "sluice durable throughput >= 1.1 x curl", "", "no correct run of both")
    s = "small.sluice"; c = "small.curl"
    if ((s in md) && (c in md)) {
        goal("small", "sluice durable time <= 0.8 x curl", md[s] <= 0.8 * md[c],
             sprintf("%.2f s vs %.2f s, %.2fx", md[s], md[c], md[s] / md[c]))
        goal("small_cpu", "sluice CPU <= 1.3 x curl", mc[s] <= 1.3 * mc[c],
             sprintf("%.2f s vs %.2f s, %.2fx", mc[s], mc[c], mc[s] / mc[c]))
    }
    s = "tiny.sluice"; c = "tiny.curl"
    if ((s in md) && (c in md))
        goal("tiny", "sluice files/s >= curl durable files/s", fps[s] >= fps[c],
             sprintf("%.0f/s vs %.0f/s; by plain wall curl %.0f/s", fps[s], fps[c], files["tiny"] / mw[c]))
    print "invalid_runs=" (invalid ? "yes" : "no") >> kv
    close(kv)
    printf "\n(%s; %d run(s) per tool and workload; bench took %.0f s; figures in %s)\n", host, runs, total, kv
    exit invalid ? 1 : 0
}' "$RAW"
STATUS=$?

# The other figures of the issues: cap accuracy at the origin, wire bytes across kill -9s, the
# 1,000,000-URL session, the TUI's cost and sluice attach's. Each prints its own block; BENCH_ONLY_MAIN=1 skips them.
# BENCH_WAN=1 adds bench/wan.sh (the cap and throughput over a delayed path; root, ~8 minutes),
# BENCH_SOAK=1 bench/soak.sh (50 kill -9 in a capped sync against aria2c; ~7.5 minutes).
if [ "${BENCH_ONLY_MAIN:-0}" != 1 ]; then
    parts="cap kill9 session tui attach"
    [ "${BENCH_WAN:-0}" = 1 ] && parts="$parts wan"
    [ "${BENCH_SOAK:-0}" = 1 ] && parts="$parts soak"
    for part in $parts; do
        echo
        echo "==== bench/$part.sh"
        bash "$(dirname "$0")/$part.sh" || STATUS=1
    done
fi
exit "$STATUS"
