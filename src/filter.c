/* Triage filter words (filter.h). Matching is case-insensitive; a reason that is only a status is
 * matched as "HTTP 503" too, so `reason:503` finds what the REASON column shows. */
#include "filter.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void filter_free(struct filter *f)
{
    free(f->host);
    free(f->reason);
    for (size_t i = 0; i < f->ntext; i++)
        free(f->text[i]);
    memset(f, 0, sizeof *f);
    f->state = -1;
}

static int state_of(const char *v)
{
    if (strcasecmp(v, "same") == 0)
        return ITEM_UNCHANGED;
    for (int s = 0; s < ITEM_STATE_COUNT; s++)
        if (strcasecmp(v, item_state_name((enum item_state)s)) == 0)
            return s;
    return -1;
}

int filter_parse(const char *s, struct filter *f, char *err)
{
    const char *p = s;

    memset(f, 0, sizeof *f);
    f->state = -1;
    while (*p != '\0') {
        const char *w = p, *colon;
        char *word, *val;
        size_t len;

        while (*p == ' ' || *p == '\t')
            p++;
        w = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
        if ((len = (size_t)(p - w)) == 0)
            break;
        word = xstrndup(w, len);
        colon = strchr(word, ':');
        val = colon != NULL ? word + (colon - word) + 1 : NULL;
        if (val != NULL && (strncasecmp(word, "status:", 7) == 0 || strncasecmp(word, "host:", 5) == 0 ||
                            strncasecmp(word, "state:", 6) == 0 || strncasecmp(word, "reason:", 7) == 0)) {
            if (*val == '\0') {
                errf(err, "'%s' needs a value", word);
                goto bad;
            }
            if (strncasecmp(word, "status:", 7) == 0) {
                char *end;
                long v = strtol(val, &end, 10);

                if (*end != '\0' || v < 100 || v > 599) {
                    errf(err, "status:%s is not an HTTP status (100..599)", val);
                    goto bad;
                }
                f->status = (int)v;
            } else if (strncasecmp(word, "state:", 6) == 0) {
                if ((f->state = state_of(val)) < 0) {
                    errf(err, "state:%s is not a state (queued, active, retry, paused, done, "
                         "unchanged, failed)", val);
                    goto bad;
                }
            } else if (strncasecmp(word, "host:", 5) == 0) {
                free(f->host);
                f->host = xstrdup(val);
            } else {
                free(f->reason);
                f->reason = xstrdup(val);
            }
            free(word);
            continue;
        }
        if (f->ntext == FILTER_TEXT_MAX) {
            errf(err, "at most %d words of text", FILTER_TEXT_MAX);
            goto bad;
        }
        f->text[f->ntext++] = word;
        continue;
bad:
        free(word);
        filter_free(f);
        return -1;
    }
    return 0;
}

bool filter_match_fixed(const struct filter *f, const struct item *it)
{
    if (f->host != NULL && (it->host == NULL || strcasestr(it->host, f->host) == NULL))
        return false;
    for (size_t i = 0; i < f->ntext; i++)
        if (strcasestr(it->path, f->text[i]) == NULL &&
            (it->host == NULL || strcasestr(it->host, f->text[i]) == NULL))
            return false;
    return true;
}

bool filter_match_live(const struct filter *f, const struct item *it)
{
    if (f->status != 0 && it->http_status != f->status)
        return false;
    if (f->state >= 0 && (int)it->state != f->state)
        return false;
    if (f->reason != NULL) {
        char only[16];
        bool in_error = it->error != NULL && strcasestr(it->error, f->reason) != NULL;

        snprintf(only, sizeof only, "HTTP %d", it->http_status);
        if (!in_error && !(it->http_status > 0 && it->error == NULL && strcasestr(only, f->reason)))
            return false;
    }
    return true;
}

bool filter_match(const struct filter *f, const struct item *it)
{
    return filter_match_fixed(f, it) && filter_match_live(f, it);
}
