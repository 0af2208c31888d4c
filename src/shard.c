/* Sharding a list over N workers (docs/scale.md#sharding). The hash is the item's first URL as
 * written in the list, so every worker decides alike without talking to the others, and a URL
 * keeps its shard from one run to the next. */
#include "shard.h"
#include "units.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

uint64_t shard_hash(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        h ^= *p;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int shard_parse(const char *spec, const char *index, struct shard *out, char *err)
{
    const char *slash = strchr(spec, '/');
    char kbuf[32], msg[ERRLEN], q[48];
    long k, n;
    size_t kl;

    if (strcasecmp(spec, "off") == 0 || strcasecmp(spec, "none") == 0) {
        out->k = out->n = 0;
        return 0;
    }
    if (slash == NULL || (kl = (size_t)(slash - spec)) == 0 || kl >= sizeof kbuf)
        return errf(err, "'%s' is not K/N or index/N (example: 0/3)", units_quote(spec, q, sizeof q));
    if (units_parse_int(slash + 1, 1, SHARD_MAX, &n, msg) < 0)
        return errf(err, "'%s': N: %s", units_quote(spec, q, sizeof q), msg);
    memcpy(kbuf, spec, kl);
    kbuf[kl] = '\0';
    if (strcmp(kbuf, "index") == 0) {
        if (index == NULL)
            return errf(err, "'%s': JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job "
                        "sets it)", units_quote(spec, q, sizeof q));
        if (units_parse_int(index, 0, n - 1, &k, msg) < 0)
            return errf(err, "'%s': JOB_COMPLETION_INDEX: %s", units_quote(spec, q, sizeof q), msg);
    } else if (units_parse_int(kbuf, 0, n - 1, &k, msg) < 0) {
        return errf(err, "'%s': K: %s", units_quote(spec, q, sizeof q), msg);
    }
    out->k = (uint32_t)k;
    out->n = (uint32_t)n;
    return 0;
}

bool shard_mine(const struct shard *sh, const char *url)
{
    return sh->n == 0 || shard_hash(url) % sh->n == sh->k;
}

const char *shard_fmt(const struct shard *sh, char *buf, size_t len)
{
    if (sh->n == 0)
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%u/%u", (unsigned)sh->k, (unsigned)sh->n);
    return buf;
}
