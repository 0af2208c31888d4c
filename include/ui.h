#ifndef SLUICE_UI_H
#define SLUICE_UI_H
/* The terminal UI (docs/tui.md, docs/design.md#tui). It only reads state and sends commands through
 * its source (include/uisrc.h): this process's engine, or a running sluice behind its control
 * socket (`sluice attach`); the terminal is one more descriptor of the event loop. */
#include <stdbool.h>
#include "opts.h"

struct loop;
struct uisrc;
struct ui;

/* Takes over the terminal. NULL with err (e.g. "FILE:LINE: message" for a bad theme). */
struct ui *ui_new(struct loop *loop, struct uisrc *src, const struct settings *s, char *err);
/* The operator asked to quit (and confirmed while transfers run). */
bool ui_wants_quit(const struct ui *u);
/* The operator asked to detach (D): the UI goes, the sync goes on. */
bool ui_wants_detach(const struct ui *u);
/* Frames drawn so far. */
unsigned long ui_frames(const struct ui *u);
/* The terminal went away without a SIGHUP (read errors, endless empty reads): main lets go of
 * the UI and the run goes on headless. */
bool ui_terminal_gone(const struct ui *u);
/* SIGWINCH arrived (main owns the signal descriptor). */
void ui_resize(struct ui *u);
/* The run has finished: the terminal bell, unless --no-bell. */
void ui_bell(struct ui *u);
/* Restores the terminal. Safe to call on every exit path. */
void ui_free(struct ui *u);

#endif
