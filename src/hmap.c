/* String-keyed hash map with linear probing; grows at 70% load. No deletion: the sets it serves
 * (URLs, paths, hosts) only grow during a run. */
#include "hmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

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

    m->cap = 64;
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

static void grow(struct hmap *m)
{
    size_t cap = m->cap * 2;
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
        grow(m);
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
