#ifndef SLUICE_CTL_CMD_H
#define SLUICE_CTL_CMD_H
/* The control protocol's pure half (docs/ctl.md): the command table, request words, answers, and
 * the status JSON and Prometheus renderings. The socket is in ctl.c, the `sluice ctl` client in
 * ctl_client.c; both use this table, so a command is added in one place.
 *
 * Wire format (docs/ctl.md): one request line "COMMAND ARGS...\n" of at most CTL_LINE_MAX bytes,
 * words separated by blanks, a word may be double-quoted ("a b", with \" and \\ inside); one
 * answer, "ok\n" + body or "error: MESSAGE\n", then the server closes. */
#include <stddef.h>
#include <stdint.h>
#include "engine.h"
#include "opts.h"
#include "util.h"

#define CTL_LINE_MAX 8192           /* request line, newline included */
#define CTL_MAX_WORDS 16

struct ctl_cmd {
    const char *name;
    int min, max;                   /* arguments after the name */
    const char *usage;              /* "pause all|ID" */
    const char *help;
    /* argv[0] is the name; argc - 1 is within min..max. Appends the body (each line ending in
     * "\n") to out; returns 0, or -1 with err and nothing changed. s may be NULL. */
    int (*exec)(struct engine *e, const struct settings *s, int argc, char **argv, struct sbuf *out,
                char *err);
};

extern const struct ctl_cmd ctl_cmd_table[];
extern const size_t ctl_cmd_count;

const struct ctl_cmd *ctl_cmd_find(const char *name);
/* The command named by argv[0] with a fitting number of arguments, or NULL with err
 * ("unknown command 'x'" or "usage: rate [RATE]"). */
const struct ctl_cmd *ctl_cmd_check(int argc, char **argv, char *err);

/* Splits one request (without its newline; one trailing "\r" is dropped) into words. Control
 * characters, an unterminated quote, more than CTL_MAX_WORDS words or no words at all are errors.
 * On success *argv is an allocated NULL-terminated vector (ctl_cmd_argv_free). */
int ctl_cmd_split(const char *line, size_t len, int *argc, char ***argv, char *err);
void ctl_cmd_argv_free(char **argv);
/* The request line for argv, quoted where needed, "\n" included. -1 with err when an argument
 * holds a control character (it could not cross the wire intact). */
int ctl_cmd_join(int argc, char **argv, struct sbuf *out, char *err);

/* Runs one request line (without its newline) and appends the whole answer to out:
 * "ok\n" + body, or "error: MESSAGE\n" with the message made printable and kept to one line.
 * Returns 0 when the command succeeded, -1 when it was refused. */
int ctl_cmd_exec(struct engine *e, const struct settings *s, const char *line, size_t len,
                 struct sbuf *out);
/* "error: MESSAGE\n" as ctl_cmd_exec writes it. */
void ctl_cmd_error(struct sbuf *out, const char *msg);

/* One JSON object on one line, "\n" included. */
void ctl_cmd_status_json(const struct engine_stats *st, struct sbuf *out);
/* Prometheus text exposition format 0.0.4. */
void ctl_cmd_metrics(const struct engine_stats *st, struct sbuf *out);

#endif
