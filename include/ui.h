#ifndef SLUICE_UI_H
#define SLUICE_UI_H
/* The terminal UI (docs/tui.md, docs/design.md#tui). It only reads engine and queue state and calls
 * the engine API; the terminal is one more descriptor of the event loop. */
#include <stdbool.h>
#include "opts.h"

struct loop;
struct engine;
struct queue;
struct ui;

/* Takes over the terminal. NULL with err (e.g. "FILE:LINE: message" for a bad theme). */
struct ui *ui_new(struct loop *loop, struct engine *e, struct queue *q, const struct settings *s,
                  char *err);
/* The operator asked to quit (and confirmed while transfers run). */
bool ui_wants_quit(const struct ui *u);
/* SIGWINCH arrived (main owns the signal descriptor). */
void ui_resize(struct ui *u);
/* The run has finished: the terminal bell, unless --no-bell. */
void ui_bell(struct ui *u);
/* Restores the terminal. Safe to call on every exit path. */
void ui_free(struct ui *u);

#endif
