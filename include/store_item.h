#ifndef SLUICE_STORE_ITEM_H
#define SLUICE_STORE_ITEM_H
/* Item rows of the session (store_item.c): load, insert, write and delete one item, find one by
 * URL or path, walk them all. Times: see store.h (wall_off). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "item.h"
#include "store.h"

/* Loads one item (NULL with err[0] == '\0' when there is no such id). */
struct item *store_item_load(struct store *st, uint64_t id, int64_t wall_off, char *err);
/* Inserts a new row from it (it->id is ignored; *id receives the new one). input is an id from
 * store_meta_input_id or 0. Returns 0, 1 when the URL or the path is already taken (nothing
 * written), -1 on error. */
int store_item_insert(struct store *st, const struct item *it, int64_t input, int64_t wall_off,
                      uint64_t *id, char *err);
/* Writes what a transfer changes: state, attempts, next try, status, error, sizes, validators,
 * digest, duration. */
int store_item_write(struct store *st, const struct item *it, int64_t wall_off, char *err);
/* Removes an item: its row stays, in no state, with its URL (the same list does not bring it
 * back) and without its path. */
int store_item_delete(struct store *st, uint64_t id, char *err);
/* Deletes the row of a removed item for good (the operator adds its URL again): 1, 0 when id is
 * not a removed item, -1. */
int store_item_purge(struct store *st, uint64_t id, char *err);
/* 1 and *id when found, 0 when not, -1 on error. */
int store_item_find_url(struct store *st, const char *url, uint64_t *id, char *err);
int store_item_find_path(struct store *st, const char *path, uint64_t *id, char *err);
/* An item whose path lies under folder (starts with folder + "/"), by the path index. */
int store_item_find_under(struct store *st, const char *folder, uint64_t *id, char *err);
/* The URL of id (allocated) in *url: 1, 0 when there is no such row, -1 on error. */
int store_item_url_of(struct store *st, uint64_t id, char **url, char *err);
/* Where a row came from, for messages: its input's name (allocated, NULL when unknown), its line
 * and its path (allocated). 1, 0 when absent, -1 on error. */
int store_item_where(struct store *st, uint64_t id, char **input, long *line, char **path,
                     char *err);

/* Walks every row in id order (a sequential read of the table): cb gets id, url and path (path
 * only when want_path); a non-zero return from cb stops the walk and is returned. */
typedef int (*store_item_scan_cb)(uint64_t id, const char *url, const char *path, void *arg);
int store_item_scan(struct store *st, bool want_path, store_item_scan_cb cb, void *arg,
                    char *err);

#endif
