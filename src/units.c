/* Rates, sizes and durations as people write them (README.md#using-it), and back again for
 * display. */
#include "units.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <stdlib.h>

#include "util.h"

/* 128 bits so that "value × unit" can be checked against INT64_MAX without losing the decimals. */
__extension__ typedef unsigned __int128 u128;

#define MAX_DECIMALS 9

/* A decimal number without sign: "123", "1.5". Only the first MAX_DECIMALS decimals count. */
struct num {
    uint64_t ip;         /* integer part, <= INT64_MAX */
    uint64_t frac;       /* the kept decimals as an integer */
    int nfrac;           /* how many were kept */
    bool nonzero;        /* some digit, kept or not, is not 0 */
};

enum { NUM_OK = 0, NUM_BAD = -1, NUM_BIG = -2 };

static const uint64_t pow10_tab[MAX_DECIMALS + 1] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000
};

static bool is_digit(char c)
{
    /* Not isdigit(): the locale must not change what a number is. */
    return c >= '0' && c <= '9';
}

static int parse_num(const char **pp, struct num *n)
{
    const char *p = *pp;

    memset(n, 0, sizeof *n);
    if (!is_digit(*p))
        return NUM_BAD;
    for (; is_digit(*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');

        if (n->ip > ((uint64_t)INT64_MAX - d) / 10)
            return NUM_BIG;
        n->ip = n->ip * 10 + d;
        if (d != 0)
            n->nonzero = true;
    }
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return NUM_BAD;
        for (; is_digit(*p); p++) {
            if (n->nfrac < MAX_DECIMALS) {
                n->frac = n->frac * 10 + (uint64_t)(*p - '0');
                n->nfrac++;
            }
            if (*p != '0')
                n->nonzero = true;
        }
    }
    *pp = p;
    return NUM_OK;
}

/* n × mult / div, rounded to the nearest integer; at least 1 when n is not zero, so that a tiny
 * value never turns into 0, which means "off" or "auto" for several settings. */
static int scale(const struct num *n, uint64_t mult, uint64_t div, int64_t *out)
{
    u128 den = (u128)pow10_tab[n->nfrac] * div;
    u128 v = (u128)n->ip * pow10_tab[n->nfrac] + n->frac;
    u128 r;

    if (v != 0 && mult > ~(u128)0 / v)
        return NUM_BIG;
    v *= mult;
    r = (v + den / 2) / den;
    if (r > (u128)INT64_MAX)
        return NUM_BIG;
    if (r == 0 && n->nonzero)
        r = 1;
    *out = (int64_t)r;
    return NUM_OK;
}

const char *units_quote(const char *s, char *buf, size_t len)
{
    size_t max = len - 1, i = 0;
    bool cut = false;

    if (max > 40)
        max = 40;
    for (; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        if (i >= max) {
            cut = true;
            break;
        }
        buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    if (cut) {
        i = max > 3 ? max - 3 : 0;
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

/* Message for a failed parse; kind is "size", "rate" or "duration". */
static int bad_value(const char *s, int why, const char *kind, const char *examples, char *err)
{
    char q[48];

    if (*s == '\0')
        return errf(err, "empty %s", kind);
    units_quote(s, q, sizeof q);
    if (*s == '-')
        return errf(err, "'%s': negative values are not allowed", q);
    if (why == NUM_BIG)
        return errf(err, "'%s' is too large", q);
    return errf(err, "'%s' is not a %s (examples: %s)", q, kind, examples);
}

/* The unit after the number of a SIZE. Returns the multiplier and divisor, or -1. */
static int size_unit(const char *u, uint64_t *mult, uint64_t *div)
{
    int power = 0;
    bool bits;

    switch (*u) {
    case 'k': case 'K': power = 1; break;
    case 'm': case 'M': power = 2; break;
    case 'g': case 'G': power = 3; break;
    case 't': case 'T': power = 4; break;
    }
    if (power > 0)
        u++;
    if (strcmp(u, "") == 0 || strcmp(u, "B") == 0)
        bits = false;
    else if (power > 0 && (strcmp(u, "iB") == 0 || strcmp(u, "IB") == 0))
        bits = false;
    else if (strcmp(u, "b") == 0 || strcasecmp(u, "bit") == 0 || strcasecmp(u, "bits") == 0)
        bits = true;
    else
        return -1;
    *mult = 1;
    for (int i = 0; i < power; i++)
        *mult *= bits ? 1000 : 1024;
    *div = bits ? 8 : 1;
    return 0;
}

static int parse_size(const char *s, int64_t *out)
{
    struct num n;
    uint64_t mult, div;
    const char *p = s;
    int rc = parse_num(&p, &n);

    if (rc != NUM_OK)
        return rc;
    if (size_unit(p, &mult, &div) < 0)
        return NUM_BAD;
    return scale(&n, mult, div, out);
}

#define SIZE_EXAMPLES "512K, 50M, 1.5G, 400Mbit"
#define RATE_EXAMPLES "50M, 400Mbit, off"
#define DURATION_EXAMPLES "500ms, 30s, 5m, 1h"

int units_parse_size(const char *s, int64_t *out, char *err)
{
    int rc = parse_size(s, out);

    if (rc != NUM_OK)
        return bad_value(s, rc, "size", SIZE_EXAMPLES, err);
    return 0;
}

int units_parse_rate(const char *s, int64_t *out, char *err)
{
    size_t len = strlen(s);
    char buf[64];
    int rc;

    if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0 || strcasecmp(s, "unlimited") == 0) {
        *out = 0;
        return 0;
    }
    /* "50M/s" and "400Mbit/s" read naturally; the number itself is the same. */
    if (len > 2 && len < sizeof buf && s[len - 2] == '/' && (s[len - 1] == 's' || s[len - 1] == 'S')) {
        memcpy(buf, s, len - 2);
        buf[len - 2] = '\0';
        rc = parse_size(buf, out);
    } else {
        rc = parse_size(s, out);
    }
    if (rc != NUM_OK)
        return bad_value(s, rc, "rate", RATE_EXAMPLES, err);
    return 0;
}

static int duration_unit(const char **pp, uint64_t *mult)
{
    static const struct { const char *name; uint64_t ms; } units[] = {
        /* "ms" before "m". */
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
    };
    const char *p = *pp;

    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        size_t l = strlen(units[i].name);

        if (strncasecmp(p, units[i].name, l) == 0 && !(p[l] >= 'a' && p[l] <= 'z')
            && !(p[l] >= 'A' && p[l] <= 'Z')) {
            *mult = units[i].ms;
            *pp = p + l;
            return 0;
        }
    }
    return -1;
}

static int parse_duration(const char *s, int64_t *out)
{
    const char *p = s;
    int64_t total = 0;
    bool first = true;

    /* One or more NUMBER UNIT parts ("1h30m"), or one bare NUMBER of seconds. */
    do {
        struct num n;
        uint64_t mult;
        int64_t part;
        int rc = parse_num(&p, &n);

        if (rc != NUM_OK)
            return rc;
        if (*p == '\0' && first) {
            mult = 1000;
        } else if (duration_unit(&p, &mult) < 0) {
            return NUM_BAD;
        }
        rc = scale(&n, mult, 1, &part);
        if (rc != NUM_OK)
            return rc;
        if (part > INT64_MAX - total)
            return NUM_BIG;
        total += part;
        first = false;
    } while (*p != '\0');
    *out = total;
    return NUM_OK;
}

int units_parse_duration(const char *s, int64_t *out_ms, char *err)
{
    int rc = parse_duration(s, out_ms);

    if (rc != NUM_OK)
        return bad_value(s, rc, "duration", DURATION_EXAMPLES, err);
    return 0;
}

int units_parse_duration_pair(const char *s, int64_t *min_ms, int64_t *max_ms, char *err)
{
    const char *comma = strchr(s, ',');
    char first[64], q[48];
    const char *second;
    int64_t a, b;
    size_t l;

    if (comma == NULL || strchr(comma + 1, ',') != NULL)
        return errf(err, "'%s' is not MIN,MAX (example: 1s,5m)", units_quote(s, q, sizeof q));
    l = (size_t)(comma - s);
    if (l >= sizeof first)
        return errf(err, "'%s' is not MIN,MAX (example: 1s,5m)", units_quote(s, q, sizeof q));
    memcpy(first, s, l);
    first[l] = '\0';
    second = comma + 1;
    while (*second == ' ')
        second++;
    if (units_parse_duration(first, &a, err) < 0 || units_parse_duration(second, &b, err) < 0)
        return -1;
    if (a > b)
        return errf(err, "'%s': MIN is above MAX", units_quote(s, q, sizeof q));
    *min_ms = a;
    *max_ms = b;
    return 0;
}

int units_parse_int(const char *s, long min, long max, long *out, char *err)
{
    const char *p = s;
    char q[48];
    char *end;
    long v;

    if (*p == '-')
        p++;
    if (!is_digit(*p)) {
        if (*s == '\0')
            return errf(err, "empty number");
        return errf(err, "'%s' is not a whole number", units_quote(s, q, sizeof q));
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (*end != '\0')
        return errf(err, "'%s' is not a whole number", units_quote(s, q, sizeof q));
    if (errno == ERANGE || v < min || v > max)
        return errf(err, "'%s' is out of range (%ld..%ld)", units_quote(s, q, sizeof q), min, max);
    *out = v;
    return 0;
}

const char *units_fmt_size(int64_t bytes, char *buf, size_t len)
{
    static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double v;
    size_t i = 0;

    if (bytes < 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (bytes < 1024) {
        snprintf(buf, len, "%" PRId64 " B", bytes);
        return buf;
    }
    v = (double)bytes / 1024;
    /* 1023.96 KiB would print as "1024.0 KiB": move up while the rounded value would. */
    while (v >= 1023.95 && i + 1 < ARRAY_LEN(names)) {
        v /= 1024;
        i++;
    }
    snprintf(buf, len, "%.1f %s", v, names[i]);
    return buf;
}

const char *units_fmt_rate(int64_t bytes_per_s, char *buf, size_t len)
{
    char tmp[32];

    if (bytes_per_s < 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s/s", units_fmt_size(bytes_per_s, tmp, sizeof tmp));
    return buf;
}

const char *units_fmt_cap(int64_t bytes_per_s, char *buf, size_t len)
{
    if (bytes_per_s == 0) {
        snprintf(buf, len, "off");
        return buf;
    }
    return units_fmt_rate(bytes_per_s, buf, len);
}

const char *units_fmt_duration(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms / 1000;

    if (ms < 0)
        snprintf(buf, len, "-");
    else if (s < 60)
        snprintf(buf, len, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(buf, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
    return buf;
}
