/* The shared cap's policy (docs/scale.md#the-shared-cap): what --cap-group names, how much a
 * worker leases at once, and what it keeps to on its own when Redis is out of reach. */
#include "group.h"
#include "rps.h"
#include "units.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool group_built_in(void)
{
#ifdef SLUICE_HIREDIS
    return true;
#else
    return false;
#endif
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

int group_parse_url(const char *s, struct group_url *u, char *err)
{
    const char *p, *host, *hend, *slash;
    char q[64], msg[ERRLEN];
    size_t hl;

    memset(u, 0, sizeof *u);
    u->port = 6379;
    if (strncmp(s, "redis://", 8) != 0)
        return errf(err, "'%s' is not redis://HOST[:PORT]/NAME", units_quote(s, q, sizeof q));
    p = s + 8;
    slash = strchr(p, '/');
    if (slash == NULL)
        return errf(err, "'%s': the group's NAME is missing (redis://HOST[:PORT]/NAME)",
                    units_quote(s, q, sizeof q));
    if (memchr(p, '@', (size_t)(slash - p)) != NULL)
        return errf(err, "'%s': a user or password in the URL is not supported",
                    units_quote(s, q, sizeof q));
    if (*p == '[') {
        host = p + 1;
        hend = memchr(host, ']', (size_t)(slash - host));
        if (hend == NULL)
            return errf(err, "'%s': no ']' after the IPv6 address", units_quote(s, q, sizeof q));
        p = hend + 1;
    } else {
        host = p;
        hend = memchr(p, ':', (size_t)(slash - p));
        if (hend == NULL)
            hend = slash;
        p = hend;
    }
    hl = (size_t)(hend - host);
    if (hl == 0 || hl >= sizeof u->host)
        return errf(err, "'%s': bad host", units_quote(s, q, sizeof q));
    for (size_t i = 0; i < hl; i++)
        if (host[i] == '@' || host[i] == '/' || (unsigned char)host[i] <= ' ')
            return errf(err, "'%s': bad host", units_quote(s, q, sizeof q));
    memcpy(u->host, host, hl);
    if (*p == ':') {
        char port[8];
        long v;
        size_t pl = (size_t)(slash - p - 1);

        if (pl == 0 || pl >= sizeof port)
            return errf(err, "'%s': bad port", units_quote(s, q, sizeof q));
        memcpy(port, p + 1, pl);
        port[pl] = '\0';
        if (units_parse_int(port, 1, 65535, &v, msg) < 0)
            return errf(err, "'%s': port: %s", units_quote(s, q, sizeof q), msg);
        u->port = (int)v;
    } else if (p != slash) {
        return errf(err, "'%s': bad host", units_quote(s, q, sizeof q));
    }
    p = slash + 1;
    if (*p == '\0' || strlen(p) > GROUP_NAME_MAX)
        return errf(err, "'%s': NAME must be 1 to %d characters", units_quote(s, q, sizeof q),
                    GROUP_NAME_MAX);
    for (const char *c = p; *c != '\0'; c++)
        if (!name_char(*c))
            return errf(err, "'%s': NAME takes letters, digits, '.', '_' and '-'",
                        units_quote(s, q, sizeof q));
    snprintf(u->name, sizeof u->name, "%s", p);
    return 0;
}

int64_t group_lease_bytes(int64_t rate, int workers)
{
    int64_t lease, most;

    if (rate <= 0)
        return 0;
    if (workers < 1)
        workers = 1;
    /* rate < 2^43 (8 TiB/s) in practice; the division first keeps any rate from overflowing. */
    lease = rate / 1000 * GROUP_LEASE_MS / workers;
    most = rate / 1000 * GROUP_DEPTH_MS;
    if (lease > most)
        lease = most;
    return lease < GROUP_LEASE_MIN ? GROUP_LEASE_MIN : lease;
}

int64_t group_fallback_rate(int64_t rate, int workers)
{
    int64_t r;

    if (rate <= 0)
        return 0;
    r = rate / (workers < 1 ? 1 : workers);
    return r < 1 ? 1 : r;
}

int group_rps_lease(int rps, int workers)
{
    int64_t n, most;

    if (rps <= 0)
        return 0;
    if (workers < 1)
        workers = 1;
    n = ((int64_t)rps * GROUP_LEASE_MS + 1000LL * workers - 1) / (1000LL * workers);
    most = rps_burst(rps);
    if (n > most)
        n = most;
    return n < 1 ? 1 : (int)n;
}

int64_t group_rps_pause_ms(int rps, int workers, int64_t short_by)
{
    int64_t ms;

    if (rps <= 0)
        return GROUP_LEASE_MS;
    if (workers < 1)
        workers = 1;
    if (short_by < 1)
        short_by = 1;
    if (short_by > RPS_MAX)
        short_by = RPS_MAX;
    ms = (short_by * 1000 * workers + rps - 1) / rps;
    return ms < 5 ? 5 : ms > GROUP_LEASE_MS ? GROUP_LEASE_MS : ms;
}

int64_t group_lease_pause_ms(int64_t rate, int workers, int64_t want, int64_t got)
{
    int64_t share, ms;

    if (rate <= 0 || want <= 0)
        return GROUP_LEASE_MS;
    if (got >= want)
        return GROUP_PACE_MIN_MS;
    share = rate / (workers < 1 ? 1 : workers);
    if (share <= 0)
        return GROUP_LEASE_MS;
    if (got < 0)
        got = 0;
    /* want - got <= a lease (<= GROUP_DEPTH_MS of the rate): the product stays in int64_t. */
    ms = (want - got) * 1000 / share;
    return ms < 5 ? 5 : ms > GROUP_LEASE_MS ? GROUP_LEASE_MS : ms;
}

int group_count(int counted, int guess, int64_t started_ms, int64_t now_ms, bool *settled)
{
    if (counted < 1)
        counted = 1;
    if (counted >= guess || now_ms - started_ms >= GROUP_WORKER_TTL_MS)
        *settled = true;
    return *settled ? counted : guess;
}
