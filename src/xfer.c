/* One attempt at one item. libcurl calls on_header and on_write; they record and return, and
 * never call back into the multi handle. The .part is opened at the first body byte of a 2xx
 * response, so a 404 leaves no empty file or folder behind. */
#include "xfer.h"
#include "backoff.h"
#include "cap.h"
#include "fsout.h"
#include "resp.h"
#include "retry.h"
#include "segplan.h"
#include "socktab.h"
#include "writer.h"

#include <errno.h>
#include <linux/sock_diag.h>
#include <sys/ioctl.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
/* linux/tcp.h, not netinet/tcp.h: glibc's tcp_info lacks tcpi_min_rtt. */
#include <linux/tcp.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

/* Uncapped, big reads cost less CPU per byte (1 GiB from loopback: 2.9-3.8 s of CPU with 128 KiB,
 * 2.2-2.5 s with 512 KiB and whole chunks, docs/design.md#buffers); libcurl allocates the buffer
 * per transfer, so it is smaller when many run at once. Capped, small chunks keep the
 * pause/unpause rhythm fine-grained (one chunk is the most a transfer can overshoot its turn). */
#define BUFFER_UNCAPPED (512 * 1024)
#define BUFFER_MANY (128 * 1024)
#define BUFFER_CAPPED (16 * 1024)
/* libcurl hands over at most one buffer per call; gathering 256 KiB per chunk for the writer
 * cuts its syscalls and wakeups. Kept small when many transfers run at once (more than
 * MANY_AT_ONCE). */
#define MANY_AT_ONCE 64
#define WBUF_MAX (256 * 1024)
#define WBUF_MANY (64 * 1024)
#define CHUNK_AGE_MS 100
/* The window clamp of a connection with no cap: far above what the kernel's autotuning reaches
 * (tcp_rmem), so the autotuning alone decides. */
#define UNCLAMPED (256 * 1024 * 1024)
#define CAPPED_MSS 1448

struct xfer {
    const struct xfer_env *env;
    void *user;
    int64_t share;               /* bytes/s this transfer may receive; 0 = uncapped */
    int64_t window;              /* TCP_WINDOW_CLAMP in force on its socket; 0 none, -1 unknown */
    int64_t rtt_us;              /* the connection's round trip when the window was last set */
    int fd;                      /* its connection's socket (socktab), -1 before the request */
    int64_t held_at;             /* x->got when the clamp was last checked */
    int64_t rcvbuf;              /* SO_RCVBUF given for the window (cap_rcvbuf), 0 none */
    int ratio;                   /* payload/truesize it was sized for; 0 = not measured then */
    int seen;                    /* the ratio measured on this socket (cap_ratio_next), 0 none */
    int64_t sampled_at;          /* x->got when the socket's queue was last measured */
    int64_t drain_ms;            /* the buffer is too large for the window since then, 0 = not */
    int64_t drained_at;          /* x->got when drain_buffer last looked */
    bool autotuned;              /* the buffer could not be made big enough: the kernel grows it */
    struct item *it;
    CURL *easy;
    struct curl_slist *hdrs;
    char range[32];
    int64_t offset;              /* Range start asked for (0 = whole file) */
    int64_t known_size;          /* the file's size as recorded before this attempt, or -1 */
    char *validator;             /* what If-Range carried, when resuming */
    int dirfd;
    const char *base;            /* into it->path */
    /* The .part, written by the writer threads; it holds the item's digest while it is open. */
    struct wstream *stream;
    /* The response being received (reset at every status line: redirects, 1xx). */
    struct resp r;
    bool body_started;
    /* Bytes gathered for the next chunk. */
    struct wchunk *chunk;
    bool target_absent;      /* add_conditions found nothing at the target */
    size_t chunk_cap;
    int64_t chunk_ms;            /* when the current chunk got its first byte */
    /* This attempt. */
    int64_t got;
    int local_errno;             /* a write or open failed */
    bool output_error;           /* creating the output path failed: permanent */
    bool restart;                /* the .part must be rewritten from zero next time */
    bool discard;                /* the response is not the one asked for: keep nothing of it */
    bool permanent;              /* asking again cannot help */
    char local_msg[ERRLEN];
    char curl_err[CURL_ERROR_SIZE];
    int64_t started_ms, last_rx_ms;
    /* A range of a segmented download (docs/design.md#segmented-downloads): from x->offset to
     * seg_end, which a steal may move down; seg_asked is the end asked for. */
    bool seg;
    bool seg_lead;               /* a request for the whole file that became its first range */
    bool seg_reached;            /* got to seg_end: whatever else comes is not ours */
    bool seg_fallback;           /* the origin did not answer the range as asked */
    int64_t seg_end, seg_asked;
    int64_t seg_written;         /* bytes of the range on disk once its stream has ended */
};

static struct digest *item_digest(struct item *it)
{
    if (it->hash_state == NULL)
        it->hash_state = digest_new(it->algo);
    return it->hash_state;
}

void xfer_hash_free(void *state)
{
    digest_free(state);
}

void xfer_reset_hash(struct item *it)
{
    digest_free(it->hash_state);
    it->hash_state = NULL;
}

static bool strong_etag(const char *etag)
{
    return etag != NULL && etag[0] == '"';
}

bool xfer_can_resume(const struct item *it)
{
    return it->hash_state != NULL && digest_bytes(it->hash_state) > 0 &&
           (strong_etag(it->etag) || it->last_modified != NULL);
}

void xfer_attach_hash(struct item *it, void *state)
{
    xfer_reset_hash(it);
    it->hash_state = state;
}

/* The round trip to size the window for, in microseconds (0 when the socket cannot tell): the
 * smoothed round trip, but at most twice the smallest one seen. While a transfer does not read
 * (it waits for the disk or for its turn) the smoothed figure can rise far above the path's,
 * and a window sized on it would let the sender pour that much past the cap when reading
 * resumes; queueing on the path that is real stays covered up to twice the path's delay. */
static int64_t socket_rtt_us(curl_socket_t fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    int64_t rtt, min;

    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    rtt = (int64_t)ti.tcpi_rtt;
    min = len >= offsetof(struct tcp_info, tcpi_min_rtt) + sizeof ti.tcpi_min_rtt ?
          (int64_t)ti.tcpi_min_rtt : 0;
    if (min > 0 && rtt > 2 * min)
        rtt = 2 * min;
    return rtt;
}

/* Sizes the socket's buffer (want: the SO_RCVBUF value, cap_rcvbuf). SO_RCVBUF fixes the buffer (and stops the kernel's
 * autotuning, which would otherwise raise the clamp behind our back as it grows the buffer);
 * it is bounded by net.core.rmem_max, and SO_RCVBUFFORCE goes past that when we have
 * CAP_NET_ADMIN. Without it a window beyond rmem_max is left to autotuning (SO_BUF_LOCK, Linux
 * 5.14, switches it on again), and hold_window pulls the clamp back. Between two requests
 * (at_request) nothing is queued and the buffer may shrink to the window: a buffer much larger
 * than its clamp measured half the cap on loopback. During a transfer it only grows: data
 * already queued would be pruned. Returns true when the buffer is fixed. */
static bool make_room(int fd, int64_t want, bool at_request)
{
    int cur = 0, v = (int)want, unlock = 0;
    socklen_t len = sizeof cur;

    if (!at_request && getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &len) == 0 && cur / 2 > v)
        v = cur / 2;
    /* Set even when the buffer is big enough already: setting it is what stops autotuning. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    len = sizeof cur;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &len) == 0 && cur / 2 >= want)
        return true;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) == 0)
        return true;
#ifdef SO_BUF_LOCK
    setsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &unlock, sizeof unlock);
#else
    (void)unlock;
#endif
    return false;
}

/* TCP_WINDOW_CLAMP bounds what the peer may send ahead of what we have read, which is what the
 * kernel takes in while the transfer waits for its turn under the cap. Set only once connected:
 * before connect it would shrink the window scale for good. The kernel's autotuning raises the
 * clamp as it grows the buffer, so the one in force is read back and pulled down again. */
static void apply_window(struct xfer *x, curl_socket_t fd)
{
    int64_t want, rcvbuf;
    int v, k = -1;
    socklen_t len = sizeof k;

    if (x->share <= 0) {
        /* Nothing to undo unless a cap was ever in force and this connection may carry it. */
        if (!x->env->ever_capped || x->window == 0)
            return;
        /* A connection clamped under an earlier cap: the clamp goes and autotuning comes back
         * (an uncapped long path needs it), as if the connection were new. */
        v = UNCLAMPED;
        setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof v);
#ifdef SO_BUF_LOCK
        v = 0;
        setsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &v, sizeof v);
#endif
        x->window = 0;
        return;
    }
    x->rtt_us = socket_rtt_us(fd);
    want = cap_window(x->share, x->rtt_us);
    if (getsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &k, &len) != 0)
        k = -1;
    /* While drain_buffer holds the clamp lower on purpose, only a new window counts. */
    if (!cap_window_stale(x->window, want) && (x->drain_ms != 0 || !cap_window_stale(k, want)))
        return;
    x->ratio = x->seen > 0 ? x->seen : socktab_ratio(x->env->socks);
    rcvbuf = cap_rcvbuf(want, x->ratio);
    x->autotuned = !make_room(fd, rcvbuf, x->window < 0);
    /* During a transfer make_room only grows the buffer: drain_buffer cuts it when it may. */
    if (x->window < 0 || rcvbuf > x->rcvbuf)
        x->rcvbuf = rcvbuf;
    v = (int)want;
    if (setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof v) == 0)
        x->window = want;
}

/* The buffer holds the window only if it was sized for the ratio of payload to memory of the
 * packets this path brings (cap_rcvbuf): measured from what waits unread on the socket, at the
 * first chance and then every eighth of a window, the largest trustworthy sample holding
 * (cap_ratio_next). A buffer found too small grows at once (the window could not carry the
 * share); one too large is drained and cut (drain_buffer): shrinking it under queued data would
 * make the kernel drop packets it has already let the peer send. */
static void measure_ratio(struct xfer *x)
{
    int queued = 0;
    unsigned mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    int r;
    int64_t v;

    x->sampled_at = x->got;
    if (ioctl(x->fd, FIONREAD, &queued) != 0 ||
        getsockopt(x->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < sizeof mem[0] * (SK_MEMINFO_RMEM_ALLOC + 1))
        return;
    r = cap_ratio_next(x->seen, queued, (int64_t)mem[SK_MEMINFO_RMEM_ALLOC], x->window);
    if (r == x->seen)
        return;
    x->seen = r;
    socktab_learn_ratio(x->env->socks, r);
    x->ratio = r;
    v = cap_rcvbuf(x->window, r);
    if (v > x->rcvbuf) {
        x->rcvbuf = v;
        x->autotuned = !make_room(x->fd, v, false);
    }
}

/* The kernel's autotuning raises the clamp as it grows the buffer, which it does while we read:
 * checked every eighth of a window read, so a raise is pulled back within that much data. */
static void hold_window(struct xfer *x)
{
    int k = -1, v;
    socklen_t len = sizeof k;

    x->held_at = x->got;
    if (getsockopt(x->fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &k, &len) == 0 &&
        k > x->window + x->window / 8) {
        v = (int)x->window;
        setsockopt(x->fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof v);
    }
}

/* The cap fell and the buffer still holds the old window (cap_drain_clamp): the clamp keeps
 * what the peer may send to the new window less what waits unread, and once a round trip has
 * passed (what was promised under the old clamp has come) and the two fit the window, the buffer
 * is cut to the window's size and the clamp given back. Checked every tick. */
static void drain_buffer(struct xfer *x)
{
    int64_t target, now, clamp;
    int queued = 0, v;

    if (x->window <= 0 || x->autotuned || x->ratio == 0)
        return;
    target = cap_rcvbuf(x->window, x->ratio);
    if (x->rcvbuf <= target + target / 4) {
        x->drain_ms = 0;
        return;
    }
    if (ioctl(x->fd, FIONREAD, &queued) != 0)
        return;
    now = mono_ms();
    clamp = cap_drain_clamp(x->window, queued);
    if (x->drain_ms == 0)
        x->drain_ms = now;
    else if (now - x->drain_ms >= x->rtt_us / 1000 + 50 && cap_drain_done(x->window, queued, clamp)) {
        v = (int)target;
        if (setsockopt(x->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v) == 0)
            x->rcvbuf = target;
        x->drain_ms = 0;
        clamp = x->window;
    }
    v = (int)clamp;
    setsockopt(x->fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &v, sizeof v);
}

void xfer_tune_window(struct xfer *x, int64_t share)
{
    x->share = share;
    if (x->fd >= 0) {
        apply_window(x, x->fd);
        drain_buffer(x);
    }
}

/* Read first for this long at most: a sender faster than the whole cap keeps a buffer full
 * however fast it is read, and its transfer would then take every turn from the others. */
#define DRAIN_FIRST_MS 500

bool xfer_draining(const struct xfer *x)
{
    return x->drain_ms != 0 && mono_ms() - x->drain_ms < DRAIN_FIRST_MS;
}

bool xfer_between_files(const struct xfer *x)
{
    return x->fd >= 0 && x->r.status == 0 && socktab_reused(x->env->socks, x->fd);
}

int64_t xfer_window(const struct xfer *x, int64_t *rtt_us)
{
    if (rtt_us != NULL)
        *rtt_us = x->rtt_us;
    return x->window;
}

/* Before connect, under a cap: announce at most Ethernet's segment size. Linux bounds a sender's
 * segment by half the largest window its peer ever offered, and the first window offered is
 * 64 KiB, before the clamp can apply: on loopback (64 KiB segments) a sender then waits for a
 * whole segment of window that a capped transfer's clamp never opens, and a -r 1M sync ran at
 * 45 % of its cap. On a real path the segment is this size or smaller anyway. Neither a buffer
 * size nor a clamp is set here: either would shrink the window scale for the connection's life. */
static int on_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
    struct xfer *x = clientp;

    if (purpose == CURLSOCKTYPE_IPCXN && x->share > 0) {
        int v = CAPPED_MSS;

        setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof v);
    }
    return CURL_SOCKOPT_OK;
}

/* libcurl's sockets are opened and closed here so the engine knows them (include/socktab.h). */
static curl_socket_t on_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct socktab *t = clientp;
    int fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);

    if (fd < 0)
        return CURL_SOCKET_BAD;
    socktab_add(t, fd);
    return fd;
}

static int on_close_socket(void *clientp, curl_socket_t fd)
{
    socktab_remove(clientp, fd);
    return close(fd);
}

/* Runs on every request, on a new or a reused connection (and again after a redirect to another
 * connection): the transfer finds its socket, which gets the window of the cap in force now,
 * whatever an earlier transfer left on it. */
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port)
{
    struct xfer *x = clientp;

    if (x->fd >= 0)
        socktab_release(x->env->socks, x->fd, &x->fd);
    x->window = -1;          /* unknown on this connection: set it */
    x->autotuned = false;
    x->rcvbuf = 0;
    x->ratio = 0;
    x->seen = 0;
    x->sampled_at = x->got;
    x->drain_ms = 0;
    x->drained_at = x->got;
    if (socktab_find(x->env->socks, conn_local_port, conn_primary_ip, conn_primary_port, &x->fd) >= 0)
        apply_window(x, x->fd);
    return CURL_PREREQFUNC_OK;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * nitems;

    if (resp_line(&x->r, buf, len))
        x->body_started = false;     /* a new response (redirect, 1xx): no body seen yet */
    return len;
}

/* The .part is opened by a writer thread (creating an inode is the dearest syscall of a small
 * file); a failure there comes back as the stream's error. From here until the stream ends, the
 * digest belongs to the thread writing the .part. */
static void open_output(struct xfer *x, bool truncate)
{
    x->stream = writer_open(x->env->writer, x->env->rootfd, x->it->path, truncate, x->offset,
                            item_digest(x->it));
    x->it->hash_state = NULL;
    {
        /* What If-Range will carry when a later run resumes from this .part's tag. */
        char *v = strong_etag(x->r.etag) ? xasprintf("E%s", x->r.etag) :
                  x->r.last_modified != NULL ? xasprintf("L%s", x->r.last_modified) : NULL;

        writer_expect(x->stream, x->it->size, v);
        free(v);
    }
    if (x->target_absent)
        writer_target_absent(x->stream);
}

/* A failure of the writer becomes this attempt's. */
static void adopt_failure(struct xfer *x, int err, enum writer_fail kind, const char *msg)
{
    if (err == 0 || x->local_errno != 0)
        return;
    x->local_errno = err;
    snprintf(x->local_msg, ERRLEN, "%s", msg);
    if (kind == WRITER_FAIL_PATH)
        x->output_error = true;
    else if (kind == WRITER_FAIL_RESTART)
        x->restart = true;
}

/* A file that can never be stored (over --max-size, or bigger than the whole output filesystem)
 * fails now, rather than filling the disk and waiting for space that cannot come. size: the
 * whole file's, announced by the headers or received so far (-1: unknown). */
static bool over_limit(struct xfer *x, int64_t size, bool announced)
{
    int64_t max = x->env->settings->max_size;
    struct statvfs v;

    if (size < 0)
        return false;
    if (max > 0 && size > max) {
        snprintf(x->local_msg, ERRLEN, "too large: %lld bytes%s, over --max-size (%lld)",
                 (long long)size, announced ? "" : " so far", (long long)max);
    } else if (announced) {
        /* Asked once, at the announced size: a filesystem under 1 MiB is not worth a syscall per
         * small file. */
        if (size <= 1024 * 1024 || fstatvfs(x->env->rootfd, &v) < 0 ||
            (uint64_t)size <= (uint64_t)v.f_blocks * v.f_frsize)
            return false;
        snprintf(x->local_msg, ERRLEN, "too large: %lld bytes cannot fit on the output filesystem "
                 "(%llu bytes in all)", (long long)size,
                 (unsigned long long)((uint64_t)v.f_blocks * v.f_frsize));
    } else {
        return false;
    }
    x->local_errno = EFBIG;
    x->permanent = true;
    x->restart = true;
    return true;
}

static void keep_validators(struct xfer *x);

/* A 200 to a request for the whole file that may be fetched in ranges instead: --segments
 * above 1 and not refused for this item, ranges accepted, a size worth cutting and a validator
 * for If-Range (without one a changed file would be spliced from two versions). */
static bool segmentable(const struct xfer *x)
{
    const struct settings *s = x->env->settings;

    return s->segments > 1 && !x->it->no_segments && x->r.status == 200 && x->offset == 0 &&
           x->r.accept_ranges && x->r.content_length > 0 &&
           (strong_etag(x->r.etag) || x->r.last_modified != NULL) &&
           segplan_count(x->r.content_length, s->segments, s->min_segment) > 1;
}

/* A resumed request (one connection wrote the .part's first bytes) answered 206 as asked: what is
 * left can be split like a new file's whole (docs/design.md#segmented-downloads). */
static bool resumed_segmentable(const struct xfer *x)
{
    const struct settings *s = x->env->settings;

    return s->segments > 1 && !x->it->no_segments && x->r.status == 206 && x->offset > 0 &&
           x->r.cr_total > x->offset && x->validator != NULL &&
           segplan_count(x->r.cr_total - x->offset, s->segments, s->min_segment) > 1;
}

/* The first body byte of a range: exactly the range asked for, of the version asked for, or
 * nothing of it is kept and the engine falls back to one connection from zero. */
static int start_range(struct xfer *x)
{
    char why[ERRLEN];

    if (x->r.status != 206) {
        snprintf(why, sizeof why, "HTTP %d to a range request (ranges ignored, or the file "
                 "changed)", x->r.status);
    } else if (resp_segment_ok(&x->r, x->offset, x->seg_asked, x->known_size, x->validator, why)) {
        x->stream = writer_open_at(x->env->writer, x->env->rootfd, x->it->path, x->offset, NULL);
        return 0;
    }
    x->discard = true;
    x->seg_fallback = true;
    x->local_errno = EPROTO;
    snprintf(x->local_msg, ERRLEN, "%s", why);
    return -1;
}

/* The first body byte of a 2xx response (no byte of it has reached the .part): decide between
 * appending, starting over, and refusing it. */
static int start_body(struct xfer *x, bool in_body)
{
    x->body_started = true;
    if (x->seg)
        return start_range(x);
    if (segmentable(x)) {
        /* The first range of a segmented download: the engine plans the others and cuts this
         * one down (xfer_range_cut). The .part is not emptied: every byte of the file is written
         * by one range or another, and the commit cuts it to the file's size. */
        x->seg = x->seg_lead = true;
        x->seg_asked = x->r.content_length;
        /* Where the plan will end this range: one socket action can bring megabytes before the
         * engine plans, and the bytes past it are the other ranges'. */
        x->seg_end = segplan_plan_first_end(x->r.content_length, 0, x->env->settings->segments,
                                            xfer_range_per(x), x->env->settings->min_segment);
        x->it->size = x->r.content_length;
        xfer_reset_hash(x->it);
        keep_validators(x);
        if (over_limit(x, x->r.content_length, true))
            return -1;
        /* Hashed as it comes: it is the file from byte 0, in order (engine_seg.c, whole). */
        x->stream = writer_open_at(x->env->writer, x->env->rootfd, x->it->path, 0,
                                   digest_new(x->it->algo));
        if (x->env->segmented != NULL)
            x->env->segmented(x->env->arg, x);
        return 0;
    }
    if (x->r.status == 206) {
        char why[ERRLEN];

        if (!resp_range_ok(&x->r, x->offset, x->known_size, x->validator, why)) {
            /* Splicing would make a file that is neither version, or one that ends early. After a
             * resume, a request from zero does not depend on ranges; without one, it would be
             * the same request again. */
            x->discard = true;
            x->restart = true;
            x->permanent = x->offset == 0;
            x->local_errno = EPROTO;
            snprintf(x->local_msg, ERRLEN, "%.480s%s", why,
                     x->offset > 0 ? ": starting over from zero" : "");
            return -1;
        }
        x->it->size = x->r.cr_total;
        if (in_body && resumed_segmentable(x)) {
            /* The first range to fetch of a segmented download whose [0, offset) is on disk:
             * it goes on from there, hashed as it comes after what the digest covers, and stops
             * where the plan ends its range (segplan_plan). */
            x->seg = x->seg_lead = true;
            x->seg_asked = x->r.cr_total;
            x->seg_end = segplan_plan_first_end(x->r.cr_total, x->offset,
                                                x->env->settings->segments, xfer_range_per(x),
                                                x->env->settings->min_segment);
            keep_validators(x);
            if (over_limit(x, x->r.cr_total, true))
                return -1;
            x->stream = writer_open_at(x->env->writer, x->env->rootfd, x->it->path, x->offset,
                                       item_digest(x->it));
            x->it->hash_state = NULL;
            if (x->env->segmented != NULL)
                x->env->segmented(x->env->arg, x);
            return 0;
        }
    } else if (x->offset > 0) {
        /* 200 to a Range + If-Range request: the file changed (or ranges are not supported). */
        x->offset = 0;
        xfer_reset_hash(x->it);
    }
    /* Known from here on, so the UI can show a progress bar during the first attempt. */
    if (x->r.status != 206 && x->r.content_length >= 0)
        x->it->size = x->offset + x->r.content_length;
    if (over_limit(x, x->r.status == 206 ? x->r.cr_total :
                      x->r.content_length >= 0 ? x->offset + x->r.content_length : -1, true))
        return -1;
    open_output(x, x->offset == 0);
    return 0;
}

/* Hands the gathered bytes to the writer. */
static void flush(struct xfer *x)
{
    if (x->chunk == NULL || x->chunk->len == 0)
        return;
    writer_write(x->stream, x->chunk);
    x->chunk = NULL;
}

/* Ends the stream here and now: what is queued gets written, the digest comes back to the item,
 * a failed write becomes this attempt's error. */
static void end_stream(struct xfer *x)
{
    struct digest *d;
    int64_t written;
    char msg[ERRLEN];
    enum writer_fail kind;
    int err;

    if (x->stream == NULL)
        return;
    flush(x);
    err = writer_close(x->stream, &d, &written, msg, &kind);
    x->stream = NULL;
    if (x->seg) {
        /* The engine keeps a range's progress (the item's is the sum of its ranges). */
        x->seg_written = written;
        /* The first range's digest covers the .part from 0 as far as it was written, in order:
         * the item keeps it, so only the rest is read back once every range is on disk. */
        if (d != NULL && err == 0 && x->seg_lead && digest_bytes(d) == x->offset + written &&
            x->it->seg_hash == NULL)
            x->it->seg_hash = d;
        else
            digest_free(d);
    } else {
        xfer_attach_hash(x->it, d);
        x->it->received = written;
    }
    adopt_failure(x, err, kind, msg);
}

static int64_t promised(const struct xfer *x);

/* Copies what libcurl handed over into chunks, each handed to the writer once full: every
 * write() but the last is a whole chunk, so the file offsets stay aligned as the chunks' data
 * is (writer.h). A slow transfer hands over what it has every CHUNK_AGE_MS too: the session
 * records only what the writer has put on disk, and a kill -9 re-fetches whatever was not
 * recorded. The chunk that ends the body waits for the end of the transfer (the same loop turn,
 * as a rule) and goes with the commit: one hand-off, one wakeup of a writer per small file. */
static void gather(struct xfer *x, const char *ptr, size_t n)
{
    bool ends = x->got + (int64_t)n == promised(x);

    while (n > 0) {
        size_t k;

        if (x->chunk == NULL) {
            x->chunk = writer_chunk(x->env->writer, x->chunk_cap);
            x->chunk_ms = x->last_rx_ms;
        }
        k = x->chunk->cap - x->chunk->len;
        if (k > n)
            k = n;
        writer_chunk_add(x->chunk, ptr, k);
        ptr += k;
        n -= k;
        if (x->chunk->len == x->chunk->cap && (n > 0 || !ends))
            flush(x);
    }
    if (x->chunk != NULL && x->last_rx_ms - x->chunk_ms >= CHUNK_AGE_MS && !ends)
        flush(x);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;

    if (x->local_errno != 0)
        return 0;
    if (x->r.status < 200 || x->r.status > 299)
        return n;        /* an error page: not file content */
    if (!x->body_started && start_body(x, true) < 0)
        return 0;
    if (x->seg) {
        int64_t room = x->seg_end - x->offset - x->got;

        if (room <= 0) {
            /* The rest of the range went to another connection (a steal): stop here. */
            x->seg_reached = true;
            return 0;
        }
        if ((int64_t)n > room)
            n = (size_t)room;
    }
    {
        char msg[ERRLEN];
        enum writer_fail kind;
        int err = writer_error(x->stream, msg, &kind);

        if (err != 0) {
            adopt_failure(x, err, kind, msg);
            return 0;    /* the disk failed: stop fetching what cannot be stored */
        }
    }
    /* A body without a size (or longer than it said) is bounded as it comes. */
    if (over_limit(x, x->offset + x->got + (int64_t)n, false))
        return 0;
    if (x->env->may_receive != NULL && !x->env->may_receive(x->env->arg, x, n))
        return CURL_WRITEFUNC_PAUSE;
    if (x->chunk_cap == 0) {
        int64_t want = x->r.content_length > 0 ? x->r.content_length : WBUF_MAX;
        size_t cap = x->env->settings->concurrency > MANY_AT_ONCE ? WBUF_MANY : WBUF_MAX;

        x->chunk_cap = want < (int64_t)cap ? (size_t)want : cap;
    }
    x->last_rx_ms = mono_ms();
    gather(x, ptr, n);
    x->got += (int64_t)n;
    if (x->autotuned && x->window > 0 && x->fd >= 0 && x->got - x->held_at >= x->window / 8)
        hold_window(x);
    if (x->window > 0 && x->fd >= 0 && !x->autotuned && socktab_ratio_measured(x->env->socks) &&
        x->got - x->sampled_at >= x->window / 8)
        measure_ratio(x);
    /* A buffer too large for its window (the window fell: the cap, more transfers, a segmented
     * file's split) is looked at every eighth of a window too, not only on the tick: while it
     * drains it is read first (xfer_draining), and it is cut as soon as it may be. */
    if (x->window > 0 && x->fd >= 0 && !x->autotuned && x->got - x->drained_at >= x->window / 8) {
        x->drained_at = x->got;
        drain_buffer(x);
    }
    if (x->env->received != NULL)
        x->env->received(x->env->arg, x, n);
    if (x->seg && x->offset + x->got >= x->seg_end)
        x->seg_reached = true;
    return n;
}

static void http_date(int64_t t, char out[40])
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;

    /* By hand: strftime's %a and %b follow LC_TIME, which the TUI sets from the environment. */
    gmtime_r(&tt, &tm);
    snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The local copy exists: ask only for a newer one (docs/design.md#resume-and-incremental-sync).
 * With validators from the session, and the file still the size recorded, those; without a
 * record, the file's own mtime. */
static void add_conditions(struct xfer *x, struct item *it)
{
    int64_t size, mtime;
    char date[40];
    char *h;

    if (!fsout_stat_path_or_absent(x->env->rootfd, it->path, &size, &mtime, &x->target_absent))
        return;
    if (it->etag != NULL || it->last_modified != NULL) {
        if (it->size >= 0 && size != it->size)
            return;          /* changed locally: fetch it whole */
        if (it->etag != NULL) {
            h = xasprintf("If-None-Match: %s", it->etag);
            x->hdrs = curl_slist_append(x->hdrs, h);
            free(h);
        }
        if (it->last_modified != NULL) {
            h = xasprintf("If-Modified-Since: %s", it->last_modified);
            x->hdrs = curl_slist_append(x->hdrs, h);
            free(h);
        }
        return;
    }
    http_date(mtime, date);
    h = xasprintf("If-Modified-Since: %s", date);
    x->hdrs = curl_slist_append(x->hdrs, h);
    free(h);
}

static long uncapped_buffer(const struct xfer_env *env)
{
    return env->settings->concurrency > MANY_AT_ONCE ? BUFFER_MANY : BUFFER_UNCAPPED;
}

struct xfer *xfer_new(const struct xfer_env *env, struct item *it, CURL *easy, int64_t now_ms,
                      void *user)
{
    return xfer_new_range(env, it, easy, now_ms, user, NULL);
}

struct xfer *xfer_new_range(const struct xfer_env *env, struct item *it, CURL *easy,
                            int64_t now_ms, void *user, const struct xfer_range *rg)
{
    const struct settings *s = env->settings;
    struct xfer *x = xcalloc(1, sizeof *x);
    int64_t have = it->hash_state != NULL ? digest_bytes(it->hash_state) : 0;

    x->env = env;
    x->user = user;
    x->it = it;
    x->easy = easy;
    x->dirfd = -1;
    x->fd = -1;
    x->known_size = -1;
    x->started_ms = x->last_rx_ms = now_ms;
    resp_reset(&x->r, 0);

    /* Resume only what the digests cover, and only with a validator for If-Range: without one a
     * changed file would be spliced from two versions. */
    if (rg == NULL && have > 0 && (strong_etag(it->etag) || it->last_modified != NULL)) {
        int errnum;

        if (fsout_open_dir(env->rootfd, it->path, &x->dirfd, &x->base, &errnum, x->local_msg) == 0 &&
            fsout_part_size(x->dirfd, x->base) >= have)
            x->offset = have;
    }
    if (x->offset == 0 && rg == NULL)
        xfer_reset_hash(it);

    for (size_t i = 0; i < s->nheaders; i++)
        x->hdrs = curl_slist_append(x->hdrs, s->headers[i]);
    for (size_t i = 0; i < it->nheaders; i++)
        x->hdrs = curl_slist_append(x->hdrs, it->headers[i]);
    if (rg != NULL) {
        /* One range of a segmented download: exactly these bytes, of the version the first
         * response described. */
        char *h = xasprintf("If-Range: %s", rg->validator);

        x->seg = true;
        x->offset = rg->start;
        x->seg_end = x->seg_asked = rg->end;
        x->known_size = it->size;
        x->validator = xstrdup(rg->validator);
        x->hdrs = curl_slist_append(x->hdrs, h);
        free(h);
        snprintf(x->range, sizeof x->range, "%lld-%lld", (long long)rg->start,
                 (long long)rg->end - 1);
        curl_easy_setopt(easy, CURLOPT_RANGE, x->range);
    } else if (x->offset == 0 && !s->overwrite)
        add_conditions(x, it);
    if (x->offset > 0 && !x->seg) {
        char *h;

        x->validator = xstrdup(strong_etag(it->etag) ? it->etag : it->last_modified);
        x->known_size = it->size;
        h = xasprintf("If-Range: %s", x->validator);
        x->hdrs = curl_slist_append(x->hdrs, h);
        free(h);
        snprintf(x->range, sizeof x->range, "%lld-", (long long)x->offset);
        curl_easy_setopt(easy, CURLOPT_RANGE, x->range);
    }

    curl_easy_setopt(easy, CURLOPT_URL, it->urls[0]);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, x->curl_err);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)s->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, uncapped_buffer(env));
    curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, x);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, env->socks);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, env->socks);
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, x);
    /* HTTP/1.1 only: on libcurl 7.88 a paused HTTP/2 stream keeps receiving up to its 32 MB
     * window and can stall its siblings (docs/design.md#http2-and-paused-streams), so the cap
     * would not hold on the wire. */
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(easy, CURLOPT_SHARE, env->curl_share);
    if (x->hdrs != NULL)
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, x->hdrs);
    if (s->user_agent != NULL)
        curl_easy_setopt(easy, CURLOPT_USERAGENT, s->user_agent);
    if (s->proxy != NULL)
        curl_easy_setopt(easy, CURLOPT_PROXY, s->proxy);
    if (s->ca_file != NULL)
        curl_easy_setopt(easy, CURLOPT_CAINFO, s->ca_file);
    if (s->insecure) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return x;
}

void xfer_set_share(struct xfer *x, int64_t share)
{
    x->share = share;
    curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, share > 0 ? (long)BUFFER_CAPPED : uncapped_buffer(x->env));
}

void *xfer_user(const struct xfer *x)
{
    return x->user;
}

CURL *xfer_easy(const struct xfer *x)
{
    return x->easy;
}

struct item *xfer_item(const struct xfer *x)
{
    return x->it;
}

struct wstream *xfer_stream(const struct xfer *x)
{
    return x->stream;
}

CURL *xfer_free(struct xfer *x)
{
    CURL *easy = x->easy;

    end_stream(x);
    if (x->fd >= 0)
        socktab_release(x->env->socks, x->fd, &x->fd);
    if (x->dirfd >= 0)
        close(x->dirfd);
    writer_chunk_free(x->env->writer, x->chunk);
    curl_slist_free_all(x->hdrs);
    free(x->validator);
    resp_free(&x->r);
    free(x);
    /* Options of this attempt (Range, headers, private pointer) must not leak into the next. */
    curl_easy_reset(easy);
    return easy;
}

/* The body length the response promised: a 206's range (checked against the request before
 * its first byte), else Content-Length; -1 when unknown. */
static int64_t promised(const struct xfer *x)
{
    if (x->r.status == 206)
        return x->r.cr_end - x->r.cr_start + 1;
    return x->r.content_length;
}

static void keep_validators(struct xfer *x)
{
    struct item *it = x->it;

    free(it->etag);
    free(it->last_modified);
    it->etag = x->r.etag != NULL ? xstrdup(x->r.etag) : NULL;
    it->last_modified = x->r.last_modified != NULL ? xstrdup(x->r.last_modified) : NULL;
    if (x->r.status == 206)
        it->size = x->r.cr_total;
    else if (x->r.content_length >= 0)
        it->size = x->offset + x->r.content_length;
    if (x->stream != NULL)
        it->received = writer_written(x->stream);
    else if (it->hash_state != NULL)
        it->received = digest_bytes(it->hash_state);
}

bool xfer_checkpoint(struct xfer *x)
{
    if (x->seg) {
        /* Its range's progress is the engine's to record (xfer_range_written). */
        if (x->stream == NULL || x->local_errno != 0)
            return false;
        flush(x);
        return true;
    }
    if (x->r.status < 200 || x->r.status > 299 || !x->body_started || x->stream == NULL ||
        x->local_errno != 0)
        return false;
    /* What is gathered goes to the writer now, so the next record covers it. */
    flush(x);
    keep_validators(x);
    return true;
}

/* What a failed attempt's own flags say about it, for retry_decide. */
static enum retry_cause local_cause(const struct xfer *x)
{
    if (x->discard)
        return RETRY_CAUSE_MISMATCH;
    if (x->permanent)
        return RETRY_CAUSE_TOO_LARGE;
    if (x->output_error)
        return RETRY_CAUSE_PATH;
    if (x->restart)
        return RETRY_CAUSE_PART_SHORT;
    return RETRY_CAUSE_RESPONSE;
}

/* The verdict on a range: its stream always ends here (the commit is of the whole file, once
 * every range is on disk). Complete when every byte up to its end, as it is now, is written. */
/* A response that is not the version (or not the range) asked for: neither its validators nor
 * the old ones describe what the next attempt will fetch; with none, a target already there is
 * asked for by its mtime, so an old file of the recorded size is never called unchanged. Then,
 * whatever the verdict, the facts of a failure for retry_decide. */
static void judge_facts(struct xfer *x, CURLcode rc, struct retry_facts *f)
{
    struct item *it = x->it;

    if (x->discard) {
        free(it->etag);
        free(it->last_modified);
        it->etag = it->last_modified = NULL;
        it->size = -1;
    }
    f->status = x->r.status;
    f->curl = rc;
    f->err = x->local_errno;
    f->resumed = x->offset > 0;
    f->retry_after = x->r.retry_after;
    f->cause = local_cause(x);
}

static enum xfer_verdict range_verdict(struct xfer *x, CURLcode rc, char *msg,
                                       struct retry_facts *f)
{
    struct item *it = x->it;
    int64_t want = x->seg_end - x->offset;

    end_stream(x);
    it->http_status = x->r.status;
    it->duration_ms = mono_ms() - x->started_ms;
    judge_facts(x, rc, f);
    if (x->local_errno != 0)
        return errf(msg, "%s", x->local_msg), XFER_FAILED;
    if (x->seg_written == want && (x->seg_reached || rc == CURLE_OK))
        return XFER_RANGE_DONE;
    if (rc != CURLE_OK)
        return errf(msg, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc)),
               XFER_FAILED;
    if (x->r.status < 200 || x->r.status > 299)
        return errf(msg, "HTTP %d", x->r.status), XFER_FAILED;
    f->cause = RETRY_CAUSE_TRUNCATED;
    return errf(msg, "truncated range: %lld of %lld bytes from %lld", (long long)x->seg_written,
                (long long)want, (long long)x->offset), XFER_FAILED;
}

enum xfer_verdict xfer_verdict(struct xfer *x, CURLcode rc, char *msg, struct retry_facts *f)
{
    struct item *it = x->it;
    long code = 0;

    msg[0] = '\0';
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code > 0)
        x->r.status = (int)code;
    if (x->seg)
        return range_verdict(x, rc, msg, f);
    /* A complete body keeps its stream open for the commit (which checks the writes); anything
     * else ends it now, so the item holds its digest and true byte count before it is judged. */
    if (!(rc == CURLE_OK && x->local_errno == 0 && x->r.status >= 200 && x->r.status <= 299 &&
          x->body_started && (promised(x) < 0 || x->got == promised(x))))
        end_stream(x);
    else
        flush(x);
    it->http_status = x->r.status;
    it->duration_ms = mono_ms() - x->started_ms;

    /* Validators and size of a good response are kept even when the body broke off, so the
     * next attempt can resume with Range + If-Range. */
    if (x->r.status >= 200 && x->r.status <= 299 && x->body_started && !x->discard)
        keep_validators(x);
    judge_facts(x, rc, f);
    if (x->local_errno != 0) {
        snprintf(msg, ERRLEN, "%s", x->local_msg);
        return XFER_FAILED;
    }
    if (rc != CURLE_OK) {
        snprintf(msg, ERRLEN, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
        return XFER_FAILED;
    }
    if (x->r.status == 304)
        return XFER_UNCHANGED;
    if (x->r.status >= 200 && x->r.status <= 299) {
        if (!x->body_started) {                          /* an empty body */
            if (start_body(x, false) < 0) {
                snprintf(msg, ERRLEN, "%s", x->local_msg);
                f->err = x->local_errno;
                f->cause = local_cause(x);
                return XFER_FAILED;
            }
            keep_validators(x);
        }
        if (promised(x) >= 0 && x->got != promised(x)) {
            f->cause = RETRY_CAUSE_TRUNCATED;
            return errf(msg, "truncated body: %lld of %lld bytes", (long long)x->got,
                        (long long)promised(x)), XFER_FAILED;
        }
        return XFER_DONE;
    }
    snprintf(msg, ERRLEN, "HTTP %d", x->r.status);
    /* A Content-Range total equal to what the .part holds: it was already whole (a crash between
     * the last byte and the rename). Finish it from the running digest. */
    if (x->r.status == 416 && x->offset > 0 && x->r.cr_total == x->offset &&
        (x->known_size < 0 || x->known_size == x->offset) && it->hash_state != NULL) {
        open_output(x, false);
        it->size = x->offset;
        msg[0] = '\0';
        return XFER_DONE;
    }
    return XFER_FAILED;
}

void xfer_take_output(struct xfer *x, struct wstream **stream, struct wchunk **last,
                      int64_t *mtime)
{
    *last = x->chunk != NULL && x->chunk->len > 0 ? x->chunk : NULL;
    if (*last == NULL)
        writer_chunk_free(x->env->writer, x->chunk);
    x->chunk = NULL;
    *stream = x->stream;
    *mtime = -1;
    if (x->it->last_modified != NULL)
        *mtime = xfer_mtime_of(x->it->last_modified);
    x->stream = NULL;
}

int64_t xfer_mtime_of(const char *last_modified)
{
    int64_t t;

    /* Our own HTTP-date parser first: curl_getdate tries format after format with sscanf, about
     * 11,000 instructions a file on the loop thread (callgrind); it stays for the rest. */
    if (backoff_http_date(last_modified, wall_ms(), &t) < 0)
        t = (int64_t)curl_getdate(last_modified, NULL);
    return t >= 0 ? t : -1;
}

int64_t xfer_started_ms(const struct xfer *x)
{
    return x->started_ms;
}

int64_t xfer_last_rx_ms(const struct xfer *x)
{
    return x->last_rx_ms;
}

int64_t xfer_bytes(const struct xfer *x)
{
    return x->got;
}

int64_t xfer_left(const struct xfer *x)
{
    int64_t p = x->r.status != 0 ? promised(x) : -1;

    return p >= 0 ? (p > x->got ? p - x->got : 0) : -1;
}

int64_t xfer_offset(const struct xfer *x)
{
    return x->offset;
}

int xfer_status(const struct xfer *x)
{
    return x->r.status;
}

bool xfer_is_range(const struct xfer *x)
{
    return x->seg;
}

int xfer_range_per(const struct xfer *x)
{
    return x->share > 0 ? 1 : SEGPLAN_PIECES;
}

bool xfer_range_lead(const struct xfer *x)
{
    return x->seg_lead;
}

bool xfer_range_fallback(const struct xfer *x)
{
    return x->seg_fallback;
}

int64_t xfer_range_end(const struct xfer *x)
{
    return x->seg_end;
}

void xfer_range_cut(struct xfer *x, int64_t end)
{
    if (end < x->seg_end)
        x->seg_end = end;
}

int64_t xfer_range_written(const struct xfer *x)
{
    return x->stream != NULL ? writer_written(x->stream) : x->seg_written;
}
