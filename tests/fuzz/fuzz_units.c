/* libFuzzer target: rate, size, duration and integer parsing (units.c), then printing what was
 * parsed; a parsed value is never negative. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), err[ERRLEN], buf[64];
    int64_t v, a, b;
    long l;

    memcpy(s, data, size);
    s[size] = '\0';
    if (units_parse_size(s, &v, err) == 0) {
        if (v < 0)
            abort();
        units_fmt_size(v, buf, sizeof buf);
    }
    if (units_parse_rate(s, &v, err) == 0) {
        if (v < 0)
            abort();
        units_fmt_rate(v, buf, sizeof buf);
        units_fmt_cap(v, buf, sizeof buf);
    }
    if (units_parse_duration(s, &v, err) == 0) {
        if (v < 0)
            abort();
        units_fmt_duration(v, buf, sizeof buf);
    }
    if (units_parse_duration_pair(s, &a, &b, err) == 0 && (a < 0 || a > b))
        abort();
    if (units_parse_int(s, -5, 1000000, &l, err) == 0 && (l < -5 || l > 1000000))
        abort();
    units_quote(s, buf, sizeof buf);
    if (strlen(buf) >= sizeof buf)
        abort();
    /* The printers take any value, the negative "unknown" ones too. */
    if (size >= 8) {
        memcpy(&v, data, 8);
        units_fmt_size(v, buf, sizeof buf);
        units_fmt_rate(v, buf, sizeof buf);
        units_fmt_duration(v, buf, sizeof buf);
    }
    free(s);
    return 0;
}
