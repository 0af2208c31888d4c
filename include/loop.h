#ifndef SLUICE_LOOP_H
#define SLUICE_LOOP_H
/* The one event loop: epoll over descriptors plus millisecond timers (redis ae-like).
 * Single-threaded; callbacks run from loop_run_once and may add or remove watchers and timers. */
#include <stdint.h>

#define LOOP_READ  1u
#define LOOP_WRITE 2u
#define LOOP_ERROR 4u   /* reported only, never requested */

struct loop;
struct loop_timer;

typedef void (*loop_io_cb)(int fd, unsigned events, void *arg);
typedef void (*loop_timer_cb)(void *arg);
typedef void (*loop_hook_cb)(void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Adds or changes the watch on fd (events 0 keeps it registered but quiet). */
int loop_watch(struct loop *l, int fd, unsigned events, loop_io_cb cb, void *arg);
void loop_unwatch(struct loop *l, int fd);

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *arg);
/* One-shot: fires delay_ms after the loop's current time; a negative delay disarms it. */
void loop_timer_arm(struct loop_timer *t, int64_t delay_ms);
int loop_timer_armed(const struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/* Hooks run before the loop sleeps, after the callbacks of an iteration, in the order added (at
 * most LOOP_HOOKS); a module that batches its own wakeups per loop turn flushes them here (the
 * writer's). */
#define LOOP_HOOKS 4
void loop_add_before_sleep(struct loop *l, loop_hook_cb cb, void *arg);
void loop_remove_before_sleep(struct loop *l, loop_hook_cb cb, void *arg);

/* Monotonic milliseconds, read once per iteration (one "now" per loop turn, like curl's tool). */
int64_t loop_now(const struct loop *l);
void loop_update_now(struct loop *l);

/* Waits at most max_wait_ms (or until the next timer), then dispatches. Returns -1 on a fatal
 * epoll error, else the number of events handled. */
int loop_run_once(struct loop *l, int64_t max_wait_ms);

#endif
