#ifndef SLUICE_EVLOG_H
#define SLUICE_EVLOG_H
/* --log FILE: one JSON object per engine event, one write() per line at the moment of the event
 * (whole lines after any kill; docs/design.md#headless-mode-and-the-log; the fields are listed in
 * README.md). Credentials never reach the file: URLs are written redacted. */
#include "engine.h"

struct evlog;

struct evlog *evlog_open(const char *path, char *err);
/* An engine listener (engine_add_listener(e, evlog_listener, log)). */
void evlog_listener(const struct engine_event *ev, void *arg);
/* The last line of a run: {"event":"end","status":N,"how":"finished|stopped|interrupted|detached..."}
 * with the run's totals, so that a run nobody watches (detached, cron) leaves its outcome where
 * it can be read (docs/design.md#detach-and-attach). */
void evlog_end(struct evlog *l, int status, const char *how, const struct engine_stats *st);
/* The errno of the first failed write, 0 when none. */
int evlog_error(const struct evlog *l);
void evlog_close(struct evlog *l);

#endif
