#ifndef SLUICE_CTL_ATTACH_H
#define SLUICE_CTL_ATTACH_H
/* The server's half of the attach mode (docs/ctl.md#attach-mode): one per attached connection.
 * It answers the requests of a remote UI through the same source the local UI reads
 * (uisrc_local_new), so both see one state; commands go through the ctl command table. Events
 * wait in a bounded ring until the client asks for them. No socket here: ctl.c does the I/O. */
#include <stddef.h>

#include "opts.h"
#include "util.h"

/* 2 adds waits and hosts; 3 the connections of a running transfer in rows and items (x_conns)
 * and ranges. A client that speaks an older one is still served (every request it knows is
 * answered as before, in its layout). */
#define CTL_ATTACH_VERSION 4
#define CTL_ATTACH_VERSION_MIN 1
#define CTL_ATTACH_EVENTS 256       /* events kept for a client between two polls */

struct loop;
struct engine;
struct queue;
struct ctl_attach;

struct ctl_attach *ctl_attach_new(struct loop *loop, struct engine *e, struct queue *q,
                                  const struct settings *s, int version);
void ctl_attach_free(struct ctl_attach *a);
/* One request line (without its newline): appends "ok LEN\n" + LEN bytes of body, or
 * "error: MESSAGE\n", to out. */
void ctl_attach_exec(struct ctl_attach *a, const char *line, size_t len, struct sbuf *out);

#endif
