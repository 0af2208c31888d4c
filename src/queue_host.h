#ifndef SLUICE_QUEUE_HOST_H
#define SLUICE_QUEUE_HOST_H
/* Part of the queue (queue.c and its queue_*.c files only): the hosts with queued work and their
 * windows. Each host holds a window, its queued items in memory in input order (linked through
 * item->qnext/qprev), and a cursor into the session's rows for it. Hosts are chained by hash, and
 * every host in the table is also in the ring in which hosts take turns. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct item;
struct queue_ent;

#define QUEUE_WINDOW_MAX 64      /* queued items read ahead for one host */

struct queue_host {
    char *host;
    uint64_t hash;
    struct item *head, *tail;    /* the window: queued items in memory */
    size_t nwin;
    uint64_t cursor;             /* the last id read from the session for this host */
    bool db_more;                /* the session may hold more queued items past cursor */
    struct queue_host *prev, *next;   /* ring */
    struct queue_host *hnext;    /* hash chain */
};

struct queue_hosts {
    struct queue_host **hb;      /* hash buckets, freed with free() */
    size_t cap, n;
    struct queue_host *ring;     /* the host whose turn is next, NULL when there are none */
};

struct queue_host *queue_host_find(const struct queue_hosts *hs, const char *host);
/* The host, added when it is not there yet (db_more set, in the ring just before the current
 * turn). */
struct queue_host *queue_host_of(struct queue_hosts *hs, const char *host);
/* Takes a host out of the table and the ring and frees it (its window must be empty). */
void queue_host_drop(struct queue_hosts *hs, struct queue_host *h);

/* Puts e's item at the end (front: the head) of its host's window and flags e QUEUE_ENT_WINDOW. */
void queue_host_window_push(struct queue_hosts *hs, struct queue_ent *e, bool front);
/* A retry that came due: before the fresh items of its host's window, after the retries that came
 * due before it. */
void queue_host_window_push_due(struct queue_hosts *hs, struct queue_ent *e);
/* Takes e's item out of its host's window and clears QUEUE_ENT_WINDOW. */
void queue_host_window_remove(struct queue_hosts *hs, struct queue_ent *e);
/* e's item became queued: it joins its host's window unless the window is long already. */
void queue_host_window_offer(struct queue_hosts *hs, struct queue_ent *e, bool front);
/* Every host may have more queued rows: set db_more (from_start: and read from the first row). */
void queue_host_reset(struct queue_hosts *hs, bool from_start);

#endif
