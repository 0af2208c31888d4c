/* libFuzzer target: the control protocol as the socket sees it: one request line to
 * ctl_cmd_exec (word splitting, quoting, the command table, argument parsing), against an engine
 * stand-in. The answer is "ok\n"... or exactly one "error: ...\n" line without control bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ctl_cmd.h"
#include "engine.h"
#include "opts.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the engine stand-in: accepts, refuses id 99 with a hostile message ---- */

static int64_t rate;
static int conc = 8;

void engine_stats(struct engine *e, struct engine_stats *st)
{
    memset(st, 0, sizeof *st);
    st->concurrency = conc;
    st->cap = rate;
    st->eta_ms = -1;
}

void engine_set_rate(struct engine *e, int64_t r, int64_t burst)
{
    rate = r;
}

int64_t engine_rate(const struct engine *e)
{
    return rate;
}

const struct sched_point *engine_schedule(const struct engine *e, size_t *n)
{
    *n = 0;
    return NULL;
}

void engine_set_schedule(struct engine *e, const struct sched_point *p, size_t n)
{
}

void engine_set_concurrency(struct engine *e, int n)
{
    conc = n;
}

int engine_concurrency(const struct engine *e)
{
    return conc;
}

static int fake_item(uint64_t id, char *err)
{
    return id == 99 ? errf(err, "no item\n\x1b[2J %llu", (unsigned long long)id) : 0;
}

int engine_pause(struct engine *e, uint64_t id, char *err)
{
    return fake_item(id, err);
}

int engine_resume(struct engine *e, uint64_t id, char *err)
{
    return fake_item(id, err);
}

void engine_pause_all(struct engine *e)
{
}

void engine_resume_all(struct engine *e)
{
}

int engine_requeue(struct engine *e, uint64_t id, char *err)
{
    return fake_item(id, err);
}

long engine_requeue_failed(struct engine *e, char *err)
{
    return 3;
}

long engine_requeue_failed_where(struct engine *e, int status, const char *host, char *err)
{
    return 2;
}

int engine_remove(struct engine *e, uint64_t id, char *err)
{
    return fake_item(id, err);
}

int engine_add_url(struct engine *e, const char *url, const char *out, uint64_t *id, char *err)
{
    (void)strlen(url);
    if (out != NULL)
        (void)strlen(out);
    *id = 42;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct settings s;
    static int ready;
    struct sbuf out = { 0 };
    char *line;
    int rc;

    if (!ready) {
        settings_init(&s);
        ready = 1;
    }
    if (size > CTL_LINE_MAX)
        return 0;
    line = malloc(size ? size : 1);
    memcpy(line, data, size);
    rc = ctl_cmd_exec(NULL, &s, line, size, &out);
    if (out.len == 0)
        abort();
    if (rc < 0) {
        /* One line, printable. */
        if (strncmp(out.s, "error: ", 7) != 0 || strchr(out.s, '\n') != out.s + out.len - 1)
            abort();
        for (size_t i = 0; i < out.len - 1; i++)
            if ((unsigned char)out.s[i] < 0x20 || out.s[i] == 0x7f)
                abort();
    } else if (strncmp(out.s, "ok\n", 3) != 0) {
        abort();
    }
    sbuf_free(&out);
    free(line);
    return 0;
}
