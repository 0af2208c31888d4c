#ifndef SLUICE_FILTER_H
#define SLUICE_FILTER_H
/* The TUI's triage filter (docs/tui.md#keys): words of the form KEY:VALUE narrow the items,
 * `status:503`, `host:img.example.com`, `state:failed`, `reason:timeout`; other words are text
 * that the path or host must contain. Every condition must hold. Pure: no terminal, no engine. */
#include <stdbool.h>
#include <stddef.h>
#include "item.h"

#define FILTER_TEXT_MAX 8

struct filter {
    int status;                  /* last HTTP status, 0 = any */
    int state;                   /* enum item_state, -1 = any */
    char *host;                  /* part of the host, NULL = any */
    char *reason;                /* part of the reason, NULL = any */
    char *text[FILTER_TEXT_MAX]; /* parts of the path or host */
    size_t ntext;
};

/* 0, or -1 with err (ERRLEN) for a bad word (status:abc, state:bogus, an empty value, too many
 * words); f is cleared either way and must be freed (filter_free). */
int filter_parse(const char *s, struct filter *f, char *err);
void filter_free(struct filter *f);
bool filter_match(const struct filter *f, const struct item *it);
/* The two halves: what never changes for an item (its path and host: text, host:), and what its
 * run changes (status:, state:, reason:). filter_match is both. */
bool filter_match_fixed(const struct filter *f, const struct item *it);
bool filter_match_live(const struct filter *f, const struct item *it);

#endif
