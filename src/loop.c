/* epoll + timer list. Timers are few (curl's, the limiter tick, progress, UI), so a linear scan
 * for the nearest deadline is cheaper than a heap and obviously correct. */
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct watcher {
    loop_io_cb cb;
    void *arg;
    unsigned events;
    int active;
    /* Bumped each time the slot starts a new watch: an event fetched in the same epoll batch
     * for a descriptor that was closed and whose number was reused (by another callback of
     * that batch) carries the old generation and is dropped, not given to the new owner. */
    uint32_t gen;
};

struct loop_timer {
    struct loop *loop;
    loop_timer_cb cb;
    void *arg;
    int64_t deadline;    /* -1 = disarmed */
    struct loop_timer *next;
};

struct loop {
    int epfd;
    struct watcher *w;   /* indexed by descriptor */
    int nw;
    struct loop_timer *timers;
    int64_t now;
    struct { loop_hook_cb cb; void *arg; } hooks[LOOP_HOOKS];   /* loop_add_before_sleep */
};

struct loop *loop_new(void)
{
    struct loop *l = xcalloc(1, sizeof *l);

    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        fatal("epoll_create1: %s", strerror(errno));
    l->now = mono_ms();
    return l;
}

void loop_free(struct loop *l)
{
    struct loop_timer *t, *next;

    if (l == NULL)
        return;
    for (t = l->timers; t != NULL; t = next) {
        next = t->next;
        free(t);
    }
    close(l->epfd);
    free(l->w);
    free(l);
}

static uint32_t to_epoll(unsigned events)
{
    return ((events & LOOP_READ) ? EPOLLIN : 0) | ((events & LOOP_WRITE) ? EPOLLOUT : 0);
}

int loop_watch(struct loop *l, int fd, unsigned events, loop_io_cb cb, void *arg)
{
    struct epoll_event ev = { 0 };
    int op;

    if (fd < 0)
        return -1;
    if (fd >= l->nw) {
        int n = l->nw ? l->nw : 64;

        while (n <= fd)
            n *= 2;
        l->w = xrealloc(l->w, (size_t)n * sizeof *l->w);
        memset(l->w + l->nw, 0, (size_t)(n - l->nw) * sizeof *l->w);
        l->nw = n;
    }
    uint32_t gen = l->w[fd].active ? l->w[fd].gen : l->w[fd].gen + 1;

    ev.events = to_epoll(events);
    ev.data.u64 = (uint64_t)(uint32_t)fd | (uint64_t)gen << 32;
    op = l->w[fd].active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ev) < 0) {
        /* Descriptor numbers are reused: a socket closed behind our back leaves a stale entry. */
        if (errno == EEXIST)
            op = EPOLL_CTL_MOD;
        else if (errno == ENOENT)
            op = EPOLL_CTL_ADD;
        else
            return -1;
        if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
            return -1;
    }
    l->w[fd] = (struct watcher){ cb, arg, events, 1, gen };
    return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
    if (fd < 0 || fd >= l->nw || !l->w[fd].active)
        return;
    /* Fails harmlessly with EBADF when the descriptor was already closed (then epoll dropped it). */
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->w[fd].active = 0;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg)
{
    struct loop_timer *t = xcalloc(1, sizeof *t);

    t->loop = l;
    t->cb = cb;
    t->arg = arg;
    t->deadline = -1;
    t->next = l->timers;
    l->timers = t;
    return t;
}

void loop_timer_arm(struct loop_timer *t, int64_t delay_ms)
{
    t->deadline = delay_ms < 0 ? -1 : t->loop->now + delay_ms;
}

int loop_timer_armed(const struct loop_timer *t)
{
    return t->deadline >= 0;
}

void loop_timer_free(struct loop_timer *t)
{
    struct loop_timer **pp;

    if (t == NULL)
        return;
    for (pp = &t->loop->timers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    free(t);
}

void loop_add_before_sleep(struct loop *l, loop_hook_cb cb, void *arg)
{
    for (int i = 0; i < LOOP_HOOKS; i++)
        if (l->hooks[i].cb == NULL) {
            l->hooks[i].cb = cb;
            l->hooks[i].arg = arg;
            return;
        }
    fatal("loop: more than %d hooks before sleep", LOOP_HOOKS);
}

void loop_remove_before_sleep(struct loop *l, loop_hook_cb cb, void *arg)
{
    for (int i = 0; i < LOOP_HOOKS; i++)
        if (l->hooks[i].cb == cb && l->hooks[i].arg == arg)
            l->hooks[i].cb = NULL;
}

int64_t loop_now(const struct loop *l)
{
    return l->now;
}

void loop_update_now(struct loop *l)
{
    l->now = mono_ms();
}

static int run_timers(struct loop *l)
{
    int fired = 0, again = 1;

    /* A callback may free or re-arm any timer, so restart the scan after each one. */
    while (again) {
        again = 0;
        for (struct loop_timer *t = l->timers; t != NULL; t = t->next) {
            if (t->deadline >= 0 && t->deadline <= l->now) {
                t->deadline = -1;
                t->cb(t->arg);
                fired++;
                again = 1;
                break;
            }
        }
    }
    return fired;
}

int loop_run_once(struct loop *l, int64_t max_wait_ms)
{
    struct epoll_event evs[256];
    int64_t wait = max_wait_ms;
    int n, handled;

    for (int i = 0; i < LOOP_HOOKS; i++)
        if (l->hooks[i].cb != NULL)
            l->hooks[i].cb(l->hooks[i].arg);
    l->now = mono_ms();
    for (struct loop_timer *t = l->timers; t != NULL; t = t->next) {
        if (t->deadline >= 0) {
            int64_t d = t->deadline - l->now;

            if (d < 0)
                d = 0;
            if (wait < 0 || d < wait)
                wait = d;
        }
    }
    n = epoll_wait(l->epfd, evs, (int)ARRAY_LEN(evs), wait > 600000 ? 600000 : (int)wait);
    if (n < 0 && errno != EINTR)
        return -1;
    l->now = mono_ms();
    handled = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        unsigned events = 0;

        if (fd >= l->nw || !l->w[fd].active || l->w[fd].gen != gen)
            continue;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
            events |= LOOP_READ;
        if (evs[i].events & EPOLLOUT)
            events |= LOOP_WRITE;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            events |= LOOP_ERROR;
        l->w[fd].cb(fd, events, l->w[fd].arg);
        handled++;
    }
    return handled + run_timers(l);
}
