/* `sluice ctl [-d DIR | --socket PATH] COMMAND [ARGS...]`: one request, one answer (protocol at
 * the top of ctl.c). The command and its number of arguments are checked here against the same
 * table the server uses, so a typo is a usage error (2) without a round trip; the values are the
 * server's to judge (a refusal is 1). */
#include "ctl.h"
#include "ctl_client.h"
#include "ctl_cmd.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_CLIENT_MAX_ANSWER (1024 * 1024)

enum { CTL_OK = 0, CTL_REFUSED = 1, CTL_USAGE = 2 };

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: sluice ctl [-d DIR | --socket PATH] COMMAND [ARGS...]\n"
            "\n"
            "Sends one command to the sluice running on DIR (default .) through its control\n"
            "socket DIR/.sluice/ctl, and prints the answer.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < ctl_cmd_count; i++)
        fprintf(fp, "  %-20s %s\n", ctl_cmd_table[i].usage, ctl_cmd_table[i].help);
    fprintf(fp, "\n"
                "exit status: 0 done, 1 refused by sluice, 2 bad usage or no sluice running\n");
}

/* Sends the request; a peer that stops reading early may still have answered (a refusal), so
 * a failed send is not the end: the caller reads anyway. */
static void send_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

/* Reads until EOF within the deadline. 0, or -1 with err. */
static int read_answer(int fd, struct sbuf *ans, char *err)
{
    int64_t deadline = mono_ms() + CTL_CLIENT_TIMEOUT_MS;
    char buf[4096];

    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = deadline - mono_ms();
        ssize_t n;
        int r;

        if (left <= 0)
            return errf(err, "sluice did not answer within %d s", CTL_CLIENT_TIMEOUT_MS / 1000);
        r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errf(err, "poll: %s", strerror(errno));
        if (r == 0)
            continue;
        n = read(fd, buf, sizeof buf);
        if (n > 0) {
            if (ans->len + (size_t)n > CTL_CLIENT_MAX_ANSWER)
                return errf(err, "the answer is longer than %d bytes", CTL_CLIENT_MAX_ANSWER);
            sbuf_add(ans, buf, (size_t)n);
        } else if (n == 0 || errno == ECONNRESET) {
            return 0;       /* a reset after a refusal: what came before it still counts */
        } else if (errno != EINTR && errno != EAGAIN) {
            return errf(err, "read: %s", strerror(errno));
        }
    }
}

/* Prints the answer; returns the exit status. */
static int show_answer(const struct sbuf *ans, const char *where, FILE *out, FILE *err)
{
    if (ans->len >= 3 && memcmp(ans->s, "ok\n", 3) == 0) {
        fwrite(ans->s + 3, 1, ans->len - 3, out);
        fflush(out);
        return CTL_OK;
    }
    if (ans->len >= 7 && memcmp(ans->s, "error: ", 7) == 0) {
        fputs("sluice ctl: ", err);
        for (size_t i = 7; i < ans->len && ans->s[i] != '\n'; i++) {
            unsigned char c = (unsigned char)ans->s[i];

            fputc(c < 0x20 || c == 0x7f ? '?' : c, err);
        }
        fputc('\n', err);
        return CTL_REFUSED;
    }
    if (ans->len == 0)
        fprintf(err, "sluice ctl: %s closed the connection without answering\n", where);
    else
        fprintf(err, "sluice ctl: unexpected answer from %s\n", where);
    return CTL_USAGE;
}

static int talk(const char *path, const char *dir, const struct sbuf *req, FILE *out, FILE *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct sbuf ans = { 0 };
    char msg[ERRLEN];
    int fd, rc;

    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(err, "sluice ctl: %s: the path is too long for a Unix socket (at most %zu bytes)\n",
                path, sizeof sa.sun_path - 1);
        return CTL_USAGE;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(err, "sluice ctl: socket: %s\n", strerror(errno));
        return CTL_USAGE;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (errno == ENOENT || errno == ECONNREFUSED || errno == ENOTDIR) {
            if (dir != NULL)
                fprintf(err, "sluice ctl: no sluice is running for %s\n", dir);
            else
                fprintf(err, "sluice ctl: no sluice is listening on %s\n", path);
        } else {
            fprintf(err, "sluice ctl: cannot connect to %s: %s\n", path, strerror(errno));
        }
        close(fd);
        return CTL_USAGE;
    }
    send_all(fd, req->s, req->len);
    if (read_answer(fd, &ans, msg) < 0) {
        fprintf(err, "sluice ctl: %s: %s\n", path, msg);
        rc = CTL_USAGE;
    } else {
        rc = show_answer(&ans, dir != NULL ? "sluice" : path, out, err);
    }
    close(fd);
    sbuf_free(&ans);
    return rc;
}

/* Value of an option given as "-d DIR", "-dDIR", "--dir DIR" or "--dir=DIR"; NULL when argv[*i]
 * is not that option. *missing is set when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng,
                             bool *missing)
{
    const char *a = argv[*i];
    size_t ll = strlen(lng);

    if ((shrt != NULL && strcmp(a, shrt) == 0) || strcmp(a, lng) == 0) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        return argv[++*i];
    }
    if (shrt != NULL && strncmp(a, shrt, strlen(shrt)) == 0)
        return a + strlen(shrt);
    if (strncmp(a, lng, ll) == 0 && a[ll] == '=')
        return a + ll + 1;
    return NULL;
}

int ctl_client_run(int argc, char **argv, FILE *out, FILE *err)
{
    const char *dir = NULL, *sock = NULL, *v;
    struct sbuf req = { 0 };
    char msg[ERRLEN];
    char *path;
    int i = 2, rc;

    while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        bool missing = false;

        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(out);
            return CTL_OK;
        }
        if ((v = opt_value(argc, argv, &i, "-d", "--dir", &missing)) != NULL) {
            dir = v;
        } else if ((v = opt_value(argc, argv, &i, NULL, "--socket", &missing)) != NULL) {
            sock = v;
        } else if (missing) {
            fprintf(err, "sluice ctl: %s needs an argument\n", argv[i]);
            return CTL_USAGE;
        } else {
            fprintf(err, "sluice ctl: unknown option %s (sluice ctl --help)\n", argv[i]);
            return CTL_USAGE;
        }
        i++;
    }
    if (dir != NULL && sock != NULL) {
        fprintf(err, "sluice ctl: give -d DIR or --socket PATH, not both\n");
        return CTL_USAGE;
    }
    if (i >= argc) {
        usage(err);
        return CTL_USAGE;
    }
    if (ctl_cmd_check(argc - i, argv + i, msg) == NULL) {
        fprintf(err, "sluice ctl: %s%s\n", msg,
                strncmp(msg, "usage: ", 7) == 0 ? "" : " (sluice ctl --help lists them)");
        return CTL_USAGE;
    }
    if (ctl_cmd_join(argc - i, argv + i, &req, msg) < 0) {
        fprintf(err, "sluice ctl: %s\n", msg);
        sbuf_free(&req);
        return CTL_USAGE;
    }
    if (req.len > CTL_LINE_MAX) {
        fprintf(err, "sluice ctl: the command is longer than %d bytes\n", CTL_LINE_MAX - 1);
        sbuf_free(&req);
        return CTL_USAGE;
    }
    if (sock != NULL) {
        path = xstrdup(sock);
    } else {
        if (dir == NULL || *dir == '\0')
            dir = ".";
        path = ctl_default_path(dir);
    }
    rc = talk(path, sock != NULL ? NULL : dir, &req, out, err);
    free(path);
    sbuf_free(&req);
    return rc;
}

int ctl_client_main(int argc, char **argv)
{
    return ctl_client_run(argc, argv, stdout, stderr);
}
