/* loop: timers fire in order of deadline; an event fetched for a descriptor that another
 * callback of the same batch closed (and whose number was reused) never reaches the new owner;
 * the hooks before sleep run every turn, in the order added, and a removed one no longer runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "loop.h"

struct pair_state {
    struct loop *loop;
    int a[2], b[2];
    int first;              /* the read end whose callback ran first */
    int reused;             /* the new descriptor that took the closed one's number */
    int new_calls;          /* callbacks for the new descriptor */
    int calls;
};

static void on_new(int fd, unsigned events, void *arg)
{
    struct pair_state *p = arg;

    (void)fd;
    (void)events;
    p->new_calls++;
}

static void on_ready(int fd, unsigned events, void *arg)
{
    struct pair_state *p = arg;
    int other = fd == p->a[0] ? p->b[0] : p->a[0];
    int fresh[2];

    (void)events;
    p->calls++;
    if (p->first >= 0)
        return;
    p->first = fd;
    /* Close the other readable pipe and take its number for a pipe with nothing in it. */
    loop_unwatch(p->loop, other);
    close(other);
    assert_int_equal(pipe(fresh), 0);
    if (fresh[0] != other) {
        assert_true(dup2(fresh[0], other) == other);
        close(fresh[0]);
    }
    p->reused = other;
    close(fresh[1]);
    assert_int_equal(loop_watch(p->loop, other, LOOP_READ, on_new, p), 0);
}

static void stale_event_is_dropped(void **state)
{
    struct pair_state p = { .first = -1, .reused = -1 };

    (void)state;
    p.loop = loop_new();
    assert_int_equal(pipe(p.a), 0);
    assert_int_equal(pipe(p.b), 0);
    assert_int_equal(write(p.a[1], "x", 1), 1);
    assert_int_equal(write(p.b[1], "y", 1), 1);
    loop_watch(p.loop, p.a[0], LOOP_READ, on_ready, &p);
    loop_watch(p.loop, p.b[0], LOOP_READ, on_ready, &p);
    /* Both are ready before the wait, so both events come in one batch. */
    loop_run_once(p.loop, 100);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.new_calls, 0);
    loop_unwatch(p.loop, p.first);
    loop_unwatch(p.loop, p.reused);
    close(p.first);
    close(p.reused);
    close(p.a[1]);
    close(p.b[1]);
    loop_free(p.loop);
}

static int order[3], norder;

static void tick(void *arg)
{
    order[norder++] = (int)(intptr_t)arg;
}

static void timers_fire_by_deadline(void **state)
{
    struct loop *l = loop_new();
    struct loop_timer *t1 = loop_timer_new(l, tick, (void *)1);
    struct loop_timer *t2 = loop_timer_new(l, tick, (void *)2);
    struct loop_timer *t3 = loop_timer_new(l, tick, (void *)3);

    (void)state;
    loop_timer_arm(t1, 30);
    loop_timer_arm(t2, 10);
    loop_timer_arm(t3, 20);
    loop_timer_arm(t3, -1);          /* disarmed: never fires */
    for (int i = 0; i < 50 && norder < 2; i++)
        loop_run_once(l, 100);
    loop_run_once(l, 50);
    assert_int_equal(norder, 2);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_false(loop_timer_armed(t1));
    loop_timer_free(t1);
    loop_timer_free(t2);
    loop_timer_free(t3);
    loop_free(l);
}

static char hook_log[16];
static int nhook;

static void hook(void *arg)
{
    if (nhook < (int)sizeof hook_log - 1)
        hook_log[nhook++] = *(const char *)arg;
}

static void hooks_run_before_each_sleep(void **state)
{
    struct loop *l = loop_new();
    static const char a = 'a', b = 'b';

    (void)state;
    loop_add_before_sleep(l, hook, (void *)&a);
    loop_add_before_sleep(l, hook, (void *)&b);
    loop_run_once(l, 0);
    assert_string_equal(hook_log, "ab");
    loop_remove_before_sleep(l, hook, (void *)&a);
    loop_run_once(l, 0);
    assert_string_equal(hook_log, "abb");
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_event_is_dropped),
        cmocka_unit_test(timers_fire_by_deadline),
        cmocka_unit_test(hooks_run_before_each_sleep),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
