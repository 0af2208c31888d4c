#ifndef SLUICE_HMAP_H
#define SLUICE_HMAP_H
/* String-keyed hash map (open addressing). Keys are copied; values are opaque pointers. */
#include <stddef.h>
#include <stdint.h>

struct hmap;

struct hmap *hmap_new(void);
void hmap_free(struct hmap *m);
/* Returns the existing value if the key is present (and does not replace it), else inserts and returns NULL. */
void *hmap_put(struct hmap *m, const char *key, void *val);
void *hmap_get(const struct hmap *m, const char *key);
/* Removes key; returns its value, or NULL when it was not there. Shrinks a mostly empty map. */
void *hmap_del(struct hmap *m, const char *key);
size_t hmap_count(const struct hmap *m);
uint64_t hmap_hash(const char *s, size_t n);   /* FNV-1a 64 */

#endif
