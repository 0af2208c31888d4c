#!/usr/bin/env bash
# The soak (issue 14, item 8): SOAK_KILLS kill -9 at seeded random moments of a capped sync of
# SOAK_FILES files (mostly small, a few big), then the same command to the end, then once more
# (a new pass over a finished sync). The same kill schedule is played against aria2c, twice:
# "aria2c -c" runs the same command again (-c, control files saved every second), "aria2c
# session" resumes from its own --save-session file. One nginx on 127.0.0.1 serves them all; its
# access log ($body_bytes_sent, one line per request, written when the request ends, aborted or
# not) splits into runs at marker requests sent after each kill.
#
# Measured per tool (printed side by side, and as key=value lines in build/bench-soak.txt):
#   byte-exact     every file equal to the origin's, no side files (.part, .aria2) left
#   wrong at a kill files the tool had recorded done at a kill that were not equal to the
#                  origin's then (each file is compared when it is first seen done)
#   served / data  body bytes nginx counted over the killed runs and the finishing run / data.
#                  Part of it never left nginx's socket: `ss` sums, just before each kill, the
#                  send queues of nginx's connections (lost with the connection) and the
#                  receive queues of the tool's (delivered, not read yet).
#   wire: delivered / data   (served - origin send queues) / data: what crossed to the client.
#                  The rest of the excess is what the tool read and did not keep (sluice
#                  resumes from the end of a .part written in this boot, else from the progress
#                  its session recorded, every 250 ms; aria2c from its control file) plus the
#                  receive queues.
#   per kill       (sluice; build/bench-soak-kills.txt) what the killed run delivered, what was
#                  in the receive queues, the bytes in .part files on disk, what the session
#                  had recorded of them, and the Range starts the next run asked for (a .part
#                  the next run does not reach before its own kill counts there as 0)
#   fetched again  a file counts when, after the kill where it was first seen done, the origin
#                  served body bytes for it again (in later killed runs or the finishing run):
#                  "full" when those bytes add up to the whole file, "any" for one byte or more.
#                  Done means: sluice, the session says done (read from a copy of session.db and
#                  its WAL taken right after the kill); aria2c, the file has its full size and
#                  no .aria2 control file (aria2c's own record of a finished download). For
#                  sluice the same is also counted with "complete on disk" (the target exists
#                  with its full size) as the definition, which includes files renamed into
#                  place but not yet recorded when the kill came.
#   rerun          the same command after the sync finished: requests, 304s, bodies, bytes
#
# Sizes: 1,990 files of 16-512 KiB (~400 MiB) and 10 of 100-250 MiB (~1.5 GiB), 1.9 GiB in
# all, under -r 40M: about 48 s at the cap, so 50 kills 0.17-1.17 s after each start fit in
# one sync (20-60 MiB big files would leave runs of 0.06-0.4 s, mostly start-up). The cap is
# 40M because on loopback (MSS 64 KiB) sluice's receive windows (share x (RTT + 50 ms)) fall
# below or just above one segment at 10M and 30M with -j 16, and it then reaches only 70-80% of
# the cap with small files; at 20M and 40M it holds the cap.
#
# Environment (defaults give the full soak: about 7.5 minutes on 2 cores, 4 GB in /tmp):
#   SOAK_SEED=1          seeds the tree and the kill schedule (same seed, same schedule)
#   SOAK_KILLS=50        kill -9s per tool
#   SOAK_FILES=2000      files in all, of which SOAK_BIG=10 are big
#   SOAK_SMALL=16K-512K  small sizes (log scale);  SOAK_BIG_SIZE=100M-250M  big sizes
#   SOAK_RATE=40M        the cap of every tool (sluice -r, aria2c --max-overall-download-limit)
#   SOAK_J=16            concurrency of every tool
#   SOAK_DELAY=LO-HI     seconds from a start to its kill, uniform (default: from the data size
#                        and the cap, so the kills cover about 70% of the sync)
#   SOAK_TOOLS="sluice aria2 aria2s"   SOAK_TIMEOUT=600 seconds for the finishing run
#   KEEP=1               keep the work folder (data, outputs, logs, snapshots)
#   SOAK_REPORT=DIR      print the figures again from a folder kept by KEEP=1, run nothing
# Quick run (~30 s): SOAK_KILLS=6 SOAK_FILES=300 SOAK_BIG=2 SOAK_BIG_SIZE=8M-16M bench/soak.sh
# Exit status: 0 when every tool's final tree is byte-exact, 1 otherwise, 2 on a setup error.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/tests/lib.sh"
_FINISHED=1     # a bench, not a test
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

SEED=${SOAK_SEED:-1}
KILLS=${SOAK_KILLS:-50}
FILES=${SOAK_FILES:-2000}
BIG=${SOAK_BIG:-10}
SMALL=${SOAK_SMALL:-16K-512K}
BIG_SIZE=${SOAK_BIG_SIZE:-100M-250M}
RATE=${SOAK_RATE:-40M}
J=${SOAK_J:-16}
TIMEOUT=${SOAK_TIMEOUT:-600}
read -r -a TOOLS_LIST <<< "${SOAK_TOOLS:-sluice aria2 aria2s}"
RESULTS="$ROOT/build/bench-soak.txt"

die() { echo "soak: $*" >&2; exit 2; }
for v in SEED KILLS FILES BIG J TIMEOUT; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die "SOAK_$v must be a whole number"
done
[ "$BIG" -le "$FILES" ] || die "SOAK_BIG is more than SOAK_FILES"
[ -x "$SLUICE" ] || die "$SLUICE is missing (make sluice)"
[ -x "$TOOLS/gentree" ] || die "$TOOLS/gentree is missing (make tools)"
command -v sqlite3 > /dev/null || die "sqlite3 is missing (make deps)"
for tool in "${TOOLS_LIST[@]}"; do
    case $tool in
    sluice) ;;
    aria2 | aria2s) command -v aria2c > /dev/null || die "aria2c is missing" ;;
    *) die "unknown tool $tool (sluice, aria2, aria2s)" ;;
    esac
done

bytes_of() {   # 16K -> 16384
    awk -v s="$1" 'BEGIN { m = 1; u = substr(s, length(s)); if (u == "K") m = 1024; else if (u == "M") m = 1048576; else if (u == "G") m = 1073741824;
        if (m > 1) s = substr(s, 1, length(s) - 1); printf "%d", s * m }'
}
RATE_BYTES=$(bytes_of "$RATE")
[ "$RATE_BYTES" -gt 0 ] || die "SOAK_RATE must be a rate such as 20M"
now() { date +%s.%N; }

# ---------------------------------------------------------------- the origin
make_origin() {
    W=$T
    mkdir -p "$W/www" "$W/snap" "$W/log"
    t0=$(now)
    "$TOOLS/gentree" "$W/www/small" "$((FILES - BIG))" "${SMALL%-*}" "${SMALL#*-}" "$SEED" |
        sed 's|^|small/|' > "$W/small.tsv" || die "gentree failed"
    : > "$W/big.tsv"
    if [ "$BIG" -gt 0 ]; then
        "$TOOLS/gentree" "$W/www/big" "$BIG" "${BIG_SIZE%-*}" "${BIG_SIZE#*-}" "$((SEED + 1))" |
            sed 's|^|big/|' > "$W/big.tsv" || die "gentree failed"
    fi
    # The big files spread through the list (one every FILES/BIG items), as a real list would be.
    awk -F'\t' -v nb="$BIG" -v n="$FILES" '
        NR == FNR { big[++b] = $0; next }
        { print; i++; if (nb > 0 && k < b && i % int(n / nb) == int(n / nb / 2)) print big[++k] }
        END { while (k < b) print big[++k] }' "$W/big.tsv" "$W/small.tsv" > "$W/files.tsv"
    DATA=$(awk -F'\t' '{ s += $2 } END { printf "%d", s }' "$W/files.tsv")
    NFILES=$(wc -l < "$W/files.tsv")
    start_nginx "$W/www"
    tree_urls "$NGINX_URL" "$W/files.tsv" > "$W/list-sluice.txt"
    # aria2c names a file after the URL's last segment: out= keeps the same tree as sluice's.
    paste "$W/list-sluice.txt" "$W/files.tsv" | awk -F'\t' '{ print $1; print "  out=" $2 }' > "$W/list-aria2.txt"

    # ---------------------------------------------------------------- the kill schedule
    if [ -n "${SOAK_DELAY:-}" ]; then
        DLO=${SOAK_DELAY%-*} DHI=${SOAK_DELAY#*-}
    else
        # Kills spread over about 70% of the sync at the cap: mean delay 0.7 x data/rate/kills.
        read -r DLO DHI <<< "$(awk -v d="$DATA" -v r="$RATE_BYTES" -v k="$KILLS" 'BEGIN {
            m = (k > 0) ? 0.7 * d / r / k : 1; lo = m * 0.25; if (lo < 0.05) lo = 0.05
            printf "%.3f %.3f", lo, 2 * m - lo }')"
    fi
    awk -v seed="$SEED" -v k="$KILLS" -v lo="$DLO" -v hi="$DHI" \
        'BEGIN { srand(seed); for (i = 1; i <= k; i++) printf "%.3f\n", lo + (hi - lo) * rand() }' > "$W/schedule.txt"
    printf 'soak: %d files (%d big), %.1f MiB, cap %s, -j %d; %d kill -9 per tool, %s-%s s after each start (seed %d; schedule sum %.1f s); %s\n' \
        "$NFILES" "$BIG" "$(awk -v d="$DATA" 'BEGIN { print d / 1048576 }')" "$RATE" "$J" "$KILLS" "$DLO" "$DHI" "$SEED" \
        "$(awk '{ s += $1 } END { print s + 0 }' "$W/schedule.txt")" "$NGINX_URL"
    (cd "$W/www" && cut -f1 "$W/files.tsv" | tr '\n' '\0' | xargs -0 sha256sum) > "$W/www.sha256" ||
        die "hashing the origin's files failed"
    printf 'soak: origin ready in %.1f s\n' "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')"
}

# verify_tree OUT: every file equal to the origin's, no .part or .aria2 left (what is wrong on stdout).
verify_tree() {
    local out=$1 bad=0 side
    (cd "$out" && sha256sum --quiet -c "$W/www.sha256" 2>&1) | head -n 20 | grep . && bad=1
    side=$(find "$out" \( -name '*.part' -o -name '*.aria2' \) | head -n 10)
    [ -n "$side" ] && { printf 'side files left:\n%s\n' "$side"; bad=1; }
    return "$bad"
}

# ---------------------------------------------------------------- one tool
mark() {   # a 404 in the access log that splits it into runs
    curl -q -s -o /dev/null --max-time 5 "$NGINX_URL/__soak/$1/$2"
}

start_tool() {   # start_tool TOOL OUT: the tool in the background, PID in TOOL_PID
    case $1 in
    sluice)
        "$SLUICE" -i "$W/list-sluice.txt" -d "$2" -j "$J" -r "$RATE" --headless \
            < /dev/null >> "$W/log/sluice.out" 2>&1 &
        ;;
    aria2)
        # aria2c resumes from its control file (FILE.aria2), written every second here (the
        # default is every 60 s: a kill would lose up to a minute of every file's progress);
        # -c continues files it finds; no preallocation, so a partial file is never taken for
        # a whole one. Not --conditional-get: a partial file without its control file would
        # then be kept as it is after a 304 (seen: a 50,000-byte file kept, exit 0).
        aria2c --no-conf -i "$W/list-aria2.txt" -d "$2" -j "$J" -x 1 -s 1 \
            --max-overall-download-limit="$RATE" -c --auto-file-renaming=false \
            --allow-overwrite=true --auto-save-interval=1 --file-allocation=none \
            --console-log-level=warn --summary-interval=0 --download-result=hide \
            < /dev/null >> "$W/log/aria2.out" 2>&1 &
        ;;
    aria2s)
        # The same, resuming the batch from aria2c's own session file (--save-session, written
        # every second): a restart reads the unfinished downloads from it instead of the whole
        # list. The rerun (a new pass) is given the whole list again.
        local input="$W/list-aria2.txt"
        [ -z "$RERUN" ] && [ -f "$W/aria2s.session" ] && input="$W/aria2s.session"
        aria2c --no-conf -i "$input" -d "$2" -j "$J" -x 1 -s 1 \
            --max-overall-download-limit="$RATE" -c --auto-file-renaming=false \
            --allow-overwrite=true --auto-save-interval=1 --file-allocation=none \
            --save-session="$W/aria2s.session" --save-session-interval=1 \
            --console-log-level=warn --summary-interval=0 --download-result=hide \
            < /dev/null >> "$W/log/aria2s.out" 2>&1 &
        ;;
    esac
    TOOL_PID=$!
}

# queues: "SERVER_SENDQ CLIENT_RECVQ" in bytes, summed over every TCP connection to the origin,
# taken just before a kill: what nginx has counted as sent but is still in its socket, and what
# reached the tool's sockets but was not read yet. Both are lost by the kill.
queues() {
    ss -tnH "( sport = :$NGINX_PORT or dport = :$NGINX_PORT )" 2> /dev/null |
        awk -v port=":$NGINX_PORT" '{ if (substr($4, length($4) - length(port) + 1) == port) sq += $3; else rq += $2 }
            END { printf "%d %d\n", sq, rq }'
}

wait_tool() {   # up to SOAK_TIMEOUT seconds for TOOL_PID: WAIT_RC (124 when it had to be killed)
    local i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        kill -0 "$TOOL_PID" 2> /dev/null || break
        sleep 0.1
    done
    if kill -0 "$TOOL_PID" 2> /dev/null; then
        kill -KILL "$TOOL_PID" 2> /dev/null
        wait "$TOOL_PID" 2> /dev/null
        WAIT_RC=124
        return
    fi
    wait "$TOOL_PID" 2> /dev/null
    WAIT_RC=$?
}

# snapshot TOOL OUT K: what the tool has done after kill K, and the first look at each new file.
#   snap/TOOL.done   "K<TAB>path" the first time path is seen done (the tool's own record)
#   snap/TOOL.disk   "K<TAB>path" the first time path is complete on disk
#   snap/TOOL.wrong  "K<TAB>path" done but not equal to the origin's then
snapshot() {
    local tool=$1 out=$2 k=$3 s="$W/snap/$1" rec=0
    find "$out" -path "$out/.sluice" -prune -o -type f -printf '%P\t%s\n' 2> /dev/null > "$s.ls"
    # complete on disk: full size, no side file
    awk -F'\t' 'NR == FNR { size[$1] = $2; next }
        { have[$1] = $2 }
        END { for (p in size) if (p in have && have[p] == size[p] && !((p ".part") in have) && !((p ".aria2") in have)) print p }' \
        "$W/files.tsv" "$s.ls" | sort > "$s.disk.now"
    if [ "$tool" = sluice ]; then
        rm -f "$s.db" "$s.db-wal" "$s.db-shm"
        if [ -f "$out/.sluice/session.db" ]; then
            cp "$out/.sluice/session.db" "$s.db"
            [ -f "$out/.sluice/session.db-wal" ] && cp "$out/.sluice/session.db-wal" "$s.db-wal"
            sqlite3 "$s.db" 'SELECT path FROM items WHERE state IN (4, 5)' 2> "$s.sqlerr" | sort > "$s.done.now"
            [ -s "$s.sqlerr" ] && echo "soak: reading the session after kill $k: $(head -n 1 "$s.sqlerr")" >&2
            rec=$(sqlite3 "$s.db" 'SELECT coalesce(sum(received), 0) FROM items WHERE state NOT IN (4, 5)' 2> /dev/null)
        else
            : > "$s.done.now"
        fi
    else
        cp "$s.disk.now" "$s.done.now"
    fi
    # Per kill: bytes in .part files, and what the session recorded of them (sluice).
    awk -F'\t' -v k="$k" -v rec="${rec:-0}" '$1 ~ /\.part$/ { p += $2 }
        END { printf "%d %d %d\n", k, p, rec }' "$s.ls" >> "$s.kills"
    local kind
    for kind in done disk; do
        touch "$s.$kind" "$s.$kind.seen"
        comm -23 "$s.$kind.now" "$s.$kind.seen" > "$s.$kind.new"
        sed "s/^/$k\t/" "$s.$kind.new" >> "$s.$kind"
        sort -m "$s.$kind.seen" "$s.$kind.new" > "$s.$kind.tmp" && mv "$s.$kind.tmp" "$s.$kind.seen"
    done
    # Each file newly recorded done is compared with the origin's now.
    local p
    while IFS= read -r p; do
        cmp -s "$W/www/$p" "$out/$p" || printf '%s\t%s\n' "$k" "$p" >> "$s.wrong"
    done < "$s.done.new"
}

soak_tool() {
    local tool=$1 out="$W/out-$1" k d rc killed=0 t0 t1 fin_rc fin_s re_rc re_s
    rm -rf "$out" "$W/snap/$tool".* "$W/$tool.session"
    RERUN=""
    touch "$W/snap/$tool.wrong" "$W/snap/$tool.queues"
    mark "$tool" start
    t0=$(now)
    k=0
    local finished_early=""
    while read -r d; do
        k=$((k + 1))
        start_tool "$tool" "$out"
        sleep "$d"
        queues > "$W/snap/$tool.q.now"
        kill -KILL "$TOOL_PID" 2> /dev/null
        wait "$TOOL_PID" 2> /dev/null
        rc=$?
        if [ "$rc" != 137 ]; then
            # It ended by itself before its kill: that run was the finishing run.
            finished_early="$k (exit $rc)"
            fin_rc=$rc
            break
        fi
        killed=$((killed + 1))
        cat "$W/snap/$tool.q.now" >> "$W/snap/$tool.queues"
        sleep 0.3       # nginx logs the aborted requests
        mark "$tool" "kill$killed"
        snapshot "$tool" "$out" "$killed"
    done < "$W/schedule.txt"
    t1=$(now)
    if [ -z "$finished_early" ]; then
        start_tool "$tool" "$out"
        wait_tool
        fin_rc=$WAIT_RC
    fi
    fin_s=$(awk -v a="$t1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    sleep 0.3
    mark "$tool" final
    # The finished tree, before the rerun touches it.
    local exact=yes why
    why=$(verify_tree "$out") || exact=no
    [ "$exact" = yes ] || printf 'soak: %s: final tree not byte-exact:\n%s\n' "$tool" "$why" | head -n 20 >&2
    t1=$(now)
    RERUN=1
    start_tool "$tool" "$out"
    wait_tool
    RERUN=""
    re_rc=$WAIT_RC
    re_s=$(awk -v a="$t1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    sleep 0.3
    mark "$tool" rerun
    local exact2=yes
    verify_tree "$out" > /dev/null || exact2=no
    printf '%s killed=%d finished_early=%s final_rc=%s final_s=%s kill_phase_s=%s exact=%s rerun_rc=%s rerun_s=%s exact_after_rerun=%s\n' \
        "$tool" "$killed" "${finished_early:-no}" "$fin_rc" "$fin_s" \
        "$(awk -v a="$t0" -v b="$t1" -v f="$fin_s" 'BEGIN { printf "%.1f", b - a - f }')" \
        "$exact" "$re_rc" "$re_s" "$exact2" >> "$W/runs.txt"
    printf 'soak: %-6s %d kills, finishing run exit %s in %s s, byte-exact %s, rerun exit %s in %s s\n' \
        "$tool" "$killed" "$fin_rc" "$fin_s" "$exact" "$re_rc" "$re_s"
    # Keep the output only until the figures are taken (the disk is shared).
    [ "${KEEP:-0}" = 1 ] || rm -rf "$out"
}

if [ -n "${SOAK_REPORT:-}" ]; then
    # The figures again from a kept work folder (KEEP=1), without running anything.
    W=$(cd "$SOAK_REPORT" && pwd) || die "no folder $SOAK_REPORT"
    NGINX_ACCESS_LOG="$W/nginx-access.log"
    DATA=$(awk -F'\t' '{ s += $2 } END { printf "%d", s }' "$W/files.tsv")
    NFILES=$(wc -l < "$W/files.tsv")
    read -r -a TOOLS_LIST <<< "$(cut -d' ' -f1 "$W/runs.txt" | tr '\n' ' ')"
    KILLS=$(wc -l < "$W/schedule.txt")
else
    make_origin
    : > "$W/runs.txt"
    for tool in "${TOOLS_LIST[@]}"; do
        soak_tool "$tool"
    done
fi

# ---------------------------------------------------------------- the figures
mkdir -p "$ROOT/build"
awk -v data="$DATA" -v nfiles="$NFILES" -v kills="$KILLS" -v seed="$SEED" -v rate="$RATE" -v j="$J" \
    -v tools="${TOOLS_LIST[*]}" -v snap="$W/snap" -v kv="$RESULTS" -v runs="$W/runs.txt" \
    -v stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v host="$(uname -srm) $(nproc) cpu" '
BEGIN {
    FS = "\t"
    ntool = split(tools, tl, " ")
    while ((getline line < runs) > 0) {
        n = split(line, f, " ")
        t = f[1]
        for (i = 2; i <= n; i++) { split(f[i], kvp, "="); R[t, kvp[1]] = kvp[2] }
    }
    for (i = 1; i <= ntool; i++) {
        t = tl[i]
        file = snap "/" t ".done"; while ((getline line < file) > 0) { split(line, a, "\t"); done[t, a[2]] = a[1] }
        file = snap "/" t ".disk"; while ((getline line < file) > 0) { split(line, a, "\t"); disk[t, a[2]] = a[1] }
        file = snap "/" t ".queues"; nq = 0
        while ((getline line < file) > 0) { split(line, a, " "); sendq[t] += a[1]; recvq[t] += a[2]; nq++; ksq[t, nq] = a[1]; krq[t, nq] = a[2] }
        file = snap "/" t ".kills"; while ((getline line < file) > 0) { split(line, a, " "); kpart[t, a[1]] = a[2]; krec[t, a[1]] = a[3] }
        file = snap "/" t ".wrong"; while ((getline line < file) > 0) { split(line, a, "\t"); wrong[t]++; wrongp[t] = wrongp[t] " " a[2] "@kill" a[1] }
    }
}
NR == FNR { size[$1] = $2; next }
{
    # $connection $request_method $request_uri $status $body_bytes_sent "range" ...
    split($0, w, " ")
    uri = w[3]; st = w[4]; b = w[5] + 0
    if (uri ~ /^\/__soak\//) {
        split(uri, m, "/"); t = m[3]; ph = m[4]
        if (ph == "start") { tool = t; seg = 1 }
        else if (ph ~ /^kill/) seg = substr(ph, 5) + 1
        else if (ph == "final") seg = "rerun"
        else if (ph == "rerun") seg = "after"
        next
    }
    if (tool == "" || seg == "after") next
    p = substr(uri, 2); sub(/\?.*/, "", p)
    if (seg == "rerun") {
        rq[tool]++; rb[tool] += b
        if (st == 304) r304[tool]++; else if (st == 200 || st == 206) rbody[tool]++; else rother[tool]++
        next
    }
    wire[tool] += b; reqs[tool]++
    kserved[tool, seg] += b
    # "bytes=N-": the run after kill seg-1 resumed that file from N
    if (w[6] ~ /^"bytes=[0-9]+-"$/) { r = w[6]; gsub(/[^0-9]/, "", r); kres[tool, seg - 1] += r; tres[tool] += r }
    served[tool, p] += b
    if ((tool, p) in done && seg > done[tool, p] + 0) { after[tool, p] += b; areq[tool]++ }
    if ((tool, p) in disk && seg > disk[tool, p] + 0) { afterd[tool, p] += b }
}
END {
    for (i = 1; i <= ntool; i++) {
        t = tl[i]
        for (p in size) {
            if (after[t, p] > 0) { anyr[t]++; ab[t] += after[t, p] }
            if (after[t, p] >= size[p] && size[p] > 0) { full[t]++; if (fl[t] < 5) { fl[t]++; fullp[t] = fullp[t] " " p } }
            if (afterd[t, p] > 0) anyd[t]++
            if (afterd[t, p] >= size[p] && size[p] > 0) fulld[t]++
            if (served[t, p] >= 2 * size[p] && size[p] > 0) twice[t]++
        }
        ndone[t] = 0; for (k in done) { split(k, q, SUBSEP); if (q[1] == t) ndone[t]++ }
    }
    # Per kill (build/bench-soak-kills.txt): where what was delivered in the killed run went.
    kf = kv; sub(/\.txt$/, "-kills.txt", kf)
    printf "" > kf
    for (i = 1; i <= ntool; i++) {
        t = tl[i]
        if (t != "sluice") continue
        printf "%s: per kill, MiB: delivered in the run (served - origin send queue), in the receive\nqueues, in .part files on disk, recorded in the session, resumed from by the next run (Range)\n", t >> kf
        printf "%5s %10s %8s %8s %9s %8s\n", "kill", "delivered", "recvq", "on disk", "recorded", "resumed" >> kf
        for (k = 1; k <= R[t, "killed"]; k++) {
            printf "%5d %10.2f %8.2f %8.2f %9.2f %8.2f\n", k, (kserved[t, k] - ksq[t, k]) / 1048576, krq[t, k] / 1048576,
                kpart[t, k] / 1048576, krec[t, k] / 1048576, kres[t, k] / 1048576 >> kf
            spart[t] += kpart[t, k]; srec[t] += krec[t, k]; sres[t] += kres[t, k]
        }
    }
    close(kf)
    printf "" > kv
    print "date=" stamp >> kv; print "host=" host >> kv; print "seed=" seed >> kv
    print "files=" nfiles >> kv; print "data_bytes=" data >> kv; print "kills=" kills >> kv
    print "rate=" rate >> kv; print "concurrency=" j >> kv
    printf "\n%-52s", "" ; for (i = 1; i <= ntool; i++) printf " %18s", tl[i] == "aria2" ? "aria2c -c" : tl[i] == "aria2s" ? "aria2c session" : tl[i]; printf "\n"
    row("kill -9 delivered", "killed")
    row("finishing run: exit status", "final_rc")
    row("finishing run: seconds", "final_s")
    row("byte-exact at the end", "exact")
    rowf("files done at a kill but not equal then", "wrong")
    rowf("served by the origin (MiB, kills + finishing run)", "wire_mib")
    rowf("served / data", "ratio")
    rowf("  in the origin send queues at the kills (MiB)", "sendq")
    rowf("wire: delivered / data (goal <= 1.05)", "dratio")
    rowf("  in the tool receive queues at the kills (MiB)", "recvq")
    rowf("  read by the tool, not kept (MiB)", "lost")
    rowf("delivered and not kept, per kill (MiB)", "perkill")
    rowf("  per kill: in .part files / recorded / resumed (MiB)", "kdisk")
    rowf("files fetched again after done: full body", "full")
    rowf("files fetched again after done: any body bytes", "any")
    rowf("requests for files already done", "areq")
    rowf("sluice, done = complete on disk: full / any", "diskfull")
    rowf("files served in full twice or more (any time)", "twice")
    rowf("rerun: requests", "rq")
    rowf("rerun: 304 / bodies (200, 206)", "r304")
    rowf("rerun: body bytes (MiB)", "rb")
    row("byte-exact after the rerun", "exact_after_rerun")
    printf "\ndata %.1f MiB in %d files; a file is \"done\" for sluice when its session says so, for aria2c\n", data / 1048576, nfiles
    printf "when it has its full size and no .aria2 control file; see bench/soak.sh for the definitions.\n"
    for (i = 1; i <= ntool; i++) {
        t = tl[i]
        if (full[t] > 0) printf "%s: fetched again after done, e.g.%s\n", t, fullp[t]
        if (wrong[t] > 0) printf "%s: done but wrong at a kill:%s\n", t, substr(wrongp[t], 1, 400)
        for (k in R) { split(k, q, SUBSEP); if (q[1] == t) print "result." t "." q[2] "=" R[k] >> kv }
        printf "result.%s.sendq_bytes=%d\nresult.%s.recvq_bytes=%d\nresult.%s.delivered_ratio=%.4f\n", t, sendq[t], t, recvq[t], t, (wire[t] - sendq[t]) / data >> kv
        printf "result.%s.served_bytes=%d\nresult.%s.served_ratio=%.4f\nresult.%s.refetched_full=%d\nresult.%s.refetched_any=%d\n", t, wire[t], t, wire[t] / data, t, full[t] + 0, t, anyr[t] + 0 >> kv
        printf "result.%s.refetched_full_disk=%d\nresult.%s.refetched_any_disk=%d\nresult.%s.wrong_at_kill=%d\n", t, fulld[t] + 0, t, anyd[t] + 0, t, wrong[t] + 0 >> kv
        printf "result.%s.rerun_requests=%d\nresult.%s.rerun_304=%d\nresult.%s.rerun_bodies=%d\nresult.%s.rerun_body_bytes=%d\n", t, rq[t], t, r304[t], t, rbody[t], t, rb[t] >> kv
    }
    close(kv)
}
function cell(t, key,    v) {
    if (key == "wrong") return wrong[t] + 0
    if (key == "wire_mib") return sprintf("%.1f", wire[t] / 1048576)
    if (key == "ratio") return sprintf("%.3fx", wire[t] / data)
    if (key == "sendq") return sprintf("%.1f", sendq[t] / 1048576)
    if (key == "dratio") return sprintf("%.3fx", (wire[t] - sendq[t]) / data)
    if (key == "recvq") return sprintf("%.1f", recvq[t] / 1048576)
    if (key == "lost") return sprintf("%.1f", (wire[t] - sendq[t] - recvq[t] - data) / 1048576)
    if (key == "perkill") return R[t, "killed"] > 0 ? sprintf("%.2f", (wire[t] - sendq[t] - data) / 1048576 / R[t, "killed"]) : "n/a"
    if (key == "full") return full[t] + 0
    if (key == "kdisk") return t == "sluice" && R[t, "killed"] > 0 ? sprintf("%.1f/%.1f/%.1f", spart[t] / 1048576 / R[t, "killed"], srec[t] / 1048576 / R[t, "killed"], sres[t] / 1048576 / R[t, "killed"]) : "-"
    if (key == "any") return sprintf("%d (%.1f MiB)", anyr[t], ab[t] / 1048576)
    if (key == "areq") return areq[t] + 0
    if (key == "diskfull") return t == "sluice" ? sprintf("%d / %d", fulld[t], anyd[t]) : "-"
    if (key == "twice") return twice[t] + 0
    if (key == "rq") return rq[t] + 0
    if (key == "r304") return sprintf("%d / %d", r304[t], rbody[t])
    if (key == "rb") return sprintf("%.2f", rb[t] / 1048576)
    return "?"
}
function row(label, key,    i) {
    printf "%-52s", label; for (i = 1; i <= ntool; i++) printf " %18s", ((tl[i], key) in R) ? R[tl[i], key] : "-"; printf "\n"
}
function rowf(label, key,    i) {
    printf "%-52s", label; for (i = 1; i <= ntool; i++) printf " %18s", cell(tl[i], key); printf "\n"
}' "$W/files.tsv" "$NGINX_ACCESS_LOG"
echo "(figures in $RESULTS)"
bad=0
for tool in "${TOOLS_LIST[@]}"; do
    grep -q "^$tool .* exact=yes " "$W/runs.txt" || bad=1
done
exit "$bad"
