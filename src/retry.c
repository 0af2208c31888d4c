/* The retry decision in one place (docs/design.md#retries-and-backoff). Pure: the clocks and the
 * random number are arguments, so every case is a row of tests/unit/test_retry.c. */
#include "retry.h"
#include "backoff.h"

#include <errno.h>
#include <stddef.h>

bool retry_transient_status(int status)
{
    switch (status) {
    case 408: case 425: case 429: case 500: case 502: case 503: case 504:
        return true;
    default:
        return false;
    }
}

/* libcurl's results that the same request would meet again: a URL or scheme it cannot fetch,
 * a redirect loop, a certificate or TLS set-up that does not verify, a refusal by the origin. */
static bool permanent_curl_error(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_BAD_CONTENT_ENCODING:
        return true;
    default:
        return false;
    }
}

static bool disk_full(const struct retry_facts *f)
{
    return f->err == ENOSPC || f->err == EDQUOT;
}

bool retry_restart(const struct retry_facts *f)
{
    if (disk_full(f))
        return false;                /* what reached the .part is good: it waits for room */
    switch (f->cause) {
    case RETRY_CAUSE_MISMATCH:       /* splicing would mix versions or end early */
    case RETRY_CAUSE_PART_SHORT:
    case RETRY_CAUSE_TOO_LARGE:
    case RETRY_CAUSE_COMMIT:         /* the bytes on disk failed their checksum */
        return true;
    case RETRY_CAUSE_RESPONSE:
        /* A 200 to a plain Range request, or a 416 for a range the file no longer has: the
         * file changed under the .part (docs/design.md#resume-and-incremental-sync). */
        return f->curl == CURLE_RANGE_ERROR ||
               (f->curl == CURLE_OK && f->err == 0 && f->status == 416 && f->resumed);
    default:
        return false;
    }
}

/* Whether asking again can help at all. */
static bool transient(const struct retry_facts *f)
{
    switch (f->cause) {
    case RETRY_CAUSE_PATH:
    case RETRY_CAUSE_TOO_LARGE:
        return false;
    case RETRY_CAUSE_MISMATCH:
        /* After a resume a request from zero does not depend on ranges; without one it would
         * be the same request again. */
        return f->resumed;
    case RETRY_CAUSE_STALL:
    case RETRY_CAUSE_TRUNCATED:
    case RETRY_CAUSE_PART_SHORT:
    case RETRY_CAUSE_COMMIT:
        return true;
    case RETRY_CAUSE_RESPONSE:
        break;
    }
    if (f->err != 0)
        return true;                 /* a write that failed (not for lack of space) */
    if (f->curl != CURLE_OK)
        return !permanent_curl_error(f->curl);
    if (f->status == 416 && f->resumed)
        return true;
    return retry_transient_status(f->status);
}

void retry_decide(const struct retry_facts *f, int attempt, const struct retry_policy *p,
                  int64_t now_ms, int64_t now_wall_ms, uint64_t rnd, struct retry_decision *d)
{
    bool again;

    d->why = "transient";
    d->counts = true;
    d->restart = retry_restart(f);
    d->slow_down = false;
    d->hold_ms = 0;
    d->retry_after_ms = -1;
    d->wait_ms = 0;
    d->at_ms = now_ms;
    /* A stall or a failed commit is not the response's doing: its Retry-After says nothing. */
    if (f->retry_after != NULL && f->cause != RETRY_CAUSE_STALL && f->cause != RETRY_CAUSE_COMMIT &&
        backoff_parse_retry_after(f->retry_after, now_wall_ms, &d->retry_after_ms) < 0)
        d->retry_after_ms = -1;
    if (disk_full(f)) {
        /* Not the item's fault (docs/design.md#retries-and-backoff): no attempt is counted. */
        d->action = RETRY_WAIT_SPACE;
        d->why = "disk full";
        d->counts = false;
        return;
    }
    again = transient(f);
    /* The origin pushing back lowers its connection limit whether or not this item has tries
     * left (docs/design.md#the-engine), until the Retry-After has passed. */
    if (again && f->cause == RETRY_CAUSE_RESPONSE && (f->status == 429 || f->status == 503)) {
        d->slow_down = true;
        d->hold_ms = d->retry_after_ms > 0 ? d->retry_after_ms : p->min_ms;
    }
    if (!again) {
        d->action = RETRY_FAIL;
        d->why = "permanent";
        return;
    }
    if (attempt > p->retries) {
        d->action = RETRY_FAIL;
        d->why = "retries used up";
        return;
    }
    d->action = RETRY_LATER;
    d->wait_ms = backoff_wait_ms(attempt - 1, p->min_ms, p->max_ms, d->retry_after_ms, rnd);
    d->at_ms = now_ms + d->wait_ms;
}
