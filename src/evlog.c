/* JSON Lines event log. Each line is built in memory and handed to the kernel with one write()
 * on an O_APPEND descriptor, at the moment of its event: no stdio buffer holds half a line
 * across events, so a kill -9 (or a crash) leaves only whole lines behind, and a line is in the
 * file before the session records what it reports (the engine emits `done` before the queue
 * writes the state on the next loop turn). */
#include "evlog.h"
#include "urlpath.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct evlog {
    int fd;
    int err;                     /* the first write error, 0 when none */
};

static const char *kind_name(enum engine_event_kind k)
{
    static const char *names[] = {
        [EV_QUEUED] = "queued", [EV_START] = "start", [EV_DONE] = "done",
        [EV_UNCHANGED] = "unchanged", [EV_RETRY] = "retry", [EV_FAILED] = "failed",
        [EV_PAUSED] = "paused", [EV_RESUMED] = "resumed", [EV_RATE] = "rate",
        [EV_CONCURRENCY] = "concurrency", [EV_MESSAGE] = "message", [EV_REMOVED] = "removed",
    };

    return (unsigned)k < ARRAY_LEN(names) && names[k] != NULL ? names[k] : "unknown";
}

/* One write() for the whole buffer; a short write (a signal, a full disk) writes the rest. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (w == 0)
            return EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* True when the regular file open at fd does not end with a newline. Read through a descriptor
 * of its own: the log's is write-only (it may be a file we may only write). */
static bool ends_mid_line(int fd, const char *path)
{
    struct stat a, b;
    char last = '\n';
    int rfd;

    if (fstat(fd, &a) < 0 || !S_ISREG(a.st_mode) || a.st_size == 0)
        return false;
    rfd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (rfd < 0)
        return false;
    if (fstat(rfd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
        pread(rfd, &last, 1, b.st_size - 1) != 1)
        last = '\n';
    close(rfd);
    return last != '\n';
}

struct evlog *evlog_open(const char *path, char *err)
{
    struct evlog *l;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

    if (fd < 0) {
        errf(err, "cannot open log %s: %s", path, strerror(errno));
        return NULL;
    }
    /* A run killed in the middle of a line (power loss, or a kill inside the write's copy) left
     * it unfinished: ours start on a line of their own. */
    if (ends_mid_line(fd, path)) {
        int rc = write_all(fd, "\n", 1);

        if (rc != 0) {
            errf(err, "cannot write log %s: %s", path, strerror(rc));
            close(fd);
            return NULL;
        }
    }
    l = xcalloc(1, sizeof *l);
    l->fd = fd;
    return l;
}

/* A URL may hold raw bytes that are not UTF-8; JSON text cannot. Such a byte is written as the
 * URL would carry it on the wire, percent-encoded, so the URL stays exact. */
static void json_url(struct sbuf *b, const char *url)
{
    struct sbuf u = { 0 };

    sbuf_add(&u, "", 0);
    for (const char *p = url; *p;) {
        uint32_t cp;
        size_t n = util_utf8_seq(p, &cp);

        if (n == 0) {
            sbuf_printf(&u, "%%%02X", (unsigned char)*p);
            n = 1;
        } else {
            sbuf_add(&u, p, n);
        }
        p += n;
    }
    sbuf_json_str(b, u.s);
    sbuf_free(&u);
}

void evlog_listener(const struct engine_event *ev, void *arg)
{
    struct evlog *l = arg;
    struct sbuf b = { 0 };
    char ts[32];

    rfc3339_utc(wall_ms(), ts);
    sbuf_printf(&b, "{\"ts\":\"%s\",\"event\":\"%s\"", ts, kind_name(ev->kind));
    if (ev->item != NULL) {
        const struct item *it = ev->item;
        char *url = urlpath_redact(it->urls[0]);

        sbuf_printf(&b, ",\"id\":%llu,\"url\":", (unsigned long long)it->id);
        json_url(&b, url);
        free(url);
        sbuf_addstr(&b, ",\"path\":");
        sbuf_json_str(&b, it->path);
        sbuf_printf(&b, ",\"bytes\":%lld,\"duration_ms\":%lld,\"retry_count\":%d,\"http_status\":%d",
                    (long long)ev->bytes, (long long)ev->duration_ms, ev->retry_count,
                    ev->http_status);
        if (ev->kind == EV_RETRY)
            sbuf_printf(&b, ",\"wait_ms\":%lld", (long long)ev->value);
    }
    if (ev->kind == EV_RATE)
        sbuf_printf(&b, ",\"rate\":%lld", (long long)ev->value);
    if (ev->kind == EV_CONCURRENCY)
        sbuf_printf(&b, ",\"concurrency\":%lld", (long long)ev->value);
    if (ev->error != NULL) {
        sbuf_addstr(&b, ev->item == NULL ? ",\"message\":" : ",\"error\":");
        sbuf_json_str(&b, ev->error);
    }
    sbuf_addstr(&b, "}\n");
    {
        int rc = write_all(l->fd, b.s, b.len);

        if (rc != 0 && l->err == 0)
            l->err = rc;
    }
    sbuf_free(&b);
}

void evlog_end(struct evlog *l, int status, const char *how, const struct engine_stats *st)
{
    struct sbuf b = { 0 };
    char ts[32];
    int rc;

    if (l == NULL)
        return;
    rfc3339_utc(wall_ms(), ts);
    sbuf_printf(&b, "{\"ts\":\"%s\",\"event\":\"end\",\"status\":%d,\"how\":", ts, status);
    sbuf_json_str(&b, how);
    sbuf_printf(&b, ",\"total\":%zu,\"done\":%zu,\"unchanged\":%zu,\"failed\":%zu,"
                "\"left\":%zu,\"bytes\":%lld,\"elapsed_ms\":%lld}\n", st->total, st->done,
                st->unchanged, st->failed, st->total - st->done - st->unchanged - st->failed,
                (long long)st->bytes, (long long)st->elapsed_ms);
    rc = write_all(l->fd, b.s, b.len);
    if (rc != 0 && l->err == 0)
        l->err = rc;
    sbuf_free(&b);
}

int evlog_error(const struct evlog *l)
{
    return l != NULL ? l->err : 0;
}

void evlog_close(struct evlog *l)
{
    if (l == NULL)
        return;
    close(l->fd);
    free(l);
}
