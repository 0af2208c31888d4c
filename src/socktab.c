/* The table of libcurl's sockets (include/socktab.h). A plain array scanned in full: it holds at
 * most libcurl's connection cache (about twice -j), and is searched once per request. */
#include "socktab.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>

struct sockent {
    int fd;
    int *owner;                 /* where a transfer keeps this descriptor, or NULL */
    bool resolved;              /* ports and peer read (after connect) */
    unsigned requests;          /* requests that found it: more than one, the connection is reused */
    int lport, pport;
    char pip[46];
};

struct socktab {
    struct sockent *v;
    size_t n, cap;
    bool by_truesize;           /* the kernel offers buffer x payload/truesize (Linux 6.5 on) */
    int ratio;
};

/* Linux 6.5 replaced tcp_adv_win_scale's fixed half by the ratio of payload to truesize of the
 * packets a socket receives (docs/design.md#receive-windows-the-cap-on-the-wire-at-any-round-trip). */
static bool windows_by_truesize(void)
{
    struct utsname u;
    int major = 0, minor = 0;

    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
        return true;     /* measured then: the ratio found is right on any kernel that has it */
    return major > 6 || (major == 6 && minor >= 5);
}

struct socktab *socktab_new(void)
{
    struct socktab *t = xcalloc(1, sizeof(struct socktab));

    t->by_truesize = windows_by_truesize();
    t->ratio = t->by_truesize ? 0 : 500;
    return t;
}

int socktab_ratio(const struct socktab *t)
{
    return t->ratio;
}

bool socktab_ratio_measured(const struct socktab *t)
{
    return t->by_truesize;
}

void socktab_learn_ratio(struct socktab *t, int ratio_pm)
{
    if (t->by_truesize && ratio_pm > 0)
        t->ratio = ratio_pm;
}

void socktab_free(struct socktab *t)
{
    if (t == NULL)
        return;
    free(t->v);
    free(t);
}

void socktab_add(struct socktab *t, int fd)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xrealloc(t->v, t->cap * sizeof t->v[0]);
    }
    memset(&t->v[t->n], 0, sizeof t->v[0]);
    t->v[t->n].fd = fd;
    t->n++;
}

void socktab_remove(struct socktab *t, int fd)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].fd == fd) {
            if (t->v[i].owner != NULL && *t->v[i].owner == fd)
                *t->v[i].owner = -1;
            t->v[i] = t->v[--t->n];
            return;
        }
    }
}

static int port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return -1;
}

/* Reads the ports and peer once the socket is connected; false while it is not. */
static bool resolve(struct sockent *s)
{
    struct sockaddr_storage l, p;
    socklen_t ll = sizeof l, pl = sizeof p;
    const void *addr;

    if (s->resolved)
        return true;
    if (getsockname(s->fd, (struct sockaddr *)&l, &ll) != 0 ||
        getpeername(s->fd, (struct sockaddr *)&p, &pl) != 0)
        return false;
    s->lport = port_of(&l);
    s->pport = port_of(&p);
    addr = p.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&p)->sin6_addr
                                   : (const void *)&((struct sockaddr_in *)&p)->sin_addr;
    if (inet_ntop(p.ss_family, addr, s->pip, sizeof s->pip) == NULL)
        s->pip[0] = '\0';
    s->resolved = true;
    return true;
}

int socktab_find(struct socktab *t, int local_port, const char *peer_ip, int peer_port, int *owner_fd)
{
    for (size_t i = 0; i < t->n; i++) {
        struct sockent *s = &t->v[i];

        if (!resolve(s) || s->lport != local_port || s->pport != peer_port)
            continue;
        /* The same local port can serve two destinations: the address tells them apart. */
        if (peer_ip != NULL && s->pip[0] != '\0' && strcmp(peer_ip, s->pip) != 0)
            continue;
        if (owner_fd != NULL) {
            *owner_fd = s->fd;
            s->owner = owner_fd;
        }
        s->requests++;
        return s->fd;
    }
    return -1;
}

void socktab_release(struct socktab *t, int fd, int *owner_fd)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].fd == fd && t->v[i].owner == owner_fd) {
            t->v[i].owner = NULL;
            break;
        }
    }
    if (owner_fd != NULL)
        *owner_fd = -1;
}

bool socktab_reused(const struct socktab *t, int fd)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].fd == fd)
            return t->v[i].requests > 1;
    return false;
}

int socktab_count(const struct socktab *t)
{
    return (int)t->n;
}
