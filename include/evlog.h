#ifndef SLUICE_EVLOG_H
#define SLUICE_EVLOG_H
/* --log FILE: one JSON object per engine event (docs/design.md#headless-mode-and-the-log; the
 * fields are listed in README.md). Credentials never reach the file: URLs are written redacted. */
#include "engine.h"

struct evlog;

struct evlog *evlog_open(const char *path, char *err);
/* An engine listener (engine_add_listener(e, evlog_listener, log)). */
void evlog_listener(const struct engine_event *ev, void *arg);
/* Writes buffered lines out (the engine's tick calls it; lines are at most ~1 s late). -1 when a
 * write has failed, now or before (evlog_error says why). */
int evlog_flush(struct evlog *l);
/* The errno of the first write that failed, 0 when none did. */
int evlog_error(const struct evlog *l);
void evlog_close(struct evlog *l);

#endif
