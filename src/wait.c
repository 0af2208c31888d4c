/* Why an item is at 0 B/s: one pure decision (wait.h) that the list, the details and any later
 * front end share. The order of the tests is the order of what holds an item back first: the
 * operator, then the item's own state, then its host, then the run's slots. */
#include "wait.h"

#include <stdio.h>

static int64_t secs_until(int64_t until, int64_t now)
{
    return until > now ? (until - now + 999) / 1000 : 0;
}

void wait_decide(const struct wait_facts *f, int64_t now, int64_t stall_show_ms,
                 struct wait_answer *a)
{
    a->reason = WAIT_NONE;
    a->until_ms = 0;
    a->secs = 0;
    a->status = 0;
    switch (f->state) {
    case ITEM_PAUSED:
        a->reason = WAIT_PAUSED;
        return;
    case ITEM_ACTIVE:
        if (f->throttled) {
            a->reason = WAIT_CAP;
        } else if (f->diskwait) {
            a->reason = WAIT_DISK;
        } else if (f->last_rx_ms > 0 && now - f->last_rx_ms >= stall_show_ms) {
            a->reason = WAIT_STALLED;
            a->secs = (now - f->last_rx_ms) / 1000;
        }
        return;
    case ITEM_RETRY:
        if (f->next_try_ms > now) {
            a->reason = WAIT_RETRY;
            a->until_ms = f->next_try_ms;
            return;
        }
        a->reason = WAIT_RETRY_DUE;
        break;              /* due: waits for what a queued item waits for */
    case ITEM_QUEUED:
        break;
    default:
        return;
    }
    if (f->paused_all) {
        a->reason = WAIT_ALL_PAUSED;
        return;
    }
    if (f->disk_full) {
        a->reason = WAIT_DISK;
        return;
    }
    /* A cap group's hold comes first: nothing of the host starts before it ends, whatever else. */
    if (f->host_gate_until_ms > now) {
        a->reason = WAIT_GROUP_HOLD;
        a->until_ms = f->host_gate_until_ms;
        a->status = f->host_gate_status;
        return;
    }
    if (f->host_limit > 0 && f->host_active >= f->host_limit) {
        if (f->host_lowered && f->host_hold_until_ms > now) {
            a->reason = WAIT_HOST_HELD;
            a->until_ms = f->host_hold_until_ms;
            a->status = f->host_slow_status;
        } else {
            a->reason = WAIT_HOST_SLOT;
        }
        return;
    }
    if (f->transfers >= f->concurrency) {
        a->reason = WAIT_SLOTS;
        return;
    }
    /* After the slots: with every slot busy, the token would not start it anyway. */
    if (f->host_rps > 0 && f->host_rps_empty) {
        a->reason = WAIT_HOST_RPS;
        return;
    }
    /* Nothing holds it: it starts on the next turn of the loop. A due retry still says so. */
    if (a->reason != WAIT_RETRY_DUE)
        a->reason = WAIT_NONE;
}

const char *wait_short(const struct wait_answer *a, const struct wait_facts *f, int64_t now,
                       char *buf, size_t len)
{
    switch (a->reason) {
    case WAIT_NONE: snprintf(buf, len, "%s", ""); break;
    case WAIT_CAP: snprintf(buf, len, "cap"); break;
    case WAIT_DISK: snprintf(buf, len, "disk"); break;
    case WAIT_STALLED: snprintf(buf, len, "stall %llds", (long long)a->secs); break;
    case WAIT_SLOTS: snprintf(buf, len, "slots %d/%d", f->transfers, f->concurrency); break;
    case WAIT_HOST_SLOT: snprintf(buf, len, "host %d/%d", f->host_active, f->host_limit); break;
    case WAIT_HOST_HELD:
        snprintf(buf, len, "held %d %llds", a->status, (long long)secs_until(a->until_ms, now));
        break;
    case WAIT_GROUP_HOLD:
        snprintf(buf, len, "held %d %llds", a->status, (long long)secs_until(a->until_ms, now));
        break;
    case WAIT_HOST_RPS: snprintf(buf, len, "rps"); break;
    case WAIT_RETRY: snprintf(buf, len, "retry %llds", (long long)secs_until(a->until_ms, now)); break;
    case WAIT_RETRY_DUE: snprintf(buf, len, "due"); break;
    case WAIT_PAUSED: snprintf(buf, len, "paused"); break;
    case WAIT_ALL_PAUSED: snprintf(buf, len, "all paused"); break;
    }
    return buf;
}

const char *wait_text(const struct wait_answer *a, const struct wait_facts *f, int64_t now,
                      char *buf, size_t len)
{
    switch (a->reason) {
    case WAIT_NONE:
        snprintf(buf, len, "%s", f->state == ITEM_ACTIVE ? "receiving" :
                 f->state == ITEM_QUEUED ? "starts next" : "-");
        break;
    case WAIT_CAP:
        snprintf(buf, len, "waiting its turn under the cap");
        break;
    case WAIT_DISK:
        snprintf(buf, len, f->state == ITEM_ACTIVE ? "held until the disk catches up" :
                 "waiting for room on the disk");
        break;
    case WAIT_STALLED:
        snprintf(buf, len, "stalled: nothing received for %llds", (long long)a->secs);
        break;
    case WAIT_SLOTS:
        snprintf(buf, len, "waiting for a slot: %d of %d transfers running", f->transfers,
                 f->concurrency);
        break;
    case WAIT_HOST_SLOT:
        snprintf(buf, len, "waiting for a host slot: %d of %d connections to its host",
                 f->host_active, f->host_limit);
        break;
    case WAIT_HOST_HELD:
        snprintf(buf, len, "held by the host after a %d: at most %d connection%s for %llds more",
                 a->status, f->host_limit, f->host_limit == 1 ? "" : "s",
                 (long long)secs_until(a->until_ms, now));
        break;
    case WAIT_GROUP_HOLD:
        snprintf(buf, len, "held after a %d seen in the cap group: no request to its host for "
                 "%llds more", a->status, (long long)secs_until(a->until_ms, now));
        break;
    case WAIT_HOST_RPS:
        snprintf(buf, len, "waiting for its host's next request: at most %d a second "
                 "(--per-host-rps)", f->host_rps);
        break;
    case WAIT_RETRY:
        snprintf(buf, len, "retry due in %llds", (long long)secs_until(a->until_ms, now));
        break;
    case WAIT_RETRY_DUE:
        snprintf(buf, len, "retry due now, starts before the fresh items of its host");
        break;
    case WAIT_PAUSED:
        snprintf(buf, len, "paused (p resumes)");
        break;
    case WAIT_ALL_PAUSED:
        snprintf(buf, len, "everything is paused (P resumes)");
        break;
    }
    return buf;
}
