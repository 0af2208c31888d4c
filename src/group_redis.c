/* The shared cap's Redis client (docs/scale.md#the-shared-cap). One thread per worker, blocking
 * hiredis calls with short timeouts, and a mutex around the few numbers the engine reads: the
 * loop never waits on Redis, and a slow or absent Redis only makes the thread say "down". */
#include "group_redis.h"
#include "rps.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#ifdef SLUICE_HIREDIS
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <hiredis.h>

#define CONNECT_TIMEOUT_MS 500
#define CALL_TIMEOUT_MS 500
#define RETRY_MS 1000            /* between two connection attempts while Redis is away */

/* KEYS[1] the bucket (hash: rate, tokens, ts), KEYS[2] the workers (sorted set, score = when
 * it last asked for bytes, ms: the workers drawing from the cap), KEYS[3] the holds, KEYS[4..]
 * the request buckets of the hosts asked for. ARGV: worker id, bytes wanted, this worker's -r
 * (the cap when the group has none), a new cap (-1 = none), the depth in ms of the cap, the
 * workers' time to live in ms, hosts asked for, holds published, 3 per host (tokens wanted,
 * rate, burst), 3 per hold (host, ms, status), the request buckets' time to live in ms, the
 * most holds to return.
 * Returns { bytes granted, the group's cap, workers counted, { tokens granted per host },
 * { 'STATUS HOST', ms left, ... } }. Redis's own clock, so the workers'
 * clocks do not matter. docs/scale.md#the-redis-protocol documents it. */
static const char SCRIPT[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local want = tonumber(ARGV[2])\n"
    "local setrate = tonumber(ARGV[4])\n"
    "local rate = tonumber(redis.call('HGET', KEYS[1], 'rate'))\n"
    "if setrate >= 0 then rate = setrate\n"
    "elseif rate == nil then rate = tonumber(ARGV[3]) end\n"
    "local depth = rate * tonumber(ARGV[5]) / 1000\n"
    "local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens')) or 0\n"
    "local ts = tonumber(redis.call('HGET', KEYS[1], 'ts')) or now\n"
    "if now > ts then tokens = tokens + rate * (now - ts) / 1000 end\n"
    "if tokens > depth then tokens = depth end\n"
    /* Nobody drew for the depth's time (a group starting, or idle): bank a quarter of the depth
     * only, else the first leases pour 200 ms of the cap on top of it (docs/scale.md#the-shared-cap). */
    "local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')\n"
    "if (newest[2] == nil or now - tonumber(newest[2]) > tonumber(ARGV[5])) and tokens > depth / 4 then\n"
    "  tokens = depth / 4\n"
    "end\n"
    "local grant = 0\n"
    "if rate > 0 and want > 0 and tokens >= 1 then\n"
    "  grant = math.min(want, math.floor(tokens))\n"
    "  tokens = tokens - grant\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'rate', rate, 'tokens', tostring(tokens), 'ts', math.max(now, ts))\n"
    "redis.call('PEXPIRE', KEYS[1], 86400000)\n"
    "if want > 0 then redis.call('ZADD', KEYS[2], now, ARGV[1]) end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[6]))\n"
    "redis.call('PEXPIRE', KEYS[2], 86400000)\n"
    /* Request tokens per host (--per-host-rps): KEYS[3 + i] is host i's bucket, ARGV[9 + 3(i-1)..]
     * its wanted tokens, its rate a second and its burst. */
    "local nh = tonumber(ARGV[7])\n"
    "local nhold = tonumber(ARGV[8])\n"
    "local grants = {}\n"
    "for i = 1, nh do\n"
    "  local key = KEYS[3 + i]\n"
    "  local a = 8 + (i - 1) * 3\n"
    "  local w, r, b = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])\n"
    "  local tk = tonumber(redis.call('HGET', key, 'tokens')) or b\n"
    "  local hts = tonumber(redis.call('HGET', key, 'ts')) or now\n"
    "  if now > hts then tk = tk + r * (now - hts) / 1000 end\n"
    "  if tk > b then tk = b end\n"
    "  local g = 0\n"
    "  if tk >= 1 then g = math.min(w, math.floor(tk)); tk = tk - g end\n"
    "  redis.call('HSET', key, 'tokens', tostring(tk), 'ts', math.max(now, hts))\n"
    "  redis.call('PEXPIRE', key, tonumber(ARGV[9 + nh * 3 + nhold * 3]))\n"
    "  grants[i] = g\n"
    "end\n"
    /* Holds (a 429/503 at a worker): KEYS[3] is a sorted set, member 'STATUS HOST', score the
     * time (Redis's, ms) the hold ends; a later end wins. */
    "local a0 = 8 + nh * 3\n"
    "for i = 1, nhold do\n"
    "  local a = a0 + (i - 1) * 3\n"
    "  local tend = now + tonumber(ARGV[a + 2])\n"
    "  local m = ARGV[a + 3] .. ' ' .. ARGV[a + 1]\n"
    "  local cur = tonumber(redis.call('ZSCORE', KEYS[3], m))\n"
    "  if cur == nil or cur < tend then redis.call('ZADD', KEYS[3], tend, m) end\n"
    "  if redis.call('PTTL', KEYS[3]) < tend - now then redis.call('PEXPIRE', KEYS[3], tend - now) end\n"
    "end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)\n"
    "local hl = redis.call('ZREVRANGEBYSCORE', KEYS[3], '+inf', '(' .. now, 'WITHSCORES', 'LIMIT', 0, "
    "tonumber(ARGV[10 + nh * 3 + nhold * 3]))\n"
    "local holds = {}\n"
    "for i = 1, #hl, 2 do\n"
    "  holds[#holds + 1] = hl[i]\n"
    "  holds[#holds + 1] = math.floor(tonumber(hl[i + 1]) - now)\n"
    "end\n"
    "return { grant, rate, redis.call('ZCARD', KEYS[2]), grants, holds }\n";

/* Request tokens wanted for a host; a hold to publish. */
struct hwant {
    char host[GROUP_HOST_MAX + 1];
    int rps, n;
};

struct hpub {
    char host[GROUP_HOST_MAX + 1];
    int64_t ms;
    int status;
};

/* What one call carries besides the bytes (copied out of the client under mu). */
struct call_extra {
    struct hwant hw[GROUP_HOSTS_MAX];
    size_t nhw;
    struct hpub ho[GROUP_HOLDS_MAX];
    size_t nho;
};

struct group_client {
    struct group_url url;
    char id[128];
    char key_bucket[GROUP_NAME_MAX + 32], key_workers[GROUP_NAME_MAX + 32];
    char key_holds[GROUP_NAME_MAX + 32];
    char sha[64];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    redisContext *c;             /* the thread's only */
    /* under mu */
    bool stop;
    int64_t want, granted, set_rate, init_rate, rate, calls, failures;
    int workers;
    int guess;                   /* the count before Redis has counted them all (group_count) */
    int64_t started;             /* mono_ms() at the start */
    bool settled;
    bool known, up, waiting, cooling;
    char error[ERRLEN];
    /* --per-host-rps: request tokens wanted, granted, holds to publish and holds learned */
    struct hwant hw[GROUP_HOSTS_MAX];
    size_t nhw;
    struct group_grant gr[GROUP_HOSTS_MAX];
    size_t ngr;
    struct hpub ho[GROUP_HOLDS_MAX];
    size_t nho;
    struct group_hold hi[GROUP_HOLDS_MAX];
    size_t nhi;
    bool hi_new;                 /* hi is from a call the engine has not taken yet */
    int64_t rps_pause;           /* after a short request grant: wait this long (ms) */
    struct call_extra x;         /* the thread's only: what the call in flight carries */
};


static struct timeval tv_ms(int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

    return tv;
}

/* Waits on the condition up to ms, or until woken. Under mu. */
static void wait_ms(struct group_client *g, int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    g->waiting = true;
    pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    g->waiting = false;
}

static void drop(struct group_client *g, const char *why)
{
    if (g->c != NULL) {
        redisFree(g->c);
        g->c = NULL;
    }
    pthread_mutex_lock(&g->mu);
    g->up = false;
    g->failures++;
    snprintf(g->error, sizeof g->error, "%s", why);
    pthread_mutex_unlock(&g->mu);
}

static int connect_redis(struct group_client *g)
{
    redisReply *r;
    char why[ERRLEN];

    g->c = redisConnectWithTimeout(g->url.host, g->url.port, tv_ms(CONNECT_TIMEOUT_MS));
    if (g->c == NULL || g->c->err) {
        snprintf(why, sizeof why, "cannot connect to %.200s:%d: %.200s", g->url.host, g->url.port,
                 g->c != NULL ? g->c->errstr : "out of memory");
        drop(g, why);
        return -1;
    }
    redisSetTimeout(g->c, tv_ms(CALL_TIMEOUT_MS));
    r = redisCommand(g->c, "SCRIPT LOAD %s", SCRIPT);
    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len >= (int)sizeof g->sha) {
        snprintf(why, sizeof why, "SCRIPT LOAD failed: %.200s",
                 r == NULL ? g->c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
        if (r != NULL)
            freeReplyObject(r);
        drop(g, why);
        return -1;
    }
    memcpy(g->sha, r->str, (size_t)r->len);
    g->sha[r->len] = '\0';
    freeReplyObject(r);
    return 0;
}

/* The request tokens granted and the holds learned, out of a reply's 4th and 5th elements. */
static void take_extra(struct group_client *g, const struct call_extra *x, const redisReply *gr,
                       const redisReply *hl)
{
    int64_t now = mono_ms(), pause = 0;

    for (size_t i = 0; i < x->nhw && i < gr->elements; i++) {
        int64_t n = gr->element[i]->type == REDIS_REPLY_INTEGER ? gr->element[i]->integer : 0;
        size_t k;

        if (n < x->hw[i].n) {
            /* Short: the others took the host's tokens. Ask again once our share earned them. */
            int64_t p = group_rps_pause_ms(x->hw[i].rps, g->workers, x->hw[i].n - n);

            if (pause == 0 || p < pause)
                pause = p;
        }
        if (n <= 0)
            continue;
        for (k = 0; k < g->ngr && strcmp(g->gr[k].host, x->hw[i].host) != 0; k++)
            ;
        if (k == g->ngr) {
            if (g->ngr == GROUP_HOSTS_MAX)
                continue;    /* the engine has not taken them: dropped, which only asks less */
            snprintf(g->gr[k].host, sizeof g->gr[k].host, "%s", x->hw[i].host);
            g->gr[k].n = 0;
            g->ngr++;
        }
        g->gr[k].n += n;
    }
    g->rps_pause = pause;
    g->nhi = 0;
    for (size_t i = 0; i + 1 < hl->elements && g->nhi < GROUP_HOLDS_MAX; i += 2) {
        const redisReply *m = hl->element[i], *ms = hl->element[i + 1];
        struct group_hold *h = &g->hi[g->nhi];
        const char *sp;
        char *end;
        long st;

        if (m->type != REDIS_REPLY_STRING || ms->type != REDIS_REPLY_INTEGER || ms->integer <= 0)
            continue;
        st = strtol(m->str, &end, 10);
        sp = end;
        if (*sp != ' ' || st < 100 || st > 999 || strlen(sp + 1) == 0 ||
            strlen(sp + 1) > GROUP_HOST_MAX)
            continue;
        snprintf(h->host, sizeof h->host, "%s", sp + 1);
        h->status = (int)st;
        h->until_ms = now + ms->integer;
        g->nhi++;
    }
    g->hi_new = true;
}

#define ARGS_MAX (3 + 3 + GROUP_HOSTS_MAX + 10 + 3 * GROUP_HOSTS_MAX + 3 * GROUP_HOLDS_MAX)

/* One lease (want may be 0: a heartbeat), with the request tokens and holds of x. 0, or -1 when
 * Redis failed (then dropped). */
static int call(struct group_client *g, int64_t want, int64_t init_rate, int64_t set_rate,
                const struct call_extra *x)
{
    char num[10 + 3 * GROUP_HOSTS_MAX + 2 * GROUP_HOLDS_MAX][24];
    char keys[GROUP_HOSTS_MAX][GROUP_NAME_MAX + GROUP_HOST_MAX + 32];
    char nkeys[8];
    const char *argv[ARGS_MAX];
    int argc = 0, nn = 0;
    redisReply *r;
    char why[ERRLEN];
    int64_t grant, rate, n;

#define NUM(v) (snprintf(num[nn], sizeof num[nn], "%lld", (long long)(v)), num[nn++])
    snprintf(nkeys, sizeof nkeys, "%zu", 3 + x->nhw);
    argv[argc++] = "EVALSHA";
    argv[argc++] = g->sha;
    argv[argc++] = nkeys;
    argv[argc++] = g->key_bucket;
    argv[argc++] = g->key_workers;
    argv[argc++] = g->key_holds;
    for (size_t i = 0; i < x->nhw; i++) {
        snprintf(keys[i], sizeof keys[i], "sluice:{%s}:rps:%s", g->url.name, x->hw[i].host);
        argv[argc++] = keys[i];
    }
    argv[argc++] = g->id;
    argv[argc++] = NUM(want);
    argv[argc++] = NUM(init_rate);
    argv[argc++] = NUM(set_rate);
    argv[argc++] = NUM(GROUP_DEPTH_MS);
    argv[argc++] = NUM(GROUP_WORKER_TTL_MS);
    argv[argc++] = NUM(x->nhw);
    argv[argc++] = NUM(x->nho);
    for (size_t i = 0; i < x->nhw; i++) {
        argv[argc++] = NUM(x->hw[i].n);
        argv[argc++] = NUM(x->hw[i].rps);
        argv[argc++] = NUM(rps_burst(x->hw[i].rps));
    }
    for (size_t i = 0; i < x->nho; i++) {
        argv[argc++] = x->ho[i].host;
        argv[argc++] = NUM(x->ho[i].ms);
        argv[argc++] = NUM(x->ho[i].status);
    }
    argv[argc++] = NUM(GROUP_RPS_KEY_TTL_MS);
    argv[argc++] = NUM(GROUP_HOLDS_MAX);
#undef NUM
    r = redisCommandArgv(g->c, argc, argv, NULL);
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        /* Redis restarted (or flushed its scripts) under a live connection: load it again. */
        freeReplyObject(r);
        redisFree(g->c);
        g->c = NULL;
        if (connect_redis(g) < 0)
            return -1;
        argv[1] = g->sha;
        r = redisCommandArgv(g->c, argc, argv, NULL);
    }
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER ||
        r->element[2]->type != REDIS_REPLY_INTEGER || r->element[3]->type != REDIS_REPLY_ARRAY ||
        r->element[4]->type != REDIS_REPLY_ARRAY) {
        snprintf(why, sizeof why, "the lease script failed: %.200s",
                 r == NULL ? g->c->errstr : r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
        if (r != NULL)
            freeReplyObject(r);
        drop(g, why);
        return -1;
    }
    grant = r->element[0]->integer;
    rate = r->element[1]->integer;
    n = r->element[2]->integer;
    pthread_mutex_lock(&g->mu);
    take_extra(g, x, r->element[3], r->element[4]);
    g->granted += grant > 0 ? grant : 0;
    g->rate = rate < 0 ? 0 : rate;
    /* Should Redis lose its data (a restart without persistence), the group's cap comes back
     * as it was last, not as some worker's -r at its start. */
    g->init_rate = g->rate;
    /* Nobody drawing (all idle, or none asked yet): the last count stands, a safe guess. */
    if (n >= 1)
        g->workers = group_count(n > 1000000 ? 1000000 : (int)n, g->guess, g->started, mono_ms(),
                                 &g->settled);
    g->known = g->up = true;
    g->calls++;
    g->error[0] = '\0';
    pthread_mutex_unlock(&g->mu);
    freeReplyObject(r);
    return 0;
}

static void *thread_main(void *arg)
{
    struct group_client *g = arg;
    int64_t last = 0;
    struct call_extra *x = &g->x;

    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        int64_t now = mono_ms(), want, set_rate, init_rate, got;
        bool beat = now - last >= GROUP_HEARTBEAT_MS;
        int rc;

        /* A request of the engine is taken once; it asks again when it needs more. */
        want = g->want;
        if (want == 0 && !beat && g->set_rate < 0 && g->nhw == 0 && g->nho == 0) {
            wait_ms(g, GROUP_HEARTBEAT_MS - (now - last));
            continue;
        }
        g->want = 0;
        set_rate = g->set_rate;
        g->set_rate = -1;
        init_rate = g->init_rate;
        got = g->granted;
        memcpy(x->hw, g->hw, g->nhw * sizeof *g->hw);
        x->nhw = g->nhw;
        g->nhw = 0;
        memcpy(x->ho, g->ho, g->nho * sizeof *g->ho);
        x->nho = g->nho;
        g->nho = 0;
        pthread_mutex_unlock(&g->mu);

        rc = g->c != NULL || connect_redis(g) == 0 ? call(g, want, init_rate, set_rate, x) : -1;

        pthread_mutex_lock(&g->mu);
        last = mono_ms();
        if (g->stop)
            break;          /* asked while the call was out: its wake-up is gone, do not wait */
        if (rc < 0) {
            if (set_rate >= 0 && g->set_rate < 0)
                g->set_rate = set_rate;       /* not lost: sent once Redis is back */
            /* Holds are not lost either (request wants are: the engine counts on its own now). */
            for (size_t i = 0; i < x->nho && g->nho < GROUP_HOLDS_MAX; i++)
                g->ho[g->nho++] = x->ho[i];
            g->cooling = true;
            wait_ms(g, RETRY_MS);
            g->cooling = false;
            continue;
        }
        got = g->granted - got;
        if (want > 0 && g->rate > 0) {
            /* Paced by what this worker uses (group_lease_pause_ms). */
            int64_t ms = group_lease_pause_ms(g->rate, g->workers, want, got);

            g->cooling = true;
            wait_ms(g, ms);
            g->cooling = false;
        } else if (g->rps_pause > 0) {
            /* Redis had fewer of a host's request tokens than asked: the others took them.
             * Asking again at once would be a busy loop of empty grants. */
            g->cooling = true;
            wait_ms(g, g->rps_pause);
            g->cooling = false;
        }
    }
    pthread_mutex_unlock(&g->mu);
    if (g->c != NULL) {
        /* Leave at once rather than after GROUP_WORKER_TTL_MS: the others may count without us. */
        redisReply *r = redisCommand(g->c, "ZREM %s %s", g->key_workers, g->id);

        if (r != NULL)
            freeReplyObject(r);
        redisFree(g->c);
        g->c = NULL;
    }
    return NULL;
}

struct group_client *group_redis_start(const struct group_url *u, int64_t init_rate, int workers,
                                       char *err)
{
    struct group_client *g = xcalloc(1, sizeof *g);
    char host[64] = "";
    pthread_condattr_t ca;

    g->url = *u;
    /* Hash tags ({NAME}) keep both keys on one node of a Redis Cluster. */
    snprintf(g->key_bucket, sizeof g->key_bucket, "sluice:{%s}:bucket", u->name);
    snprintf(g->key_workers, sizeof g->key_workers, "sluice:{%s}:workers", u->name);
    snprintf(g->key_holds, sizeof g->key_holds, "sluice:{%s}:holds", u->name);
    gethostname(host, sizeof host - 1);
    snprintf(g->id, sizeof g->id, "%s:%ld:%llx", host, (long)getpid(),
             (unsigned long long)(mono_ms() ^ ((int64_t)getpid() << 20)));
    g->init_rate = init_rate;
    g->set_rate = -1;
    g->workers = workers < 1 ? 1 : workers;
    g->guess = g->workers;
    g->started = mono_ms();
    snprintf(g->error, sizeof g->error, "not connected yet");
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (util_thread_start(&g->thread, thread_main, g) != 0) {
        pthread_cond_destroy(&g->cv);
        pthread_mutex_destroy(&g->mu);
        free(g);
        errf(err, "cannot start the cap group's thread");
        return NULL;
    }
    return g;
}

void group_redis_free(struct group_client *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

void group_redis_want(struct group_client *g, int64_t bytes)
{
    pthread_mutex_lock(&g->mu);
    if (bytes <= 0) {
        g->want = 0;
    } else if (g->want == 0 && g->granted == 0) {
        /* A new request, with the last lease taken: wake the thread unless it is waiting on
         * purpose (the shared bucket was short, or Redis is away). */
        g->want = bytes;
        if (g->waiting && !g->cooling)
            pthread_cond_signal(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
}

int64_t group_redis_take(struct group_client *g)
{
    int64_t n;

    pthread_mutex_lock(&g->mu);
    n = g->granted;
    g->granted = 0;
    pthread_mutex_unlock(&g->mu);
    return n;
}

void group_redis_set_rate(struct group_client *g, int64_t rate)
{
    pthread_mutex_lock(&g->mu);
    g->set_rate = rate < 0 ? 0 : rate;
    g->rate = g->set_rate;       /* ours at once; the others with their next call */
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

void group_redis_view(struct group_client *g, struct group_view *v)
{
    pthread_mutex_lock(&g->mu);
    v->known = g->known;
    v->up = g->up;
    v->rate = g->rate;
    v->workers = g->workers;
    v->granted = g->granted;
    v->calls = g->calls;
    v->failures = g->failures;
    if (!g->up)                  /* asked for every chunk: copy the text only when it says something */
        snprintf(v->error, sizeof v->error, "%s", g->error);
    else
        v->error[0] = '\0';
    g->granted = 0;
    pthread_mutex_unlock(&g->mu);
}

void group_redis_want_host(struct group_client *g, const char *host, int rps, int n)
{
    size_t k;

    if (n <= 0 || rps <= 0 || strlen(host) > GROUP_HOST_MAX)
        return;
    pthread_mutex_lock(&g->mu);
    for (k = 0; k < g->nhw && strcmp(g->hw[k].host, host) != 0; k++)
        ;
    if (k == g->nhw && g->nhw < GROUP_HOSTS_MAX) {
        snprintf(g->hw[k].host, sizeof g->hw[k].host, "%s", host);
        g->nhw++;
        /* A new host to ask for: wake the thread unless it waits on purpose. */
        if (g->waiting && !g->cooling)
            pthread_cond_signal(&g->cv);
    }
    if (k < g->nhw) {
        g->hw[k].rps = rps;
        g->hw[k].n = n;
    }
    pthread_mutex_unlock(&g->mu);
}

size_t group_redis_take_grants(struct group_client *g, struct group_grant *out, size_t max)
{
    size_t n;

    pthread_mutex_lock(&g->mu);
    n = g->ngr < max ? g->ngr : max;
    memcpy(out, g->gr, n * sizeof *out);
    memmove(g->gr, g->gr + n, (g->ngr - n) * sizeof *g->gr);
    g->ngr -= n;
    pthread_mutex_unlock(&g->mu);
    return n;
}

void group_redis_hold(struct group_client *g, const char *host, int64_t hold_ms, int status)
{
    size_t k;

    if (hold_ms <= 0 || strlen(host) > GROUP_HOST_MAX)
        return;
    pthread_mutex_lock(&g->mu);
    for (k = 0; k < g->nho && strcmp(g->ho[k].host, host) != 0; k++)
        ;
    if (k == g->nho && g->nho < GROUP_HOLDS_MAX) {
        snprintf(g->ho[k].host, sizeof g->ho[k].host, "%s", host);
        g->ho[k].ms = 0;
        g->nho++;
    }
    if (k < g->nho && hold_ms >= g->ho[k].ms) {
        g->ho[k].ms = hold_ms;
        g->ho[k].status = status;
    }
    /* The others should hear of it at once, not at the next lease. */
    if (g->waiting)
        pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

size_t group_redis_take_holds(struct group_client *g, struct group_hold *out, size_t max)
{
    size_t n = 0;

    pthread_mutex_lock(&g->mu);
    if (g->hi_new) {
        n = g->nhi < max ? g->nhi : max;
        memcpy(out, g->hi, n * sizeof *out);
        g->hi_new = false;
    }
    pthread_mutex_unlock(&g->mu);
    return n;
}

#else /* !SLUICE_HIREDIS */

struct group_client {
    int unused;
};

struct group_client *group_redis_start(const struct group_url *u, int64_t init_rate, int workers,
                                       char *err)
{
    errf(err, "--cap-group: this sluice was built without hiredis (install libhiredis-dev and "
         "build again)");
    return NULL;
}

void group_redis_free(struct group_client *g)
{
}

void group_redis_want(struct group_client *g, int64_t bytes)
{
}

int64_t group_redis_take(struct group_client *g)
{
    return 0;
}

void group_redis_set_rate(struct group_client *g, int64_t rate)
{
}

void group_redis_view(struct group_client *g, struct group_view *v)
{
    memset(v, 0, sizeof *v);
}

void group_redis_want_host(struct group_client *g, const char *host, int rps, int n)
{
}

size_t group_redis_take_grants(struct group_client *g, struct group_grant *out, size_t max)
{
    return 0;
}

void group_redis_hold(struct group_client *g, const char *host, int64_t hold_ms, int status)
{
}

size_t group_redis_take_holds(struct group_client *g, struct group_hold *out, size_t max)
{
    return 0;
}

#endif
