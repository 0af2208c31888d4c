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
 * At most CTL_MAX_CONNS connections are open; more are told so and closed.
 *
 * A first line "attach VERSION" turns the connection into a long-lived one (docs/ctl.md#attach-mode,
 * ctl_attach.c): request lines answered in order, "ok LEN\n" + LEN bytes or "error: MESSAGE\n".
 * It is bounded like the rest: lines are read only while less than ATTACH_OUT_HIGH bytes of
 * answers wait to be written, so a client that asks without reading stops being read; one whose
 * answers do not move for ATTACH_STALL_MS, or that asks nothing for ATTACH_IDLE_MS, is dropped. The
 * engine never waits on it. */
#include "ctl.h"
#include "ctl_attach.h"
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
#define ATTACH_OUT_HIGH (256 * 1024)
#define ATTACH_STALL_MS 10000
#define ATTACH_IDLE_MS 30000        /* the client polls at least once a second */
#define ATTACH_CHECK_MS 1000

struct ctl_conn {
    struct ctl *c;
    int fd;
    bool answered;                  /* out holds the answer; we only write from now on */
    char in[CTL_LINE_MAX];
    size_t inlen;
    struct sbuf out;
    size_t outoff;
    struct loop_timer *timer;
    struct ctl_attach *att;         /* attach mode, or NULL */
    bool eof;                       /* attach mode: the client sent all it will; answer, close */
    int64_t last_req_ms, last_out_ms;
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
    ctl_attach_free(k->att);
    free(k);
}

static void on_conn(int fd, unsigned events, void *arg);
static int attach_serve(struct ctl_conn *k);
static void conn_flush(struct ctl_conn *k);

static void conn_timeout(void *arg)
{
    struct ctl_conn *k = arg;
    int64_t now;

    if (k->att == NULL) {
        conn_close(k);
        return;
    }
    now = loop_now(k->c->loop);
    if ((k->outoff < k->out.len && now - k->last_out_ms >= ATTACH_STALL_MS) ||
        now - k->last_req_ms >= ATTACH_IDLE_MS) {
        conn_close(k);
        return;
    }
    loop_timer_arm(k->timer, ATTACH_CHECK_MS);
}

/* Attach mode: writes what the socket takes and keeps the connection. 0, or -1 when it was
 * closed (the peer is gone). */
static int attach_flush(struct ctl_conn *k)
{
    while (k->outoff < k->out.len) {
        ssize_t n = send(k->fd, k->out.s + k->outoff, k->out.len - k->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n > 0) {
            k->outoff += (size_t)n;
            k->last_out_ms = loop_now(k->c->loop);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            conn_close(k);
            return -1;
        }
    }
    if (k->outoff == k->out.len) {
        k->out.len = k->outoff = 0;
    } else if (k->outoff > ATTACH_OUT_HIGH) {
        memmove(k->out.s, k->out.s + k->outoff, k->out.len - k->outoff);
        k->out.len -= k->outoff;
        k->outoff = 0;
    }
    /* Read only while little waits to be written: a client that asks without reading is not
     * read any more (and dropped after ATTACH_STALL_MS by the timer). */
    loop_watch(k->c->loop, k->fd,
               (!k->eof && k->out.len - k->outoff < ATTACH_OUT_HIGH ? LOOP_READ : 0) |
               (k->outoff < k->out.len ? LOOP_WRITE : 0), on_conn, k);
    return 0;
}

/* Answers the whole lines in k->in while little waits to be written. -1 when the connection
 * was closed. */
static int attach_serve(struct ctl_conn *k)
{
    char *nl;

    while (k->out.len - k->outoff < ATTACH_OUT_HIGH &&
           (nl = memchr(k->in, '\n', k->inlen)) != NULL) {
        size_t len = (size_t)(nl - k->in);

        if (k->outoff == k->out.len)
            k->last_out_ms = loop_now(k->c->loop);  /* the stall clock starts with this answer */
        ctl_attach_exec(k->att, k->in, len, &k->out);
        memmove(k->in, nl + 1, k->inlen - len - 1);
        k->inlen -= len + 1;
        k->last_req_ms = loop_now(k->c->loop);
    }
    if (attach_flush(k) < 0)
        return -1;
    /* A client that closed its side once its requests were sent (a script, socat) gets every
     * answer, then the connection closes; a last line without its newline is not a request. */
    if (k->eof && k->outoff == k->out.len && memchr(k->in, '\n', k->inlen) == NULL) {
        conn_close(k);
        return -1;
    }
    return 0;
}

/* "attach VERSION": the connection stays, with the bytes after the line as its first requests. */
static void attach_start(struct ctl_conn *k, size_t len)
{
    char err[ERRLEN], **argv = NULL;
    int argc;
    char *end;
    long v = -1;

    if (ctl_cmd_split(k->in, len, &argc, &argv, err) == 0 && argc == 2) {
        v = strtol(argv[1], &end, 10);
        if (*end != '\0' || end == argv[1])
            v = -1;
    }
    ctl_cmd_argv_free(argv);
    if (v < CTL_ATTACH_VERSION_MIN || v > CTL_ATTACH_VERSION) {
        char msg[96];

        snprintf(msg, sizeof msg, "usage: attach VERSION (this sluice speaks attach %d to %d)",
                 CTL_ATTACH_VERSION_MIN, CTL_ATTACH_VERSION);
        k->answered = true;
        ctl_cmd_error(&k->out, msg);
        conn_flush(k);
        return;
    }
    k->att = ctl_attach_new(k->c->loop, k->c->e, k->c->q, k->c->s, (int)v);
    memmove(k->in, k->in + len + 1, k->inlen - len - 1);
    k->inlen -= len + 1;
    k->last_req_ms = k->last_out_ms = loop_now(k->c->loop);
    sbuf_printf(&k->out, "ok attach %ld\n", v);
    loop_timer_arm(k->timer, ATTACH_CHECK_MS);
    (void)attach_serve(k);
}

static bool is_attach(const char *line, size_t len)
{
    return len >= 6 && memcmp(line, "attach", 6) == 0 && (len == 6 || line[6] == ' ');
}

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
    if (k->att != NULL) {
        if (events & LOOP_ERROR) {
            conn_close(k);
            return;
        }
        /* Room to write: the answers move on, and the lines held back meanwhile are served. */
        if ((events & LOOP_WRITE) && attach_serve(k) < 0)
            return;
        if (!(events & LOOP_READ) || k->eof)
            return;
    }
    for (;;) {
        size_t room = sizeof k->in - k->inlen;
        ssize_t n;
        char *nl;

        if (room == 0 && k->att != NULL && memchr(k->in, '\n', k->inlen) != NULL) {
            (void)attach_serve(k); /* answers wait to be written: read more later */
            return;
        }
        if (room == 0) {
            char msg[96];

            snprintf(msg, sizeof msg, "request longer than %d bytes", CTL_LINE_MAX - 1);
            conn_refuse(k, msg);
            return;
        }
        n = read(fd, k->in + k->inlen, room);
        if (n > 0 && k->att != NULL) {
            k->inlen += (size_t)n;
            if (attach_serve(k) < 0 || k->out.len - k->outoff >= ATTACH_OUT_HIGH)
                return;
            continue;
        } else if (n > 0) {
            nl = memchr(k->in + k->inlen, '\n', (size_t)n);
            k->inlen += (size_t)n;
            if (nl != NULL && is_attach(k->in, (size_t)(nl - k->in))) {
                attach_start(k, (size_t)(nl - k->in));
                return;
            }
            if (nl != NULL) {
                conn_answer(k, (size_t)(nl - k->in));
                return;
            }
        } else if (n == 0 && k->att != NULL) {
            /* The client closed its side, or went away (killed): what it asked is answered
             * while it still reads; a dead one fails the next write and is closed. */
            k->eof = true;
            (void)attach_serve(k);
            return;
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

bool ctl_running(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    char err[ERRLEN];

    if (strlen(path) >= sizeof sa.sun_path)
        return false;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    return probe(&sa, path, err) == 1;
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
