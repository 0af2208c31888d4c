#ifndef SLUICE_STORE_META_H
#define SLUICE_STORE_META_H
/* Settings and bookkeeping of the session (store_meta.c): the settings tuned live, integer meta
 * values, the ids of input lists' names. */
#include <stdint.h>
#include "store.h"

/* 1 and *value (allocated) when key is set, 0 when not, -1 on error. */
int store_meta_setting_get(struct store *st, const char *key, char **value, char *err);
int store_meta_setting_set(struct store *st, const char *key, const char *value, char *err);
/* Forgets a setting (0, or -1 on error); a key that is not set is not an error. */
int store_meta_setting_del(struct store *st, const char *key, char *err);
int store_meta_get(struct store *st, const char *key, int64_t *value, char *err);   /* 1, 0, -1 */
int store_meta_set(struct store *st, const char *key, int64_t value, char *err);
/* The id of an input list's name in the session (added when new). */
int store_meta_input_id(struct store *st, const char *name, int64_t *id, char *err);

#endif
