/* String-keyed hash map with linear probing; grows at 70% load. Deletion shifts the entries of
 * the probe run back (no tombstones), and the table shrinks again when it is mostly empty, so a
 * map whose keys come and go (the engine's hosts) costs what it holds now, not what it once held. */
#include "hmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define HMAP_MIN_CAP 64

struct slot {
    char *key;
    uint64_t hash;
    void *val;
};

struct hmap {
    struct slot *slots;
    size_t cap, count;
};

uint64_t hmap_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct hmap *hmap_new(void)
{
    struct hmap *m = xcalloc(1, sizeof *m);

    m->cap = HMAP_MIN_CAP;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void hmap_free(struct hmap *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static struct slot *find(struct slot *slots, size_t cap, const char *key, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);

    while (slots[i].key != NULL) {
        if (slots[i].hash == h && strcmp(slots[i].key, key) == 0)
            return &slots[i];
        i = (i + 1) & (cap - 1);
    }
    return &slots[i];
}

static void resize(struct hmap *m, size_t cap)
{
    struct slot *slots = xcalloc(cap, sizeof *slots);

    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key != NULL)
            *find(slots, cap, m->slots[i].key, m->slots[i].hash) = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
}

void *hmap_put(struct hmap *m, const char *key, void *val)
{
    uint64_t h = hmap_hash(key, strlen(key));
    struct slot *s;

    if ((m->count + 1) * 10 > m->cap * 7)
        resize(m, m->cap * 2);
    s = find(m->slots, m->cap, key, h);
    if (s->key != NULL)
        return s->val;
    s->key = xstrdup(key);
    s->hash = h;
    s->val = val;
    m->count++;
    return NULL;
}

void *hmap_get(const struct hmap *m, const char *key)
{
    struct slot *s = find(m->slots, m->cap, key, hmap_hash(key, strlen(key)));

    return s->key != NULL ? s->val : NULL;
}

size_t hmap_count(const struct hmap *m)
{
    return m->count;
}

void *hmap_del(struct hmap *m, const char *key)
{
    struct slot *s = find(m->slots, m->cap, key, hmap_hash(key, strlen(key)));
    size_t hole, i, home, mask = m->cap - 1;
    void *val;

    if (s->key == NULL)
        return NULL;
    val = s->val;
    free(s->key);
    s->key = NULL;
    m->count--;
    /* Backward shift (Knuth 6.4, algorithm R): every later entry of the run whose home slot is
     * not cyclically within (hole, i] moves into the hole, so lookups never stop early. */
    hole = (size_t)(s - m->slots);
    for (i = (hole + 1) & mask; m->slots[i].key != NULL; i = (i + 1) & mask) {
        home = (size_t)m->slots[i].hash & mask;
        if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
            m->slots[hole] = m->slots[i];
            m->slots[i].key = NULL;
            hole = i;
        }
    }
    /* Mostly empty: give the memory back (at 1/8 load, halving keeps it under 70%). */
    if (m->cap > HMAP_MIN_CAP && m->count * 8 < m->cap)
        resize(m, m->cap / 2);
    return val;
}
