/* libFuzzer target: the attach mode's records (src/ctl_wire.c) as a client reads them from a
 * socket anyone of our user could serve: the first byte picks the record (stats, item, event,
 * row, and attach 2's wait run, wait host, wait and host rows), and the attach version items
 * and rows are read in (1 to 3: 3 carries x_conns); the rest is one line. A line that parses is
 * encoded again and must parse to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ctl_wire.h"
#include "item.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void item_fields_free(struct item *it)
{
    util_strv_free(it->urls, it->nurls);
    free(it->path);
    free(it->host);
    free(it->error);
    free(it->etag);
    free(it->last_modified);
}

static void same_str(const char *a, const char *b)
{
    if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
        abort();
}

static void item_case(char *line, int version)
{
    struct item it, again;
    struct engine_xfer_view x, x2;
    bool has_x, has_x2;
    struct sbuf b = { 0 };

    if (ctl_wire_item_parse(line, version, 1000, &it, &x, &has_x) < 0)
        return;
    ctl_wire_item(&b, &it, 1000, has_x ? &x : NULL, version);
    sbuf_add(&b, "", 0);
    if (ctl_wire_item_parse(b.s, version, 1000, &again, &x2, &has_x2) < 0)
        abort();
    if (again.id != it.id || again.state != it.state || again.received != it.received ||
        has_x != has_x2 || again.nurls != it.nurls || (has_x && x.conns != x2.conns))
        abort();
    same_str(it.path, again.path);
    same_str(it.error, again.error);
    for (size_t i = 0; i < it.nurls; i++)
        same_str(it.urls[i], again.urls[i]);
    item_fields_free(&it);
    item_fields_free(&again);
    sbuf_free(&b);
}

/* Attach 2's records: what parses encodes again to the same facts (times with one clock). */
static void wait_case(int kind, char *line)
{
    struct wait_facts f, g;
    struct engine_host_view h, h2;
    struct sbuf b = { 0 };
    int host, host2;
    bool gone, gone2;

    memset(&f, 0, sizeof f);
    memset(&g, 0, sizeof g);
    switch (kind) {
    case 4:
        if (ctl_wire_wait_run_parse(line, &f) < 0)
            return;
        ctl_wire_wait_run(&b, &f);
        sbuf_add(&b, "", 0);
        if (ctl_wire_wait_run_parse(b.s, &g) < 0 || memcmp(&f, &g, sizeof f) != 0)
            abort();
        break;
    case 5:
        if (ctl_wire_wait_host_parse(line, 5000, CTL_WIRE_HOLD_VERSION, &f) < 0)
            return;
        ctl_wire_wait_host(&b, &f, 5000, CTL_WIRE_HOLD_VERSION);
        sbuf_add(&b, "", 0);
        if (ctl_wire_wait_host_parse(b.s, 5000, CTL_WIRE_HOLD_VERSION, &g) < 0 ||
            memcmp(&f, &g, sizeof f) != 0)
            abort();
        break;
    case 6:
        if (ctl_wire_wait_parse(line, 1LL << 40, &host, &gone, &f) < 0)
            return;
        if (gone)
            break;
        f.state = f.last_rx_ms > 0 || f.throttled || f.diskwait ? ITEM_ACTIVE : ITEM_QUEUED;
        ctl_wire_wait(&b, host, &f, 1LL << 40);
        sbuf_add(&b, "", 0);
        g.state = f.state;
        if (ctl_wire_wait_parse(b.s, 1LL << 40, &host2, &gone2, &g) < 0 || host2 != host ||
            gone2 || g.throttled != f.throttled || g.diskwait != f.diskwait ||
            g.last_rx_ms != f.last_rx_ms)
            abort();
        break;
    default:
        if (ctl_wire_host_parse(line, 5000, CTL_WIRE_HOLD_VERSION, &h) < 0)
            return;
        ctl_wire_host(&b, &h, 5000, CTL_WIRE_HOLD_VERSION);
        sbuf_add(&b, "", 0);
        if (ctl_wire_host_parse(b.s, 5000, CTL_WIRE_HOLD_VERSION, &h2) < 0 ||
            memcmp(&h, &h2, sizeof h) != 0)
            abort();
        break;
    }
    sbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line;
    struct engine_stats st;
    struct engine_event ev;
    struct item it;
    char *text;
    bool idle;

    if (size < 1 || size > 65536)
        return 0;
    line = malloc(size);
    memcpy(line, data + 1, size - 1);
    line[size - 1] = '\0';
    switch (data[0] % 8) {
    case 0:
        if (ctl_wire_stats_parse(line, &st, &idle, &text) == 0 && st.session_error != text)
            abort();
        free(text);
        break;
    case 1:
        item_case(line, 1 + data[0] / 8 % 3);
        break;
    case 4:
    case 5:
    case 6:
    case 7:
        wait_case(data[0] % 8, line);
        break;
    case 3: {
        struct engine_xfer_view x;
        bool has_x;

        if (ctl_wire_row_parse(line, 1 + data[0] / 8 % 3, 0, &it, &x, &has_x) == 0)
            free(it.error);
        break;
    }
    default:
        if (ctl_wire_event_parse(line, &ev, &it, &text) == 0 && ev.error != text)
            abort();
        free(text);
        break;
    }
    free(line);
    return 0;
}
