#ifndef SLUICE_SEGPLAN_H
#define SLUICE_SEGPLAN_H
/* The ranges of one segmented download (docs/design.md#segmented-downloads): how a file of known
 * size is cut into ranges at the start, which range a free connection takes next, and when the
 * largest range still being fetched is cut in two for it (work stealing). Pure: no clock, no I/O;
 * the engine owns the connections and the session records the ranges.
 *
 * A plan is an array of segments sorted by start that covers [0, size) exactly, without gaps or
 * overlaps. Segment i is [start, end); its first `done` bytes are on disk. A segment never
 * grows: a steal moves the end of the one it cuts down to the cut, and the new one starts there.
 * So a byte fetched once is never asked for again, except what was in flight past the cut. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cuts fall on this boundary (page-cache and filesystem blocks), except the file's end. */
#define SEGPLAN_ALIGN 4096
/* At most this many ranges per file, counting finished ones (the session's rows, the details). */
#define SEGPLAN_MAX 256

struct seg {
    int64_t start;       /* first byte */
    int64_t end;         /* one past the last byte */
    int64_t done;        /* bytes on disk from start: [start, start + done) */
    bool busy;           /* a connection is fetching it (not recorded in the session) */
};

/* The number of ranges a file of size bytes is cut into at the start: at most n, none smaller
 * than min_segment (a file under 2 × min_segment is one range). size <= 0 gives 1. */
int segplan_count(int64_t size, int n, int64_t min_segment);

/* Cuts [0, size) into segplan_count(size, n, min_segment) ranges of near-equal length, cuts
 * aligned (SEGPLAN_ALIGN); out has room for SEGPLAN_MAX. Returns the number of ranges. */
size_t segplan_split(int64_t size, int n, int64_t min_segment, struct seg *out);

/* Where the first range of segplan_split ends: the first connection, which asked for the whole
 * file, stops there even before the engine has planned the others. */
int64_t segplan_first_end(int64_t size, int n, int64_t min_segment);

/* The plan the engine makes (docs/design.md#segmented-downloads): [from, size) cut into pieces,
 * `per` for each of the segplan_count connections (none under min_segment, at most half of
 * SEGPLAN_MAX), which the connections take in file order, so that the file's prefix is whole
 * long before the end and its SHA-256 can follow the download; [0, from) as one whole range
 * first when from > 0 (a resumed .part). per is SEGPLAN_PIECES uncapped, 1 under a cap (pieces
 * switched together under equal turns took in their fresh windows at once: 1.09x the cap in that
 * second). segplan_plan_first_end: where the first piece to fetch ends (the first request stops
 * there). */
#define SEGPLAN_PIECES 4
int segplan_pieces(int64_t size, int n, int per, int64_t min_segment);
size_t segplan_plan(int64_t size, int64_t from, int n, int per, int64_t min_segment,
                    struct seg *out);
int64_t segplan_plan_first_end(int64_t size, int64_t from, int n, int per, int64_t min_segment);

/* Bytes of segment s still to fetch. */
int64_t segplan_left(const struct seg *s);
/* Bytes on disk in all. */
int64_t segplan_done(const struct seg *v, size_t n);
/* Every byte is on disk. */
bool segplan_whole(const struct seg *v, size_t n);
/* Connections fetching. */
int segplan_busy(const struct seg *v, size_t n);

/* The range a free connection takes: an idle one with bytes left (the one with most left), else
 * the largest busy range cut in two (work stealing) when what it has left is at least
 * 2 × min_segment: its end moves to the cut, and a new idle range [cut, old end) is inserted
 * after it. Returns the index of the range to fetch (mark it busy), or -1 when there is none
 * worth a connection. *n grows by one on a cut; the array has room for SEGPLAN_MAX. */
int segplan_next(struct seg *v, size_t *n, int64_t min_segment);

/* Checks ranges read back from the session against a file of size bytes: sorted, contiguous,
 * covering [0, size), done within each range, at most SEGPLAN_MAX. Returns 0, or -1 with why
 * (ERRLEN-sized, may be NULL) saying what is wrong; the caller then starts the file over. */
int segplan_check(const struct seg *v, size_t n, int64_t size, char *why);

/* A whole range absorbs the idle range after it (done stays contiguous from its start), so
 * finished ranges do not pile up as rows in the session and the details. Busy ranges are left
 * alone. Returns the new count. */
size_t segplan_compact(struct seg *v, size_t n);

#endif
