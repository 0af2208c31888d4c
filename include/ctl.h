#ifndef SLUICE_CTL_H
#define SLUICE_CTL_H
/* The control socket (docs/ctl.md): a running sluice listens on DIR/.sluice/ctl (mode 0600);
 * `sluice ctl` sends one command and prints the answer. */
#include <stdbool.h>
#include <stdint.h>
#include "opts.h"

struct loop;
struct engine;
struct queue;
struct ctl;
struct uisrc;

/* Listens on path (creating its folder 0700; a stale socket from a dead run is replaced, a live
 * one is an error). NULL with err. */
struct ctl *ctl_new(struct loop *loop, struct engine *e, struct queue *q, const struct settings *s,
                    const char *path, char *err);
void ctl_free(struct ctl *c);     /* closes and unlinks the socket */

/* `sluice ctl [-d DIR | --socket PATH] COMMAND [ARGS...]`: argv[0] is "sluice", argv[1] "ctl".
 * Returns the exit status (0 ok, 1 the command was refused, 2 usage or no sluice listening). */
int ctl_client_main(int argc, char **argv);

/* The UI's source behind a running sluice's socket (attach mode, docs/ctl.md#attach-mode).
 * dir names the run in messages (NULL: the path). NULL with err when nothing answers there. */
struct uisrc *ctl_remote_new(struct loop *loop, const char *path, const char *dir, char *err);
/* Bytes received and sent so far (bench/attach.sh). */
void ctl_remote_traffic(struct uisrc *s, uint64_t *in, uint64_t *out);

/* A sluice answers on path (connect succeeds). */
bool ctl_running(const char *path);

/* DIR/.sluice/ctl for an output root. */
char *ctl_default_path(const char *dir);

#endif
