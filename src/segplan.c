/* Range planning for segmented downloads (docs/design.md#segmented-downloads). Pure. */
#include "segplan.h"
#include "util.h"

#include <string.h>

int segplan_count(int64_t size, int n, int64_t min_segment)
{
    int64_t k;

    if (size <= 0 || n <= 1)
        return 1;
    if (min_segment < 1)
        min_segment = 1;
    if (n > SEGPLAN_MAX)
        n = SEGPLAN_MAX;
    /* Every range at least min_segment long: size / min_segment of them at most. */
    k = size / min_segment;
    if (k < 1)
        k = 1;
    return k < n ? (int)k : n;
}

/* The cut nearest below pos on the alignment, but never at or below lo. */
static int64_t align_cut(int64_t pos, int64_t lo)
{
    int64_t c = pos - pos % SEGPLAN_ALIGN;

    return c > lo ? c : pos;
}

/* Cuts [lo, hi) into k near-equal ranges, cuts aligned; appends them to out. */
static size_t split_span(int64_t lo, int64_t hi, int k, struct seg *out)
{
    int64_t span = hi - lo, prev = lo;
    size_t m = 0;

    for (int i = 0; i < k; i++) {
        int64_t end = i == k - 1 ? hi : align_cut(lo + span / k * (i + 1) + span % k * (i + 1) / k, prev);

        if (end <= prev && i < k - 1)
            continue;           /* too small to cut here: the next range takes it */
        out[m].start = prev;
        out[m].end = end;
        out[m].done = 0;
        out[m].busy = false;
        m++;
        prev = end;
    }
    return m;
}

size_t segplan_split(int64_t size, int n, int64_t min_segment, struct seg *out)
{
    return segplan_plan(size, 0, n, 1, min_segment, out);
}

int segplan_pieces(int64_t size, int n, int per, int64_t min_segment)
{
    int k = segplan_count(size, n, min_segment);
    int64_t most;

    if (k <= 1)
        return k;
    if (min_segment < 1)
        min_segment = 1;
    most = size / min_segment;
    if (per < 1)
        per = 1;
    if (most > (int64_t)k * per)
        most = (int64_t)k * per;
    if (most > SEGPLAN_MAX / 2)
        most = SEGPLAN_MAX / 2;       /* room left for steals */
    return most > k ? (int)most : k;
}

size_t segplan_plan(int64_t size, int64_t from, int n, int per, int64_t min_segment,
                    struct seg *out)
{
    if (size < 0)
        size = 0;
    if (from <= 0 || from >= size)
        return split_span(0, size, segplan_pieces(size, n, per, min_segment), out);
    out[0].start = 0;
    out[0].end = out[0].done = from;
    out[0].busy = false;
    return 1 + split_span(from, size, segplan_pieces(size - from, n, per, min_segment), out + 1);
}

int64_t segplan_plan_first_end(int64_t size, int64_t from, int n, int per, int64_t min_segment)
{
    struct seg v[SEGPLAN_MAX];
    size_t m = segplan_plan(size, from, n, per, min_segment, v);

    return m > 1 && from > 0 && from < size ? v[1].end : v[0].end;
}

int64_t segplan_first_end(int64_t size, int n, int64_t min_segment)
{
    return segplan_plan_first_end(size, 0, n, 1, min_segment);
}

int64_t segplan_left(const struct seg *s)
{
    return s->end - s->start - s->done;
}

int64_t segplan_done(const struct seg *v, size_t n)
{
    int64_t t = 0;

    for (size_t i = 0; i < n; i++)
        t += v[i].done;
    return t;
}

bool segplan_whole(const struct seg *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (segplan_left(&v[i]) > 0)
            return false;
    return true;
}

int segplan_busy(const struct seg *v, size_t n)
{
    int b = 0;

    for (size_t i = 0; i < n; i++)
        b += v[i].busy;
    return b;
}

int segplan_next(struct seg *v, size_t *n, int64_t min_segment)
{
    int idle = -1, big = -1;
    int64_t cut, from;

    for (size_t i = 0; i < *n; i++) {
        int64_t left = segplan_left(&v[i]);

        if (left <= 0)
            continue;
        if (!v[i].busy && (idle < 0 || left > segplan_left(&v[idle])))
            idle = (int)i;
        if (v[i].busy && (big < 0 || left > segplan_left(&v[big])))
            big = (int)i;
    }
    if (idle >= 0)
        return idle;
    if (min_segment < 1)
        min_segment = 1;
    if (big < 0 || *n >= SEGPLAN_MAX || segplan_left(&v[big]) < 2 * min_segment)
        return -1;
    /* The busy connection keeps the first half of what it has left (it is reading there now),
     * the new one takes the second. */
    from = v[big].start + v[big].done;
    cut = align_cut(from + segplan_left(&v[big]) / 2, from);
    memmove(&v[big + 2], &v[big + 1], (*n - (size_t)big - 1) * sizeof *v);
    v[big + 1].start = cut;
    v[big + 1].end = v[big].end;
    v[big + 1].done = 0;
    v[big + 1].busy = false;
    v[big].end = cut;
    (*n)++;
    return big + 1;
}

int segplan_check(const struct seg *v, size_t n, int64_t size, char *why)
{
    char dummy[ERRLEN];
    int64_t at = 0;

    if (why == NULL)
        why = dummy;
    if (n == 0 || n > SEGPLAN_MAX)
        return errf(why, "%zu ranges (1..%d)", n, SEGPLAN_MAX);
    for (size_t i = 0; i < n; i++) {
        if (v[i].start != at)
            return errf(why, "range %zu starts at %lld, not %lld", i, (long long)v[i].start,
                        (long long)at);
        if (v[i].end <= v[i].start)
            return errf(why, "range %zu is empty or reversed", i);
        if (v[i].done < 0 || v[i].done > v[i].end - v[i].start)
            return errf(why, "range %zu has %lld bytes done of %lld", i, (long long)v[i].done,
                        (long long)(v[i].end - v[i].start));
        at = v[i].end;
    }
    if (at != size)
        return errf(why, "ranges end at %lld, the file at %lld", (long long)at, (long long)size);
    return 0;
}

size_t segplan_compact(struct seg *v, size_t n)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        /* A whole range absorbs the idle one after it: done stays contiguous from its start. */
        if (m > 0 && !v[m - 1].busy && !v[i].busy && segplan_left(&v[m - 1]) == 0) {
            v[m - 1].done += v[i].done;
            v[m - 1].end = v[i].end;
            continue;
        }
        v[m++] = v[i];
    }
    return m;
}
