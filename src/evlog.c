/* JSON Lines event log. Lines are built in memory and written with one fwrite each; the stdio
 * buffer is flushed by the caller's timer, so a burst of events costs no syscall per line. */
#include "evlog.h"
#include "urlpath.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct evlog {
    FILE *fp;
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

struct evlog *evlog_open(const char *path, char *err)
{
    struct evlog *l;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    FILE *fp;

    if (fd < 0 || (fp = fdopen(fd, "a")) == NULL) {
        errf(err, "cannot open log %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    l = xcalloc(1, sizeof *l);
    l->fp = fp;
    return l;
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
        sbuf_json_str(&b, url);
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
    fwrite(b.s, 1, b.len, l->fp);
    sbuf_free(&b);
}

void evlog_flush(struct evlog *l)
{
    if (l != NULL)
        fflush(l->fp);
}

void evlog_close(struct evlog *l)
{
    if (l == NULL)
        return;
    fclose(l->fp);
    free(l);
}
