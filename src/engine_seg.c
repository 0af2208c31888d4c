/* Segmented downloads (docs/design.md#segmented-downloads): the first response of a big file
 * that accepts ranges becomes its first range; the others are planned by segplan.c and fetched
 * on connections of their own, each written in place into the one .part. A range that fails is
 * fetched again alone, from where its bytes on disk end; an origin that does not answer a range
 * as asked sends the file back to one connection from zero. Once every range is on disk, a
 * worker reads the .part in order for its SHA-256 and the writer commits it as usual. */
#include "engine_seg.h"
#include "engine_impl.h"
#include "engine_cap.h"
#include "engine_transfer.h"
#include "digest.h"
#include "fsout.h"
#include "hosts.h"
#include "loop.h"
#include "queue.h"
#include "retry.h"
#include "segplan.h"
#include "syncer.h"
#include "util.h"
#include "writer.h"
#include "xfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ranges that failed without a byte of progress in between: then the file's attempt fails as a
 * whole (retry_decide: backoff, or failed), its ranges kept for the next one. */
#define SEG_FAILS_MAX 3
/* Stealing is looked at no more often than this while nothing finishes (it walks the
 * transfers). */
#define STEAL_EVERY_MS 100

static bool strong_etag(const char *etag)
{
    return etag != NULL && etag[0] == '"';
}

static const char *validator_of(const struct item *it)
{
    return strong_etag(it->etag) ? it->etag : it->last_modified;
}

static void track(struct engine *e, struct item *it)
{
    for (size_t i = 0; i < e->nsegitems; i++)
        if (e->segitems[i] == it)
            return;
    if (e->nsegitems == e->segcap) {
        e->segcap = e->segcap ? e->segcap * 2 : 8;
        e->segitems = xrealloc(e->segitems, e->segcap * sizeof *e->segitems);
    }
    e->segitems[e->nsegitems++] = it;
}

static void untrack(struct engine *e, struct item *it)
{
    for (size_t i = 0; i < e->nsegitems; i++) {
        if (e->segitems[i] == it) {
            e->segitems[i] = e->segitems[--e->nsegitems];
            return;
        }
    }
}

/* The range that holds byte pos, or -1. */
static int range_at(const struct item *it, int64_t pos)
{
    for (size_t i = 0; i < it->nsegs; i++)
        if (pos >= it->segs[i].start && pos < it->segs[i].end)
            return (int)i;
    return -1;
}

static void plan_changed(struct engine *e, struct item *it)
{
    it->received = segplan_done(it->segs, it->nsegs);
    it->segs_dirty = true;
    queue_touch(e->q, it);
}

/* The first range's digest (xfer.c) is good while the .part's first bytes are those it hashed. */
static void drop_seg_hash(struct item *it)
{
    digest_free(it->seg_hash);
    it->seg_hash = NULL;
    /* A worker still hashing for it: its result is not taken (engine_seg_on_worker_done). */
    it->seg_hashing = false;
    it->seg_gen++;
}

void engine_seg_forget(struct item *it)
{
    drop_seg_hash(it);
    if (it->segs == NULL)
        return;
    free(it->segs);
    it->segs = NULL;
    it->nsegs = 0;
    it->segs_dirty = true;       /* its rows go with the next write */
}

/* Called from the lead's write callback, at its first body byte: the split is decided here,
 * so every window is retuned now with the planned ranges counted (engine_cap.c,
 * planned_ranges), before the lead's buffer grows for a window of the whole cap and before the
 * new connections start (docs/design.md#segmented-downloads). Only socket options change. */
void engine_seg_on_lead(void *arg, struct xfer *x)
{
    struct engine *e = arg;

    track(e, xfer_item(x));
    if (e->rate > 0)
        engine_cap_retune(e);
}

/* The lead's file gets its plan: the lead keeps the first range and is cut down to it. */
static void plan(struct engine *e, struct item *it, struct active *lead)
{
    struct seg *v;

    if (it->segs != NULL)
        return;
    if (lead == NULL)
        for (struct active *a = e->actives; a != NULL; a = a->next)
            if (xfer_item(a->x) == it && xfer_range_lead(a->x))
                lead = a;
    v = xcalloc(SEGPLAN_MAX, sizeof *v);
    it->segs = v;
    /* A lead that resumed a .part one connection wrote: [0, its offset) is on disk already. */
    /* Pieces in file order only uncapped: the lead was told the same (xfer.c, seg_per). */
    it->nsegs = segplan_plan(it->size, lead != NULL ? xfer_offset(lead->x) : 0, e->s->segments,
                             (lead != NULL ? xfer_range_per(lead->x) :
                              e->rate > 0 ? 1 : SEGPLAN_PIECES), e->s->min_segment, v);
    it->seg_fails = 0;
    if (lead != NULL) {
        int i = range_at(it, xfer_offset(lead->x));

        if (i >= 0) {
            v[i].busy = true;
            xfer_range_cut(lead->x, v[i].end);
        }
    }
    plan_changed(e, it);
}

/* A range's connection ends: what it wrote goes into the plan. */
static void record(struct item *it, int64_t from, int64_t written)
{
    int i = range_at(it, from);
    int64_t done;

    if (i < 0)
        return;
    done = from + written - it->segs[i].start;
    if (done > it->segs[i].end - it->segs[i].start)
        done = it->segs[i].end - it->segs[i].start;
    if (done > it->segs[i].done)
        it->segs[i].done = done;
    it->segs[i].busy = false;
}

/* Stops every connection of the item, keeping what each wrote. */
static void stop_all(struct engine *e, struct item *it)
{
    struct active *a;

    if (it->segs == NULL)
        plan(e, it, NULL);
    do {
        for (a = e->actives; a != NULL; a = a->next)
            if (xfer_item(a->x) == it)
                break;
        if (a != NULL) {
            char msg[ERRLEN];
            struct retry_facts f;
            int64_t from = xfer_offset(a->x);

            (void)xfer_verdict(a->x, CURLE_ABORTED_BY_CALLBACK, msg, &f);
            record(it, from, xfer_range_written(a->x));
            engine_transfer_release(e, a);
        }
    } while (a != NULL);
    plan_changed(e, it);
}

static void start_range(struct engine *e, struct item *it, int i)
{
    struct seg *s = &it->segs[i];
    struct xfer_range rg = { s->start + s->done, s->end, validator_of(it) };

    s->busy = true;
    engine_transfer_start_range(e, it, &rg);
}

/* The follower's job: the ranges whole from where the digest ends to job->bytes. */
struct follow_tag {
    uint64_t id;
    unsigned gen;
};

static void seg_follow_work(struct syncer_job *job)
{
    job->result_ptr = digest_rest_of_part(job->dirfd, job->base, job->result_ptr, job->bytes);
}

/* The read-back follows the download: as soon as the ranges from where the digest ends are whole
 * (the plan's pieces come in file order), a worker hashes them, so that once every range is on
 * disk little is left to read (docs/design.md#segmented-downloads). One job per file at a time,
 * FOLLOW_MIN at least unless it reaches the end. */
#define FOLLOW_MIN ((int64_t)4 * 1024 * 1024)

static void follow(struct engine *e, struct item *it)
{
    struct syncer_job *job;
    struct follow_tag *tag;
    int64_t pos, end = 0;
    int dirfd, errnum;
    const char *base;
    char err[ERRLEN];

    if (it->seg_hash == NULL || it->seg_hashing || it->segs == NULL)
        return;
    pos = digest_bytes(it->seg_hash);
    /* On disk in order from 0: whole ranges, then what the next one has on disk. */
    for (size_t i = 0; i < it->nsegs && it->segs[i].start == end; i++) {
        end = it->segs[i].start + it->segs[i].done;
        if (segplan_left(&it->segs[i]) > 0)
            break;
    }
    if (end <= pos || (end - pos < FOLLOW_MIN && end < it->size))
        return;
    if (fsout_open_dir(e->rootfd, it->path, &dirfd, &base, &errnum, err) < 0)
        return;          /* whole() finds out */
    tag = xmalloc(sizeof *tag);
    tag->id = it->id;
    tag->gen = it->seg_gen;
    job = xcalloc(1, sizeof *job);
    job->kind = SYNCER_WORK;
    job->work = seg_follow_work;
    job->dirfd = dirfd;
    job->fd = -1;
    job->base = xstrdup(base);
    job->bytes = end;
    job->arg = tag;
    job->result_ptr = it->seg_hash;
    it->seg_hash = NULL;
    it->seg_hashing = true;
    e->following++;
    syncer_submit(e->syncer, job);
}

static void whole(struct engine *e, struct item *it);

/* The follower is back: its digest is the item's again, unless the item moved on meanwhile (it
 * was parked, fell back, or was removed: seg_gen changed, or it is not active). */
static void followed(struct engine *e, struct syncer_job *job)
{
    struct follow_tag *tag = job->arg;
    struct item *it = queue_get(e->q, tag->id);

    e->following--;
    if (it != NULL && it->seg_gen == tag->gen && it->seg_hashing) {
        it->seg_hashing = false;
        if (it->state == ITEM_ACTIVE && it->seg_hash == NULL) {
            it->seg_hash = job->result_ptr;  /* NULL when the .part was short: read it all */
            job->result_ptr = NULL;
        }
    }
    /* Otherwise dropped meanwhile (drop_seg_hash): the item reads its .part again at the end. */
    digest_free(job->result_ptr);
    job->result_ptr = NULL;
    free(tag);
    if (it == NULL || it->seg_hashing)
        return;                              /* another follower of a later digest is out */
    if (it->seg_whole_wait) {
        it->seg_whole_wait = false;
        e->finishing--;
        whole(e, it);
    } else if (it->state == ITEM_ACTIVE) {
        follow(e, it);
    }
}

/* Once every range is on disk: the SHA-256 of the whole .part, in order, off the loop. The
 * first range was hashed as it came (result_ptr, when it was: xfer.c): only the rest is read. */
static void seg_hash_work(struct syncer_job *job)
{
    if (job->result_ptr != NULL)
        job->result_ptr = digest_rest_of_part(job->dirfd, job->base, job->result_ptr, job->bytes);
    else
        job->result_ptr = digest_of_part(job->dirfd, job->base, job->bytes, job->bytes,
                                         (enum checksum_algo)job->algo, NULL, 0);
}

static void whole(struct engine *e, struct item *it)
{
    struct syncer_job *job;
    int dirfd, errnum;
    const char *base;
    char err[ERRLEN];

    untrack(e, it);
    plan_changed(e, it);
    if (it->seg_hashing) {
        /* The follower has the digest: this goes on when it is back (followed). */
        if (!it->seg_whole_wait) {
            it->seg_whole_wait = true;
            e->finishing++;
        }
        return;
    }
    if (fsout_open_dir(e->rootfd, it->path, &dirfd, &base, &errnum, err) < 0) {
        struct retry_facts f = { .cause = RETRY_CAUSE_PATH, .status = it->http_status,
                                 .curl = CURLE_OK, .err = errnum };

        engine_transfer_judge(e, NULL, it, &f, err, 0);
        return;
    }
    job = xcalloc(1, sizeof *job);
    job->kind = SYNCER_WORK;
    job->work = seg_hash_work;
    job->dirfd = dirfd;
    job->fd = -1;
    job->base = xstrdup(base);
    job->bytes = it->size;
    job->algo = it->algo;
    job->arg = it;
    /* The digest goes with the job: the item holds none from here. */
    job->result_ptr = it->seg_hash;
    it->seg_hash = NULL;
    e->finishing++;
    syncer_submit(e->syncer, job);
}

bool engine_seg_on_worker_done(struct engine *e, struct syncer_job *job)
{
    struct item *it = job->arg;
    struct syncer_job *commit;
    struct wstream *stream;

    if (job->kind == SYNCER_WORK && job->work == seg_follow_work) {
        followed(e, job);
        return true;
    }
    if (job->kind != SYNCER_WORK || job->work != seg_hash_work)
        return false;
    e->finishing--;
    if (job->result_ptr == NULL) {
        /* A range said to be on disk is not: nothing of the .part can be trusted. */
        struct retry_facts f = { .cause = RETRY_CAUSE_PART_SHORT, .status = it->http_status,
                                 .curl = CURLE_OK, .err = 0 };

        engine_seg_forget(it);
        it->received = 0;
        engine_transfer_judge(e, NULL, it, &f, "the .part is shorter than its ranges", 0);
        return true;
    }
    /* From here the commit of any download: the writer checks the checksum, the syncer makes
     * the file durable, engine_transfer_on_worker_done counts the attempt. */
    stream = writer_open(e->writer, e->rootfd, it->path, false, it->size, job->result_ptr);
    commit = xcalloc(1, sizeof *commit);
    commit->kind = SYNCER_COMMIT;
    commit->fd = commit->dirfd = -1;
    commit->mtime = -1;
    if (it->last_modified != NULL)
        commit->mtime = xfer_mtime_of(it->last_modified);
    commit->algo = (int)it->algo;
    memcpy(commit->expect, it->digest, sizeof commit->expect);
    commit->arg = it;
    e->finishing++;
    syncer_expect(e->syncer);
    writer_commit(stream, commit);
    return true;
}

/* The .part must reach as far as the recorded ranges say (err: why not). */
static bool part_short(struct engine *e, const struct item *it, char *err)
{
    int64_t need = 0, have = -1;
    int dirfd, errnum;
    const char *base;

    for (size_t i = 0; i < it->nsegs; i++)
        if (it->segs[i].done > 0 && it->segs[i].start + it->segs[i].done > need)
            need = it->segs[i].start + it->segs[i].done;
    if (need == 0)
        return false;
    if (fsout_open_dir(e->rootfd, it->path, &dirfd, &base, &errnum, err) == 0) {
        have = fsout_part_size(dirfd, base);
        close(dirfd);
    }
    if (have >= need)
        return false;
    errf(err, "the .part holds %lld bytes, its ranges reach %lld", (long long)(have < 0 ? 0 : have),
         (long long)need);
    return true;
}

bool engine_seg_resume(struct engine *e, struct item *it)
{
    char err[ERRLEN], m[ERRLEN + 128];

    if (it->received <= 0 || it->size <= 0 || validator_of(it) == NULL) {
        engine_seg_forget(it);
        return false;
    }
    if (queue_load_segs(e->q, it, err) < 0) {
        /* Whether the .part was written in ranges is unknown: only from zero is it safe. */
        snprintf(m, sizeof m, "%s: starting over from zero: %s", it->path, err);
        engine_emit_value(e, EV_MESSAGE, 0, m);
        it->received = 0;
        return false;
    }
    if (it->segs == NULL)
        return false;
    if (segplan_check(it->segs, it->nsegs, it->size, err) < 0) {
        snprintf(m, sizeof m, "%s: the recorded ranges do not hold (%s): starting over from zero",
                 it->path, err);
        engine_emit_value(e, EV_MESSAGE, 0, m);
        engine_seg_forget(it);
        it->received = 0;
        return false;
    }
    if (part_short(e, it, err)) {
        /* Deleted or cut back since: ranges written at their offsets would leave holes. */
        snprintf(m, sizeof m, "%s: %s: starting over from zero", it->path, err);
        engine_emit_value(e, EV_MESSAGE, 0, m);
        engine_seg_forget(it);
        it->received = 0;
        return false;
    }
    for (size_t i = 0; i < it->nsegs; i++)
        it->segs[i].busy = false;
    it->seg_fails = 0;
    it->received = segplan_done(it->segs, it->nsegs);
    engine_emit_item(e, EV_START, it, 0, NULL, 0);
    if (segplan_whole(it->segs, it->nsegs)) {
        /* Whole before the last run could commit it. */
        whole(e, it);
        return true;
    }
    track(e, it);
    /* The slot engine_kick gave this item goes to its first idle range at once. */
    start_range(e, it, segplan_next(it->segs, &it->nsegs, e->s->min_segment));
    return true;
}

/* An idle range with bytes left, the one with most left; with steal, else the largest busy one
 * cut in two (positions as received, so the cut is ahead of its connection). -1: none. */
static int next_range(struct engine *e, struct item *it, bool steal)
{
    struct seg live[SEGPLAN_MAX];
    size_t n = it->nsegs;
    int best = -1, k;

    /* Idle pieces in file order: the prefix becomes whole first, and the read-back follows it
     * (follow). Beyond --segments connections only when nothing else can start (steal). */
    for (size_t i = 0; i < it->nsegs && best < 0; i++)
        if (!it->segs[i].busy && segplan_left(&it->segs[i]) > 0)
            best = (int)i;
    if (best >= 0 && !steal && segplan_busy(it->segs, it->nsegs) >= e->s->segments)
        return -1;
    if (best >= 0 || !steal)
        return best;
    memcpy(live, it->segs, n * sizeof *live);
    for (struct active *a = e->actives; a != NULL; a = a->next) {
        int64_t from = xfer_offset(a->x);
        int i;

        if (xfer_item(a->x) != it || (i = range_at(it, from)) < 0)
            continue;
        live[i].done = from + xfer_bytes(a->x) - live[i].start;
        if (live[i].done > live[i].end - live[i].start)
            live[i].done = live[i].end - live[i].start;
    }
    k = segplan_next(live, &n, e->s->min_segment);
    if (k <= 0 || n != it->nsegs + 1)
        return -1;
    /* segplan_next cut range k - 1 and put the new range at k: the same in the plan, whose
     * done stays what is on disk. */
    memmove(&it->segs[k + 1], &it->segs[k], (it->nsegs - (size_t)k) * sizeof *it->segs);
    it->segs[k] = live[k];
    it->segs[k - 1].end = live[k - 1].end;
    it->nsegs = n;
    for (struct active *a = e->actives; a != NULL; a = a->next)
        if (xfer_item(a->x) == it && range_at(it, xfer_offset(a->x)) == k - 1)
            xfer_range_cut(a->x, it->segs[k - 1].end);
    plan_changed(e, it);
    return k;
}

/* Ranges cannot be used for this file: every connection stops, and it starts over on one. */
static void fall_back(struct engine *e, struct item *it)
{
    char m[ERRLEN + 128];

    stop_all(e, it);
    untrack(e, it);
    engine_seg_forget(it);
    xfer_reset_hash(it);
    it->received = 0;
    snprintf(m, sizeof m, "%s: falling back to one connection from zero: %s", it->path,
             it->error != NULL ? it->error : "the origin did not answer a range as asked");
    engine_emit_value(e, EV_MESSAGE, 0, m);
    queue_touch(e->q, it);
    queue_set_state(e->q, it, ITEM_QUEUED);
}

/* Too many ranges failed in a row: the file's attempt fails, judged as one on the last one's
 * facts (a 404 fails it, a 503 or a reset waits for a retry; its ranges are kept). */
static void give_up(struct engine *e, struct item *it)
{
    struct retry_facts f = { .cause = (enum retry_cause)it->seg_cause, .status = it->http_status,
                             .curl = (CURLcode)it->seg_curl, .err = it->seg_err };
    char msg[ERRLEN];

    snprintf(msg, sizeof msg, "%s", it->error != NULL ? it->error : "ranges failed");
    stop_all(e, it);
    untrack(e, it);
    it->seg_fails = 0;
    engine_transfer_judge(e, NULL, it, &f, msg, 0);
    if (it->received == 0)
        engine_seg_forget(it);       /* judged to start over */
}

void engine_seg_fill(struct engine *e, bool steal)
{
    int64_t now = loop_now(e->loop);

    for (size_t j = 0; j < e->nsegitems; j++) {
        struct item *it = e->segitems[j];

        if (it->no_segments) {
            fall_back(e, it);
            j = (size_t)-1;          /* the list changed */
            continue;
        }
        if (it->seg_fails > SEG_FAILS_MAX) {
            give_up(e, it);
            j = (size_t)-1;
            continue;
        }
        if (it->segs == NULL)
            plan(e, it, NULL);
    }
    if (e->stopping || e->paused_all || e->disk_full_until != 0)
        return;
    if (steal && (e->s->segments <= 1 || now - e->last_steal_ms < STEAL_EVERY_MS))
        steal = false;
    for (size_t j = 0; j < e->nsegitems; j++) {
        struct item *it = e->segitems[j];
        int i;

        /* While a full disk is probed, only the probe's file goes on (it must be able to end). */
        if (e->disk_probing && e->probe_id != it->id)
            continue;
        while (e->transfers + e->preparing < e->concurrency &&
               engine_rps_admit(e, it->host) &&
               (i = next_range(e, it, steal)) >= 0)
            start_range(e, it, i);
    }
    if (steal)
        e->last_steal_ms = now;
}

void engine_seg_finished(struct engine *e, struct active *a, CURLcode rc, const char *why)
{
    struct xfer *x = a->x;
    struct item *it = xfer_item(x);
    int64_t from = xfer_offset(x), written;
    char msg[ERRLEN];
    struct retry_facts f;
    enum xfer_verdict v = xfer_verdict(x, rc, msg, &f);

    if (it->segs == NULL)
        plan(e, it, a);
    written = xfer_range_written(x);
    record(it, from, written);
    if (v == XFER_RANGE_DONE)
        hosts_success(e->s, it->host, a->host, e->concurrency, loop_now(e->loop));
    if (xfer_range_fallback(x)) {
        it->no_segments = true;      /* carried out by engine_seg_fill, on this turn */
        item_set_error(it, msg);
    } else if (v != XFER_RANGE_DONE) {
        struct retry_policy p = { e->s->retries, e->s->retry_min_ms, e->s->retry_max_ms };
        struct retry_decision d;

        /* A 429 or 503 on a range lowers the host's limit like any (f.retry_after lives until
         * the release below); the range itself is fetched again alone, from where its bytes on
         * disk end, within that limit. */
        retry_decide(&f, it->attempts + 1, &p, loop_now(e->loop), wall_ms(), 0, &d);
        if (d.slow_down) {
            char slow[ERRLEN];

            if (hosts_slow_down(e->s, it->host, a->host, d.hold_ms, loop_now(e->loop), slow))
                engine_emit_value(e, EV_MESSAGE, a->host->limit, slow);
            engine_rps_slowed(e, it->host, a->host, d.hold_ms, f.status);
        }
        it->seg_fails = written > 0 ? 1 : it->seg_fails + 1;
        it->seg_cause = (int)f.cause;
        it->seg_curl = (int)f.curl;
        it->seg_err = f.err;
        /* A full disk stops everything at once (retry_decide: wait for space). */
        if (f.err == ENOSPC || f.err == EDQUOT)
            it->seg_fails = SEG_FAILS_MAX + 1;
        item_set_error(it, why != NULL && f.err == 0 ? why : msg);
    } else {
        it->seg_fails = 0;
    }
    engine_transfer_release(e, a);
    it->nsegs = segplan_compact(it->segs, it->nsegs);
    plan_changed(e, it);
    e->last_steal_ms = 0;            /* a slot is free: look at stealing now */
    if (!it->no_segments)
        follow(e, it);
    if (!it->no_segments && segplan_whole(it->segs, it->nsegs) &&
        segplan_busy(it->segs, it->nsegs) == 0)
        whole(e, it);
}

void engine_seg_park(struct engine *e, struct item *it, enum item_state to)
{
    stop_all(e, it);
    /* While it waits the .part is no one's: read it all again at the end. */
    drop_seg_hash(it);
    untrack(e, it);
    queue_touch(e->q, it);
    queue_set_state(e->q, it, to);
}

void engine_seg_checkpoint(struct engine *e, struct active *a)
{
    struct item *it = xfer_item(a->x);
    int64_t from = xfer_offset(a->x);
    int i;

    if (it->segs == NULL || (i = range_at(it, from)) < 0)
        return;
    if (from + xfer_range_written(a->x) - it->segs[i].start > it->segs[i].done) {
        it->segs[i].done = from + xfer_range_written(a->x) - it->segs[i].start;
        plan_changed(e, it);
        follow(e, it);
    }
}

int engine_seg_ranges(struct engine *e, const struct item *it, struct engine_range_view *out,
                      int max)
{
    int n = (int)it->nsegs < max ? (int)it->nsegs : max;

    for (int i = 0; i < n; i++) {
        out[i].start = it->segs[i].start;
        out[i].end = it->segs[i].end;
        out[i].done = it->segs[i].done;
        out[i].busy = it->segs[i].busy;
        out[i].rate = 0;
    }
    for (struct active *a = e->actives; a != NULL; a = a->next) {
        int i;

        if (xfer_item(a->x) != it || (i = range_at(it, xfer_offset(a->x))) < 0 || i >= n)
            continue;
        out[i].rate += a->rate;
        if (xfer_offset(a->x) + xfer_bytes(a->x) - out[i].start > out[i].done)
            out[i].done = xfer_offset(a->x) + xfer_bytes(a->x) - out[i].start;
    }
    return (int)it->nsegs;
}

void engine_seg_progress(struct engine *e, const struct item *it, int64_t *bytes, int64_t *rate,
                         int *conns)
{
    int64_t have = segplan_done(it->segs, it->nsegs);

    *rate = 0;
    *conns = 0;
    for (struct active *a = e->actives; a != NULL; a = a->next) {
        int i;

        if (xfer_item(a->x) != it)
            continue;
        (*conns)++;
        *rate += a->rate;
        if ((i = range_at(it, xfer_offset(a->x))) >= 0) {
            /* Received beyond what the plan has on disk. */
            int64_t pos = xfer_offset(a->x) + xfer_bytes(a->x);
            int64_t disk = it->segs[i].start + it->segs[i].done;

            if (pos > disk)
                have += pos - disk;
        }
    }
    *bytes = have;
}
