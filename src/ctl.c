/* The control socket (docs/ctl.md), server side.
 *
 * Protocol (docs/ctl.md): a client connects to DIR/.sluice/ctl, sends one line
 * "COMMAND ARGS...\n" (at most CTL_LINE_MAX bytes; words split on blanks, "double quotes" group,
 * \" and \\ inside quotes), and reads one answer until the server closes:
 *     ok\n BODY            the command ran; BODY is its output (maybe empty)
 *     error: MESSAGE\n     it was refused; nothing changed
 * Commands and bodies are in ctl_cmd.c's table. A request that ends at EOF without a newline
 * counts as a line, so `printf status | socat - UNIX:...` works too.
 *
 * Everything runs on the event loop and nothing may block it: the sockets are non-blocking, each
 * connection reads into a fixed buffer, an answer that does not fit the socket buffer is written
 * as the peer drains it, and a connection that has not finished within CTL_TIMEOUT_MS is dropped.
 * At most CTL_MAX_CONNS connections are open; more are told so and closed. */
#include "ctl.h"
#include "ctl_cmd.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_TIMEOUT_MS 5000
#define CTL_MAX_CONNS 32
#define CTL_ACCEPT_BURST 64         /* per wakeup, so a flood cannot hold the loop */
#define CTL_RETRY_ACCEPT_MS 1000    /* after EMFILE and the like */

struct ctl_conn {
    struct ctl *c;
    int fd;
    bool answered;                  /* out holds the answer; we only write from now on */
    char in[CTL_LINE_MAX];
    size_t inlen;
    struct sbuf out;
    size_t outoff;
    struct loop_timer *timer;
    struct ctl_conn *prev, *next;
};

struct ctl {
    struct loop *loop;
    struct engine *e;
    struct queue *q;
    const struct settings *s;
    char *path;
    int fd;
    dev_t dev;                      /* of the socket file we bound, so ctl_free never unlinks */
    ino_t ino;                      /* a successor's socket */
    struct loop_timer *accept_timer;
    struct ctl_conn *conns;
    int nconns;
};

char *ctl_default_path(const char *dir)
{
    return xasprintf("%s/.sluice/ctl", dir != NULL && *dir ? dir : ".");
}

static void conn_close(struct ctl_conn *k)
{
    struct ctl *c = k->c;

    loop_unwatch(c->loop, k->fd);
    close(k->fd);
    loop_timer_free(k->timer);
    if (k->prev != NULL)
        k->prev->next = k->next;
    else
        c->conns = k->next;
    if (k->next != NULL)
        k->next->prev = k->prev;
    c->nconns--;
    sbuf_free(&k->out);
    free(k);
}

static void conn_timeout(void *arg)
{
    conn_close(arg);
}

static void on_conn(int fd, unsigned events, void *arg);

/* Writes what the socket takes; closes once everything is out or the peer is gone. */
static void conn_flush(struct ctl_conn *k)
{
    while (k->outoff < k->out.len) {
        ssize_t n = send(k->fd, k->out.s + k->outoff, k->out.len - k->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            k->outoff += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            loop_watch(k->c->loop, k->fd, LOOP_WRITE, on_conn, k);
            return;
        } else {
            break;
        }
    }
    conn_close(k);
}

static void conn_answer(struct ctl_conn *k, size_t len)
{
    k->answered = true;
    ctl_cmd_exec(k->c->e, k->c->s, k->in, len, &k->out);
    conn_flush(k);
}

static void conn_refuse(struct ctl_conn *k, const char *msg)
{
    k->answered = true;
    ctl_cmd_error(&k->out, msg);
    conn_flush(k);
}

static void on_conn(int fd, unsigned events, void *arg)
{
    struct ctl_conn *k = arg;

    if (k->answered) {
        if (events & LOOP_ERROR)
            conn_close(k);
        else
            conn_flush(k);
        return;
    }
    for (;;) {
        size_t room = sizeof k->in - k->inlen;
        ssize_t n;
        char *nl;

        if (room == 0) {
            char msg[96];

            snprintf(msg, sizeof msg, "request longer than %d bytes", CTL_LINE_MAX - 1);
            conn_refuse(k, msg);
            return;
        }
        n = read(fd, k->in + k->inlen, room);
        if (n > 0) {
            nl = memchr(k->in + k->inlen, '\n', (size_t)n);
            k->inlen += (size_t)n;
            if (nl != NULL) {
                conn_answer(k, (size_t)(nl - k->in));
                return;
            }
        } else if (n == 0) {
            if (k->inlen > 0)
                conn_answer(k, k->inlen);
            else
                conn_close(k);
            return;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return;
        } else {
            conn_close(k);
            return;
        }
    }
}

/* The folder is 0700 and the socket 0600, so only our user (and root) get here; the check is for
 * a folder someone loosened by hand. */
static bool peer_allowed(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    return cred.uid == geteuid() || cred.uid == 0;
}

static void conn_new(struct ctl *c, int fd)
{
    struct ctl_conn *k = xcalloc(1, sizeof *k);

    k->c = c;
    k->fd = fd;
    k->next = c->conns;
    if (c->conns != NULL)
        c->conns->prev = k;
    c->conns = k;
    c->nconns++;
    k->timer = loop_timer_new(c->loop, conn_timeout, k);
    loop_timer_arm(k->timer, CTL_TIMEOUT_MS);
    if (c->nconns > CTL_MAX_CONNS) {
        conn_refuse(k, "too many control connections; try again");
        return;
    }
    if (!peer_allowed(fd)) {
        conn_refuse(k, "permission denied");
        return;
    }
    if (loop_watch(c->loop, fd, LOOP_READ, on_conn, k) < 0)
        conn_close(k);
}

static void on_listen(int fd, unsigned events, void *arg);

static void accept_again(void *arg)
{
    struct ctl *c = arg;

    loop_watch(c->loop, c->fd, LOOP_READ, on_listen, c);
}

static void on_listen(int fd, unsigned events, void *arg)
{
    struct ctl *c = arg;

    for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd >= 0) {
            conn_new(c, cfd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        /* Out of descriptors (or worse): the socket stays readable, so rest it a while instead
         * of spinning the loop. */
        loop_watch(c->loop, fd, 0, on_listen, c);
        loop_timer_arm(c->accept_timer, CTL_RETRY_ACCEPT_MS);
        return;
    }
}

static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* Is a sluice answering on path? 1 yes, 0 no (nothing listens: stale), -1 with err. */
static int probe(const struct sockaddr_un *sa, const char *path, char *err)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc;

    if (fd < 0)
        return errf(err, "socket: %s", strerror(errno));
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0 || errno == EAGAIN ||
        errno == EINPROGRESS)
        rc = 1;                     /* EAGAIN: alive, its backlog is full */
    else if (errno == ECONNREFUSED || errno == ENOENT)
        rc = 0;
    else
        rc = errf(err, "cannot check %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

struct ctl *ctl_new(struct loop *loop, struct engine *e, struct queue *q, const struct settings *s,
                    const char *path, char *err)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    const char *dir = s != NULL && s->dir != NULL ? s->dir : ".";
    struct ctl *c = NULL;
    char *folder = folder_of(path);
    struct stat sb;
    mode_t old;
    int fd = -1;

    if (strlen(path) >= sizeof sa.sun_path) {
        errf(err, "the path is too long for a Unix socket (%zu bytes, at most %zu)", strlen(path),
             sizeof sa.sun_path - 1);
        goto fail;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (mkdir(folder, 0700) < 0 && errno != EEXIST) {
        errf(err, "cannot create %s: %s", folder, strerror(errno));
        goto fail;
    }
    /* bind() would follow a link there to wherever it points. */
    if (lstat(folder, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        errf(err, "%s is not a folder", folder);
        goto fail;
    }
    if (lstat(path, &sb) == 0) {
        int live;

        if (!S_ISSOCK(sb.st_mode)) {
            errf(err, "%s exists and is not a socket; not touching it", path);
            goto fail;
        }
        if ((live = probe(&sa, path, err)) < 0)
            goto fail;
        if (live) {
            errf(err, "another sluice is running on %s", dir);
            goto fail;
        }
        /* Left behind by a run that died (kill -9, power loss). */
        if (unlink(path) < 0 && errno != ENOENT) {
            errf(err, "cannot remove the stale socket %s: %s", path, strerror(errno));
            goto fail;
        }
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        errf(err, "socket: %s", strerror(errno));
        goto fail;
    }
    /* Born 0600: no moment in which another user could connect. */
    old = umask(0177);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int saved = errno;

        umask(old);
        if (saved == EADDRINUSE)
            errf(err, "another sluice is running on %s", dir);
        else
            errf(err, "cannot bind %s: %s", path, strerror(saved));
        goto fail;
    }
    umask(old);
    if (chmod(path, 0600) < 0 || listen(fd, 64) < 0 || lstat(path, &sb) < 0) {
        errf(err, "cannot listen on %s: %s", path, strerror(errno));
        unlink(path);
        goto fail;
    }
    c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->e = e;
    c->q = q;
    c->s = s;
    c->path = xstrdup(path);
    c->fd = fd;
    c->dev = sb.st_dev;
    c->ino = sb.st_ino;
    c->accept_timer = loop_timer_new(loop, accept_again, c);
    if (loop_watch(loop, fd, LOOP_READ, on_listen, c) < 0) {
        errf(err, "cannot watch %s: %s", path, strerror(errno));
        fd = -1;                    /* ctl_free closes it */
        ctl_free(c);
        c = NULL;
        goto fail;
    }
    free(folder);
    return c;

fail:
    if (fd >= 0)
        close(fd);
    free(folder);
    return NULL;
}

void ctl_free(struct ctl *c)
{
    struct stat sb;

    if (c == NULL)
        return;
    while (c->conns != NULL)
        conn_close(c->conns);
    loop_unwatch(c->loop, c->fd);
    close(c->fd);
    loop_timer_free(c->accept_timer);
    if (lstat(c->path, &sb) == 0 && sb.st_dev == c->dev && sb.st_ino == c->ino)
        unlink(c->path);
    free(c->path);
    free(c);
}
