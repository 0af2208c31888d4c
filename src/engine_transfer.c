/* A transfer from its start to its verdict: admitted by engine_kick, started once the digest of
 * a .part from an earlier run is rebuilt off the loop, released to the pool when libcurl is done
 * with it, parked (stopped with its .part kept), retried after a backoff, or handed to the writer
 * and the syncer for its durable commit. */
#include "engine_transfer.h"
#include "engine_cap.h"
#include "engine_impl.h"
#include "engine_seg.h"
#include "backoff.h"
#include "retry.h"
#include "digest.h"
#include "fsout.h"
#include "hosts.h"
#include "loop.h"
#include "queue.h"
#include "syncer.h"
#include "util.h"
#include "writer.h"
#include "xfer.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DISK_FULL_RETRY_MS 10000
/* Below this much free space the output filesystem counts as full: nothing new starts (the
 * session's own writes need a little room too). */
#define DISK_LOW (64 * 1024)
/* What a transfer of unknown size is assumed to need before the next look at the free space:
 * one writer chunk. */
#define DISK_GUESS (256 * 1024)
/* How long one look at the free space is trusted (less what was started since). */
#define DISK_FRESH_MS 100

/* Free bytes on the output filesystem, -1 when it cannot be told. root may use the blocks kept
 * back for it, so it counts them. */
static int64_t disk_free(const struct engine *e)
{
    struct statvfs v;

    if (fstatvfs(e->rootfd, &v) < 0)
        return -1;
    return (int64_t)(geteuid() == 0 ? v.f_bfree : v.f_bavail) * (int64_t)v.f_frsize;
}

static void disk_full_wait(struct engine *e, const char *why)
{
    if (e->disk_full_until == 0 && !e->disk_probing) {
        char m[ERRLEN + 96];

        snprintf(m, sizeof m, "disk full, every transfer paused (checked every %ds): %s",
                 DISK_FULL_RETRY_MS / 1000, why);
        engine_emit_value(e, EV_MESSAGE, 0, m);
    }
    e->disk_full_until = loop_now(e->loop) + DISK_FULL_RETRY_MS;
    e->probe_id = 0;
    /* Whatever comes next, a single transfer finds out first whether there is room. */
    e->disk_probing = true;
}

static void disk_full(struct engine *e, const char *msg);

int64_t engine_transfer_disk_budget(struct engine *e)
{
    int64_t now = loop_now(e->loop);

    if (e->free_bytes < 0 || now - e->free_at_ms >= DISK_FRESH_MS || now < e->free_at_ms) {
        e->free_bytes = disk_free(e);
        e->free_at_ms = now;
        e->free_claimed = 0;
    }
    if (e->free_bytes < 0)
        return INT64_MAX;            /* cannot tell: the writes will say */
    if (e->free_bytes < DISK_LOW) {
        char why[ERRLEN];

        /* Full before any write failed: nothing is requested that could not be stored. */
        snprintf(why, sizeof why, "%lld bytes free on the output filesystem",
                 (long long)e->free_bytes);
        disk_full(e, why);
        return 0;
    }
    /* What was started since the look is not on the disk yet, but will be. */
    return e->free_bytes - DISK_LOW - e->free_claimed;
}

int64_t engine_transfer_disk_estimate(struct engine *e, const struct item *it)
{
    int64_t need = it->size > 0 ? it->size - it->received : DISK_GUESS;

    if (need < 0)
        need = 0;
    e->free_claimed += need;
    return need;
}

void engine_transfer_disk_recheck(struct engine *e)
{
    int64_t f = disk_free(e);

    e->free_bytes = f;
    e->free_at_ms = loop_now(e->loop);
    e->free_claimed = 0;
    if (f >= 0 && f < DISK_LOW) {
        /* Still full: no request at all, look again later. */
        e->disk_full_until = loop_now(e->loop) + DISK_FULL_RETRY_MS;
        return;
    }
    e->disk_full_until = 0;
    e->probe_id = 0;
    engine_kick(e);
}

/* The probe's transfer ended without telling whether there is room (a 304, an error of the
 * origin, a pause): the next kick sends another, still one at a time. */
static void probe_inconclusive(struct engine *e, const struct item *it)
{
    if (e->probe_id == it->id)
        e->probe_id = 0;
}

/* rg: one range of a segmented download (engine_seg.c), NULL for a request of the file. */
static void start_xfer(struct engine *e, struct item *it, const struct xfer_range *rg)
{
    CURL *easy = e->npool > 0 ? e->pool[--e->npool] : curl_easy_init();
    struct active *a;

    if (easy == NULL)
        fatal("curl_easy_init failed");
    a = xcalloc(1, sizeof *a);
    a->seq = ++e->next_seq;
    /* A range has its file's age for the cap's turns (engine_cap.c, throttle_push). */
    for (struct active *o = e->actives; rg != NULL && o != NULL; o = o->next)
        if (xfer_item(o->x) == it && o->seq < a->seq)
            a->seq = o->seq;
    a->host = hosts_get(e->hosts, e->s, it->host, mono_ms());
    hosts_started(a->host, mono_ms());     /* its request token (--per-host-rps) */
    a->x = xfer_new_range(&e->env, it, easy, loop_now(e->loop), a, rg);
    xfer_set_share(a->x, engine_cap_share(e, a->host));
    a->next = e->actives;
    if (e->actives != NULL)
        e->actives->prev = a;
    e->actives = a;
    e->transfers++;
    a->host->active++;
    if (rg == NULL)
        engine_emit_item(e, EV_START, it, 0, NULL, 0);
    if (curl_multi_add_handle(e->multi, easy) != CURLM_OK)
        fatal("curl_multi_add_handle failed");
}

static void really_start(struct engine *e, struct item *it)
{
    start_xfer(e, it, NULL);
}

void engine_transfer_start_range(struct engine *e, struct item *it, const struct xfer_range *rg)
{
    start_xfer(e, it, rg);
}

/* The worker rebuilt (or failed to rebuild) the digest of a .part: now start for real. */
static void on_prepared(struct syncer_job *job, void *arg)
{
    struct item *it = job->arg;
    struct engine *e = arg;

    e->preparing--;
    if (job->result_ptr != NULL) {
        int64_t had = it->received;

        xfer_attach_hash(it, job->result_ptr);
        it->received = digest_bytes(job->result_ptr);  /* more than recorded: a trusted tail */
        /* The tail came with the tag's validator, the one its bytes were sent under: If-Range
         * carries that (docs/design.md#resume-and-incremental-sync). */
        if (it->received > had && (job->msg[0] == 'E' || job->msg[0] == 'L')) {
            char **keep = job->msg[0] == 'E' ? &it->etag : &it->last_modified;
            char **drop = job->msg[0] == 'E' ? &it->last_modified : &it->etag;

            free(*keep);
            *keep = xstrdup(job->msg + 1);
            free(*drop);
            *drop = NULL;
        }
    } else
        it->received = 0;        /* the .part cannot be trusted: start over */
    if (e->stopping || e->paused_all || e->disk_full_until != 0) {
        probe_inconclusive(e, it);
        queue_set_state(e->q, it, ITEM_QUEUED);
        return;
    }
    really_start(e, it);
}

static void hash_work(struct syncer_job *job)
{
    /* msg, unused by a work job, brings back the validator of the .part's tag. */
    job->msg[0] = '\0';
    job->result_ptr = digest_of_part(job->dirfd, job->base, job->bytes, job->limit,
                                     (enum checksum_algo)job->algo, job->msg, sizeof job->msg);
}

void engine_transfer_start(struct engine *e, struct item *it)
{
    /* The attempt is counted when it ends with an outcome (engine_transfer_judge, or success),
     * never here: a transfer parked, stopped or waiting for disk space is not an attempt. */
    queue_set_state(e->q, it, ITEM_ACTIVE);
    queue_touch(e->q, it);
    /* Ranges recorded for it: they go on where each one's bytes on disk end. */
    if (engine_seg_resume(e, it))
        return;
    /* A .part from an earlier run (or a parked transfer whose digest was dropped) resumes only
     * after its digest is rebuilt, off the loop: the SHA-256 must cover the whole file. One that
     * was being fetched when the run before was cut short is looked at even without a recorded
     * progress: its tag may vouch for it (docs/design.md#resume-and-incremental-sync). */
    if (it->hash_state == NULL &&
        ((it->received > 0 && (it->etag != NULL || it->last_modified != NULL)) ||
         queue_was_active(e->q, it->id))) {
        int dirfd, errnum;
        const char *base;
        char err[ERRLEN];

        if (fsout_open_dir(e->rootfd, it->path, &dirfd, &base, &errnum, err) == 0) {
            struct syncer_job *job = xcalloc(1, sizeof *job);

            job->kind = SYNCER_WORK;
            job->work = hash_work;
            job->dirfd = dirfd;
            job->fd = -1;
            job->base = xstrdup(base);
            job->bytes = it->received;
            job->limit = it->size > 0 ? it->size : INT64_MAX;
            job->algo = it->algo;
            job->arg = it;
            e->preparing++;
            syncer_submit(e->syncer, job);
            return;
        }
    }
    really_start(e, it);
}

/* Detaches a transfer from libcurl and the slot counts; its easy handle goes back to the pool. */
void engine_transfer_release(struct engine *e, struct active *a)
{
    CURL *easy;

    if (!a->committing)
        probe_inconclusive(e, xfer_item(a->x));
    if (a->stuck != CURLE_OK)
        e->nstuck--;
    engine_cap_throttle_remove(e, a);
    engine_cap_diskwait_remove(e, a);
    curl_multi_remove_handle(e->multi, xfer_easy(a->x));
    if (a->prev != NULL)
        a->prev->next = a->next;
    else
        e->actives = a->next;
    if (a->next != NULL)
        a->next->prev = a->prev;
    e->transfers--;
    a->host->active--;
    /* An idle host leaves the table (hosts_release): a->host is not used after this. */
    hosts_release(e->hosts, xfer_item(a->x)->host, a->host, mono_ms());
    easy = xfer_free(a->x);
    free(a);
    if (e->npool < (size_t)e->concurrency * 2 + 8) {
        e->pool = xrealloc(e->pool, (e->npool + 1) * sizeof *e->pool);
        e->pool[e->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* The .part cannot be continued: the next attempt starts from zero. */
static void start_over(struct item *it)
{
    xfer_reset_hash(it);
    it->received = 0;
}

/* Stops a transfer without counting an attempt: the .part and its digest are kept, so it
 * resumes by Range later. */
void engine_transfer_park(struct engine *e, struct active *a, enum item_state to)
{
    struct item *it = xfer_item(a->x);
    char msg[ERRLEN];
    struct retry_facts f;

    if (xfer_is_range(a->x)) {
        /* A segmented download stops on all its connections at once. */
        engine_seg_park(e, it, to);
        return;
    }
    (void)xfer_verdict(a->x, CURLE_ABORTED_BY_CALLBACK, msg, &f);  /* keep validators */
    engine_transfer_release(e, a);
    if (retry_restart(&f))
        start_over(it);
    queue_touch(e->q, it);
    queue_set_state(e->q, it, to);
}

void engine_transfer_schedule_due(struct engine *e)
{
    int64_t due = queue_next_due(e->q);

    /* An overdue retry fires at once: a negative delay would disarm the timer. */
    if (due < 0)
        loop_timer_arm(e->due_timer, -1);
    else
        loop_timer_arm(e->due_timer, due > loop_now(e->loop) ? due - loop_now(e->loop) : 0);
}

static void disk_full(struct engine *e, const char *msg)
{
    disk_full_wait(e, msg);
    /* Everything stops, nothing is deleted or marked failed: the .part files wait for space. */
    while (e->actives != NULL)
        engine_transfer_park(e, e->actives, ITEM_QUEUED);
}

/* An attempt that did not succeed: retry_decide says what it means, this carries it out
 * (docs/design.md#retries-and-backoff). a is the transfer when it is still attached (released
 * here, after its host has heard a slow-down), NULL for a failed commit. */
void engine_transfer_judge(struct engine *e, struct active *a, struct item *it,
                           const struct retry_facts *f, const char *msg, int64_t bytes)
{
    struct retry_policy p = { e->s->retries, e->s->retry_min_ms, e->s->retry_max_ms };
    struct retry_decision d;

    retry_decide(f, it->attempts + 1, &p, loop_now(e->loop), wall_ms(), backoff_rand(&e->rng), &d);
    if (a != NULL) {
        if (d.slow_down) {
            char slow[ERRLEN];

            if (hosts_slow_down(e->s, it->host, a->host, d.hold_ms, loop_now(e->loop), slow))
                engine_emit_value(e, EV_MESSAGE, a->host->limit, slow);
            engine_rps_slowed(e, it->host, a->host, d.hold_ms, f->status);
        }
        engine_transfer_release(e, a);     /* f->retry_after is gone from here on */
    }
    if (d.restart)
        start_over(it);
    if (d.counts)
        it->attempts++;
    item_set_error(it, msg);
    queue_touch(e->q, it);
    switch (d.action) {
    case RETRY_LATER:
        it->next_try_ms = d.at_ms;
        queue_set_state(e->q, it, ITEM_RETRY);
        engine_emit_item(e, EV_RETRY, it, bytes, msg, d.wait_ms);
        engine_transfer_schedule_due(e);
        break;
    case RETRY_FAIL:
        queue_set_state(e->q, it, ITEM_FAILED);
        engine_emit_item(e, EV_FAILED, it, bytes, msg, 0);
        break;
    case RETRY_WAIT_SPACE:
        queue_set_state(e->q, it, ITEM_QUEUED);
        disk_full(e, msg);
        break;
    }
}

void engine_transfer_finished(struct engine *e, struct active *a, CURLcode rc)
{
    struct xfer *x = a->x;
    struct item *it = xfer_item(x);
    struct host *h = a->host;
    char msg[ERRLEN];
    struct retry_facts f;
    int64_t bytes = xfer_bytes(x);
    enum xfer_verdict v;

    if (xfer_is_range(x)) {
        engine_seg_finished(e, a, rc, NULL);
        return;
    }
    v = xfer_verdict(x, rc, msg, &f);

    queue_touch(e->q, it);     /* the verdict updated sizes, validators and status */
    switch (v) {
    case XFER_DONE: {
        struct syncer_job *job = xcalloc(1, sizeof *job);
        struct wstream *stream;
        struct wchunk *last;

        job->kind = SYNCER_COMMIT;
        xfer_take_output(x, &stream, &last, &job->mtime);
        job->fd = job->dirfd = -1;
        job->algo = (int)it->algo;
        memcpy(job->expect, it->digest, sizeof job->expect);
        job->arg = it;
        a->committing = true;       /* a disk probe goes on until this commit says */
        hosts_success(e->s, it->host, h, e->concurrency, loop_now(e->loop));
        engine_transfer_release(e, a);
        e->finishing++;
        /* The writer verifies and hands it to the syncer; the result comes to on_worker_done,
         * which counts the attempt. */
        syncer_expect(e->syncer);
        writer_finish(stream, last, job);
        return;
    }
    case XFER_UNCHANGED:
        hosts_success(e->s, it->host, h, e->concurrency, loop_now(e->loop));
        engine_transfer_release(e, a);
        it->attempts++;
        queue_set_state(e->q, it, ITEM_UNCHANGED);
        engine_emit_item(e, EV_UNCHANGED, it, bytes, NULL, 0);
        break;
    case XFER_FAILED:
    case XFER_RANGE_DONE:            /* ranges went to engine_seg_finished */
        engine_transfer_judge(e, a, it, &f, msg, bytes);
        break;
    }
}

void engine_transfer_on_worker_done(struct syncer_job *job, void *arg)
{
    struct engine *e = arg;
    struct item *it = job->arg;

    if (engine_seg_on_worker_done(e, job)) {
        engine_kick(e);
        return;
    }
    if (job->kind == SYNCER_WORK) {
        on_prepared(job, e);
        engine_kick(e);
        return;
    }
    e->finishing--;
    if (job->result == 0) {
        it->attempts++;
        it->received = job->bytes;
        memcpy(it->sha256, job->sha256, sizeof it->sha256);
        it->has_sha256 = true;
        item_set_error(it, NULL);
        engine_seg_forget(it);
        queue_touch(e->q, it);
        queue_set_state(e->q, it, ITEM_DONE);
        engine_emit_item(e, EV_DONE, it, it->received, NULL, 0);
        if (e->disk_probing && e->probe_id == it->id) {
            /* A file went all the way to disk: there is room again for everything. */
            e->disk_probing = false;
            e->probe_id = 0;
            engine_emit_value(e, EV_MESSAGE, 0, "disk has room again, transfers resume");
        }
    } else {
        char msg[ERRLEN];
        struct retry_facts f = {
            .cause = job->permanent ? RETRY_CAUSE_PATH : RETRY_CAUSE_COMMIT,
            .status = it->http_status, .curl = CURLE_OK, .err = job->result,
        };

        if (job->msg[0] != '\0')
            snprintf(msg, sizeof msg, "%s", job->msg);
        else
            snprintf(msg, sizeof msg, "cannot commit %s: %s", it->path, strerror(job->result));
        probe_inconclusive(e, it);
        /* The writer consumed the running digest: what reached the .part stays on disk (a full
         * disk resumes from it once the digest is rebuilt); a checksum mismatch or a failed
         * write starts from zero (retry_restart). */
        if (job->result == ENOSPC || job->result == EDQUOT) {
            it->received = job->bytes;
        } else {
            it->received = 0;
            it->has_sha256 = false;
            engine_seg_forget(it);
        }
        engine_transfer_judge(e, NULL, it, &f, msg, 0);
    }
    engine_kick(e);
}
