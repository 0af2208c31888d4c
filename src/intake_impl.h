#ifndef SLUICE_INTAKE_IMPL_H
#define SLUICE_INTAKE_IMPL_H
/* Internal: the layout of struct intake and what intake.c gives the other files of the intake
 * (intake_scan.c pass one, intake_confirm.c pass 1b, intake_writer.c pass two; each has a header
 * of its own). Nothing outside src/intake*.c includes it: everyone else uses intake.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fprint.h"
#include "input.h"
#include "intake.h"
#include "util.h"

struct known;

#define INTAKE_CLI_NAME "<command line>"

enum cand_kind {
    C_SAME, C_PART_OF, C_HAS_PART, C_IS_FOLDER, C_NEEDS,       /* b is an item of this input */
    C_SAME_S, C_PART_OF_S, C_HAS_PART_S, C_IS_FOLDER_S, C_NEEDS_S, /* b is a session row id */
};

struct cand {
    enum cand_kind kind;
    uint32_t a;                  /* the item the problem is reported at */
    uint64_t b;
};

struct intake {
    const struct settings *s;
    struct queue *q;
    struct store *st;
    void (*report)(void *arg, const char *msg);
    void *report_arg;
    int problems;
    FILE *fp;
    const char *list_name;       /* as input_read shows it */
    uint32_t nseq;
    int64_t input_cli, input_list;
    /* pass one */
    struct fprint_rec *recs, *parts;
    size_t nrecs, reccap, nparts, partcap;
    struct fprint_set folders;
    struct cand *cands;
    size_t ncands, candcap, extra;
    struct known *known;         /* pass 1b: the items whose strings are wanted */
    /* what pass two needs, by item number */
    uint8_t *dup;                /* bitmap: the URL came earlier in this input */
    uint32_t ndup;
    uint32_t *sid;               /* the session row with this URL, 0 = none; NULL: empty session */
    size_t sidcap;
    struct fprint_rec *surl;     /* pass one: fingerprints of the session's URLs (h, seq = id) */
    size_t nsurl;
    size_t nnew;
    /* pass two */
    struct store *wst;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_int status;           /* 1 running, 0 finished, -1 failed */
    char err[ERRLEN];
    char summary[256];
    size_t stored, merged, requeued;
    int rootfd;                  /* -1: finished items are not looked at */
    long delta;                  /* queued count correction not yet handed to the queue */
    size_t batch_rows;
    int64_t batch_t0, t0;
    bool in_batch, batch_writes;  /* a transaction is open; it holds the write lock */
};

/* A problem for the operator, counted. */
void intake_problem(struct intake *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A report function that drops the message (later passes: pass one reported them). */
void intake_ignore_report(void *arg, const char *msg);

/* ---- reading the input, the same way in every pass ---- */

typedef int (*intake_walk_fn)(struct intake *in, const struct input_item *ii, uint32_t seq,
                              char *err);

/* Command-line URLs first, then the list. Returns input_read's count of malformed lines, or -1. */
int intake_walk(struct intake *in, intake_walk_fn fn, void (*report)(void *arg, const char *msg),
                void *report_arg, char *err);

static inline bool intake_is_cli(const struct intake *in, uint32_t seq)
{
    return seq < in->s->nurls;
}

/* seq repeats a URL given earlier in this input (the list may have grown since: bounds). */
static inline bool intake_is_dup(const struct intake *in, uint32_t seq)
{
    return in->dup != NULL && seq < in->ndup && (in->dup[seq >> 3] >> (seq & 7)) & 1;
}

static inline uint32_t intake_sid_of(const struct intake *in, uint32_t seq)
{
    return seq < in->sidcap ? in->sid[seq] : 0;
}

#endif
