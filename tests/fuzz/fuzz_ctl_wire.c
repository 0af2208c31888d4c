/* libFuzzer target: the attach mode's records (src/ctl_wire.c) as a client reads them from a
 * socket anyone of our user could serve: the first byte picks the record (stats, item, event),
 * the rest is one line. A line that parses is encoded again and must parse to the same values. */
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

static void item_case(char *line)
{
    struct item it, again;
    struct engine_xfer_view x, x2;
    bool has_x, has_x2;
    struct sbuf b = { 0 };

    if (ctl_wire_item_parse(line, 1000, &it, &x, &has_x) < 0)
        return;
    ctl_wire_item(&b, &it, 1000, has_x ? &x : NULL);
    sbuf_add(&b, "", 0);
    if (ctl_wire_item_parse(b.s, 1000, &again, &x2, &has_x2) < 0)
        abort();
    if (again.id != it.id || again.state != it.state || again.received != it.received ||
        has_x != has_x2 || again.nurls != it.nurls)
        abort();
    same_str(it.path, again.path);
    same_str(it.error, again.error);
    for (size_t i = 0; i < it.nurls; i++)
        same_str(it.urls[i], again.urls[i]);
    item_fields_free(&it);
    item_fields_free(&again);
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
    switch (data[0] % 4) {
    case 0:
        if (ctl_wire_stats_parse(line, &st, &idle, &text) == 0 && st.session_error != text)
            abort();
        free(text);
        break;
    case 1:
        item_case(line);
        break;
    case 3: {
        struct engine_xfer_view x;
        bool has_x;

        if (ctl_wire_row_parse(line, 0, &it, &x, &has_x) == 0)
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
