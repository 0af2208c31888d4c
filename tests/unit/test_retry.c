/* The retry decision, one row per case (docs/design.md#retries-and-backoff): transient and
 * permanent statuses, libcurl's errors, stalls, truncation, a full disk, local path errors,
 * Retry-After in every form, and attempts used up. Fixed clocks and random numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backoff.h"
#include "retry.h"

#define NOW 5000LL                   /* monotonic */
#define WALL 1782864000000LL         /* Wed, 01 Jul 2026 00:00:00 GMT */
#define SIX_H BACKOFF_RETRY_AFTER_MAX_MS
#define MIN 1000
#define MAX 60000

enum { L = RETRY_LATER, F = RETRY_FAIL, S = RETRY_WAIT_SPACE };

struct row {
    const char *name;
    struct retry_facts f;
    int attempt;                     /* 0 means 1 */
    uint64_t rnd;
    int action;
    const char *why;
    bool restart, slow_down;
    int64_t hold_ms;                 /* when slow_down */
    int64_t retry_after_ms;
    int64_t wait_ms;                 /* when RETRY_LATER */
};

#define RESP(st) { .cause = RETRY_CAUSE_RESPONSE, .status = (st), .curl = CURLE_OK }
#define CURL(rc) { .cause = RETRY_CAUSE_RESPONSE, .status = 0, .curl = (rc) }
#define LOCAL(c, e) { .cause = (c), .status = 200, .curl = CURLE_WRITE_ERROR, .err = (e) }

static const struct row rows[] = {
    /* Transient statuses: again, after the jitter; 429 and 503 also slow the host down. */
    { "408", RESP(408), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "425", RESP(425), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "429", RESP(429), 0, 0, L, "transient", false, true, MIN, -1, 0 },
    { "500", RESP(500), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "502", RESP(502), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "503", RESP(503), 0, 0, L, "transient", false, true, MIN, -1, 0 },
    { "504", RESP(504), 0, 0, L, "transient", false, false, 0, -1, 0 },
    /* Every other status is permanent: asking again gets the same answer. */
    { "400", RESP(400), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "401", RESP(401), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "403", RESP(403), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "404", RESP(404), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "410", RESP(410), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "416 from zero", RESP(416), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "451", RESP(451), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "501", RESP(501), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "505", RESP(505), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "300 as the last response", RESP(300), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    /* A 416 to a resume: the file shrank or changed; start over. */
    { "416 to a resume", { .status = 416, .resumed = true }, 0, 0, L, "transient", true, false, 0, -1, 0 },
    /* Retry-After on a 404 does not make it transient. */
    { "404 + Retry-After", { .status = 404, .retry_after = "5" }, 0, 0, F, "permanent", false, false, 0, 5000, 0 },
    /* libcurl's errors. */
    { "connect refused", CURL(CURLE_COULDNT_CONNECT), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "resolve", CURL(CURLE_COULDNT_RESOLVE_HOST), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "timeout", CURL(CURLE_OPERATION_TIMEDOUT), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "reset", CURL(CURLE_RECV_ERROR), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "send", CURL(CURLE_SEND_ERROR), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "empty reply", CURL(CURLE_GOT_NOTHING), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "partial file", CURL(CURLE_PARTIAL_FILE), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "TLS connect", CURL(CURLE_SSL_CONNECT_ERROR), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "range error", CURL(CURLE_RANGE_ERROR), 0, 0, L, "transient", true, false, 0, -1, 0 },
    { "scheme", CURL(CURLE_UNSUPPORTED_PROTOCOL), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "malformed", CURL(CURLE_URL_MALFORMAT), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "redirect loop", CURL(CURLE_TOO_MANY_REDIRECTS), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "not built in", CURL(CURLE_NOT_BUILT_IN), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "certificate", CURL(CURLE_PEER_FAILED_VERIFICATION), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "CA file", CURL(CURLE_SSL_CACERT_BADFILE), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "client cert", CURL(CURLE_SSL_CERTPROBLEM), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "cipher", CURL(CURLE_SSL_CIPHER), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "login", CURL(CURLE_LOGIN_DENIED), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "access", CURL(CURLE_REMOTE_ACCESS_DENIED), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "file size", CURL(CURLE_FILESIZE_EXCEEDED), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "encoding", CURL(CURLE_BAD_CONTENT_ENCODING), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    /* A 503 whose body broke off still slows the host down. */
    { "503 then reset", { .status = 503, .curl = CURLE_RECV_ERROR }, 0, 0, L, "transient", false, true, MIN, -1, 0 },
    /* Stalls: the response's Retry-After (if any) says nothing about them. */
    { "stall", { .cause = RETRY_CAUSE_STALL, .status = 200, .curl = CURLE_OPERATION_TIMEDOUT,
                 .retry_after = "120" }, 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "stall of a 503 body", { .cause = RETRY_CAUSE_STALL, .status = 503,
                               .curl = CURLE_OPERATION_TIMEDOUT }, 0, 0, L, "transient", false, false, 0, -1, 0 },
    /* Truncation: again, resuming what arrived. */
    { "truncated", { .cause = RETRY_CAUSE_TRUNCATED, .status = 200 }, 0, 0, L, "transient", false, false, 0, -1, 0 },
    { "truncated resume", { .cause = RETRY_CAUSE_TRUNCATED, .status = 206, .resumed = true }, 0, 0, L, "transient", false, false, 0, -1, 0 },
    /* A full disk: no attempt counted, however many there were; the .part is kept. */
    { "ENOSPC", LOCAL(RETRY_CAUSE_RESPONSE, ENOSPC), 0, 0, S, "disk full", false, false, 0, -1, 0 },
    { "EDQUOT", LOCAL(RETRY_CAUSE_RESPONSE, EDQUOT), 0, 0, S, "disk full", false, false, 0, -1, 0 },
    { "ENOSPC, tries used up", LOCAL(RETRY_CAUSE_RESPONSE, ENOSPC), 99, 0, S, "disk full", false, false, 0, -1, 0 },
    { "ENOSPC opening", LOCAL(RETRY_CAUSE_PATH, ENOSPC), 0, 0, S, "disk full", false, false, 0, -1, 0 },
    { "ENOSPC committing", { .cause = RETRY_CAUSE_COMMIT, .status = 200, .err = ENOSPC }, 0, 0, S, "disk full", false, false, 0, -1, 0 },
    /* Local path errors: permanent for the item. */
    { "EACCES", LOCAL(RETRY_CAUSE_PATH, EACCES), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "ENOTDIR", LOCAL(RETRY_CAUSE_PATH, ENOTDIR), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "ELOOP (a planted link)", LOCAL(RETRY_CAUSE_PATH, ELOOP), 0, 0, F, "permanent", false, false, 0, -1, 0 },
    { "EISDIR committing", { .cause = RETRY_CAUSE_PATH, .status = 200, .err = EISDIR }, 0, 0, F, "permanent", false, false, 0, -1, 0 },
    /* Other local failures. */
    { "write EIO", LOCAL(RETRY_CAUSE_RESPONSE, EIO), 0, 0, L, "transient", false, false, 0, -1, 0 },
    { ".part short", LOCAL(RETRY_CAUSE_PART_SHORT, EIO), 0, 0, L, "transient", true, false, 0, -1, 0 },
    { "too large", LOCAL(RETRY_CAUSE_TOO_LARGE, EFBIG), 0, 0, F, "permanent", true, false, 0, -1, 0 },
    { "206 mismatch after resume", { .cause = RETRY_CAUSE_MISMATCH, .status = 206, .curl = CURLE_WRITE_ERROR,
                                     .err = EPROTO, .resumed = true }, 0, 0, L, "transient", true, false, 0, -1, 0 },
    { "206 to a request from zero", LOCAL(RETRY_CAUSE_MISMATCH, EPROTO), 0, 0, F, "permanent", true, false, 0, -1, 0 },
    { "checksum mismatch", { .cause = RETRY_CAUSE_COMMIT, .status = 200, .err = EIO,
                             .retry_after = "30" }, 0, 0, L, "transient", true, false, 0, -1, 0 },
    { "checksum mismatch, tries used up", { .cause = RETRY_CAUSE_COMMIT, .status = 200, .err = EIO }, 4, 0,
      F, "retries used up", true, false, 0, -1, 0 },
    /* Retry-After: seconds, HTTP dates (future, past, far), huge, garbage; the longer of it and
     * the jitter wins; a slow-down holds for it. */
    { "503 Retry-After 120", { .status = 503, .retry_after = "120" }, 0, 0, L, "transient", false, true, 120000, 120000, 120000 },
    { "429 Retry-After 0", { .status = 429, .retry_after = "0" }, 0, 0, L, "transient", false, true, MIN, 0, 0 },
    { "Retry-After date ahead", { .status = 503, .retry_after = "Wed, 01 Jul 2026 00:01:30 GMT" }, 0, 0,
      L, "transient", false, true, 90000, 90000, 90000 },
    { "Retry-After RFC 850", { .status = 503, .retry_after = "Wednesday, 01-Jul-26 00:00:10 GMT" }, 0, 0,
      L, "transient", false, true, 10000, 10000, 10000 },
    { "Retry-After asctime", { .status = 503, .retry_after = "Wed Jul  1 00:00:20 2026" }, 0, 0,
      L, "transient", false, true, 20000, 20000, 20000 },
    { "Retry-After date past", { .status = 503, .retry_after = "Tue, 30 Jun 2026 23:00:00 GMT" }, 0, 0,
      L, "transient", false, true, MIN, 0, 0 },
    { "Retry-After date far", { .status = 503, .retry_after = "Fri, 01 Jan 2100 00:00:00 GMT" }, 0, 0,
      L, "transient", false, true, SIX_H, SIX_H, SIX_H },
    { "Retry-After a day", { .status = 429, .retry_after = "86400" }, 0, 0, L, "transient", false, true, SIX_H, SIX_H, SIX_H },
    { "Retry-After past 2^31 s", { .status = 429, .retry_after = "99999999999" }, 0, 0, L, "transient", false, true, MIN, -1, 0 },
    { "Retry-After garbage", { .status = 503, .retry_after = "soon" }, 0, 0, L, "transient", false, true, MIN, -1, 0 },
    { "Retry-After on 500", { .status = 500, .retry_after = "7" }, 0, 0, L, "transient", false, false, 0, 7000, 7000 },
    { "truncated + Retry-After", { .cause = RETRY_CAUSE_TRUNCATED, .status = 200, .retry_after = "3" }, 0, 0,
      L, "transient", false, false, 0, 3000, 3000 },
    /* The jitter: random(0, min(MAX, MIN * 2^(attempt-1))). */
    { "jitter, first retry", RESP(500), 1, 1500, L, "transient", false, false, 0, -1, 1500 % 1001 },
    { "jitter, third retry", RESP(500), 3, 3999, L, "transient", false, false, 0, -1, 3999 },
    { "jitter capped at max", RESP(500), 3, 4001, L, "transient", false, false, 0, -1, 4001 % 4001 },
    { "jitter beats Retry-After", { .status = 503, .retry_after = "1" }, 3, 2500, L, "transient", false, true, 1000, 1000, 2500 },
    /* Attempts used up (retries 3: four attempts in all). */
    { "500, last try left", RESP(500), 3, 0, L, "transient", false, false, 0, -1, 0 },
    { "500, tries used up", RESP(500), 4, 0, F, "retries used up", false, false, 0, -1, 0 },
    { "503, tries used up still slows", { .status = 503, .retry_after = "60" }, 4, 0, F, "retries used up",
      false, true, 60000, 60000, 0 },
    { "stall, tries used up", { .cause = RETRY_CAUSE_STALL, .curl = CURLE_OPERATION_TIMEDOUT }, 4, 0,
      F, "retries used up", false, false, 0, -1, 0 },
    { "416 resume, tries used up", { .status = 416, .resumed = true }, 4, 0, F, "retries used up", true, false, 0, -1, 0 },
};

static void test_table(void **state)
{
    const struct retry_policy p = { .retries = 3, .min_ms = MIN, .max_ms = MAX };
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct retry_decision d;
        char why[256] = "";

        memset(&d, 0x5a, sizeof d);
        retry_decide(&r->f, r->attempt > 0 ? r->attempt : 1, &p, NOW, WALL, r->rnd, &d);
        if ((int)d.action != r->action)
            snprintf(why, sizeof why, "action %d, want %d", d.action, r->action);
        else if (strcmp(d.why, r->why) != 0)
            snprintf(why, sizeof why, "why \"%s\", want \"%s\"", d.why, r->why);
        else if (d.counts != (r->action != S))
            snprintf(why, sizeof why, "counts %d", d.counts);
        else if (d.restart != r->restart)
            snprintf(why, sizeof why, "restart %d", d.restart);
        else if (d.slow_down != r->slow_down || (r->slow_down && d.hold_ms != r->hold_ms))
            snprintf(why, sizeof why, "slow_down %d hold %lld", d.slow_down, (long long)d.hold_ms);
        else if (d.retry_after_ms != r->retry_after_ms)
            snprintf(why, sizeof why, "retry_after %lld, want %lld", (long long)d.retry_after_ms,
                     (long long)r->retry_after_ms);
        else if (r->action == L && (d.wait_ms != r->wait_ms || d.at_ms != NOW + r->wait_ms))
            snprintf(why, sizeof why, "wait %lld at %lld, want %lld", (long long)d.wait_ms,
                     (long long)d.at_ms, (long long)r->wait_ms);
        /* retry_restart is what a parked transfer asks: the same answer. */
        else if (retry_restart(&r->f) != r->restart)
            snprintf(why, sizeof why, "retry_restart differs");
        if (why[0] != '\0') {
            print_error("row \"%s\": %s\n", r->name, why);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* --retries 0: the first failure is the last; a permanent one fails before attempts matter. */
static void test_no_retries(void **state)
{
    const struct retry_policy p = { .retries = 0, .min_ms = MIN, .max_ms = MAX };
    const struct retry_facts f500 = RESP(500), f404 = RESP(404);
    struct retry_decision d;

    (void)state;
    retry_decide(&f500, 1, &p, NOW, WALL, 0, &d);
    assert_int_equal(d.action, RETRY_FAIL);
    assert_string_equal(d.why, "retries used up");
    retry_decide(&f404, 1, &p, NOW, WALL, 0, &d);
    assert_string_equal(d.why, "permanent");
}

/* The wait never exceeds the larger of --retry-max and the clamped Retry-After, at any attempt. */
static void test_wait_bounds(void **state)
{
    const struct retry_policy p = { .retries = 1000, .min_ms = MIN, .max_ms = MAX };
    const struct retry_facts f = RESP(502);
    uint64_t rng = 0x1234567;
    struct retry_decision d;

    (void)state;
    for (int attempt = 1; attempt <= 1000; attempt++) {
        retry_decide(&f, attempt, &p, NOW, WALL, backoff_rand(&rng), &d);
        assert_int_equal(d.action, RETRY_LATER);
        assert_true(d.wait_ms >= 0 && d.wait_ms <= MAX);
        assert_int_equal(d.at_ms, NOW + d.wait_ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_no_retries),
        cmocka_unit_test(test_wait_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
